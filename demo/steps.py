"""What every demo builder does around a service call: act as a user, then backdate.

The builders make each change through the portal's own services, today, then move
it (and the history rows it wrote) back to when it happened in the fictional year.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.http import HttpRequest
from simple_history.models import HistoricalRecords

from cases.models import CaseVisibility
from csf_portal.models import User


@contextmanager
def signed_in(user: User) -> Iterator[None]:
    """Changes made as ``user`` in the portal: history rows name them, as in a request."""
    request = HttpRequest()
    request.user = user
    HistoricalRecords.context.request = request
    try:
        yield
    finally:
        del HistoricalRecords.context.request


def backdate(
    model: Any, pk: Any, *, since: datetime.datetime, at: datetime.datetime, **dates: Any
) -> None:
    """Move the step just taken, and its history rows, back to when it happened."""
    if dates:
        model.objects.filter(pk=pk).update(**dates)
    model.history.filter(id=pk, history_date__gte=since).update(history_date=at)


def activity_restore(
    *,
    latest: Mapping[Any, datetime.datetime],
    by: str,
    activity: Mapping[tuple[Any, Any], datetime.datetime],
) -> None:
    """Put the case lists' "last activity" back to when something really happened.

    ``latest`` is the builder's latest backdated step for each value of ``by``
    (``case_id`` or ``person_id``); ``activity``, each (case, agency) row's own
    moment from before, which stands if it is later.
    """
    for key, last in latest.items():
        for row in CaseVisibility.objects.filter(**{by: key}):
            before = activity.get((row.case_id, row.agency_id))
            when = max(before, last) if before is not None else last
            if row.last_activity_at != when:
                CaseVisibility.objects.filter(pk=row.pk).update(last_activity_at=when)
