"""Paging a long list without counting it.

Django's ``Paginator`` counts the whole list to know whether there is a next
page. For an agency that can see hundreds of thousands of cases that count cost
more than the page itself (about 100 ms at 1,000,000 cases, ADR 0006), and the
list shows no total. ``LookaheadPaginator`` reads one row more than a page
instead: if it comes back, there is a next page.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator


class LookaheadPage(Page):
    """A page that knows whether another follows, without the list's total."""

    def __init__(self, object_list: Any, number: int, paginator: Any, *, more: bool) -> None:
        super().__init__(object_list, number, paginator)
        self._more = more

    def has_next(self) -> bool:
        return self._more

    def next_page_number(self) -> int:
        if not self._more:
            raise EmptyPage(self.paginator.error_messages["no_results"])
        return self.number + 1

    def start_index(self) -> int:
        return (self.number - 1) * self.paginator.per_page + 1 if self.object_list else 0

    def end_index(self) -> int:
        return self.start_index() + len(self.object_list) - 1 if self.object_list else 0


class LookaheadPaginator(Paginator):
    """``get_page`` reads ``per_page + 1`` rows; ``count`` is never used on the way.

    A page number past the end (a bookmark to a list that has since shrunk)
    falls back to counting once and shows the last page, as Django's
    ``Paginator.get_page`` does.
    """

    def get_page(self, number: Any) -> Page:
        try:
            number = self.validate_number_lookahead(number)
        except PageNotAnInteger:
            number = 1
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and number > 1:
            return super().get_page(number)  # past the end: count, show the last page
        return LookaheadPage(rows[: self.per_page], number, self, more=len(rows) > self.per_page)

    def validate_number_lookahead(self, number: Any) -> int:
        """A whole number of 1 or more; whether that page exists is found by reading it."""
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError) as exc:
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from exc
        return max(number, 1)
