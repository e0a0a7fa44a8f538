"""``{% url %}`` exactly as Django's, building object pages' paths through
``csf_portal.urlpaths.path_to`` (a list of 50 cases links 50 case pages).

Registered as a template builtin (``settings.TEMPLATES``), after Django's own, so
every template's ``{% url %}`` is this one. Keyword arguments, strings and
anything ``path_to`` cannot build exactly go to Django's ``reverse`` unchanged.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.template import defaulttags
from django.template.base import Parser, Token
from django.urls import NoReverseMatch
from django.utils.html import conditional_escape

from csf_portal.urlpaths import path_to

register = template.Library()


class URLNode(defaulttags.URLNode):
    def render(self, context: template.Context) -> str:
        if self.kwargs:
            return super().render(context)
        args = [arg.resolve(context) for arg in self.args]
        view_name = self.view_name.resolve(context)
        try:
            current_app = context.request.current_app  # type: ignore[attr-defined]
        except AttributeError:
            try:
                current_app = context.request.resolver_match.namespace  # type: ignore[attr-defined]
            except AttributeError:
                current_app = None
        url: Any = ""
        try:
            url = path_to(view_name, args, current_app=current_app)
        except NoReverseMatch:
            if self.asvar is None:
                raise
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser: Parser, token: Token) -> URLNode:
    """Django's ``{% url %}`` syntax, parsed by Django."""
    node = defaulttags.url(parser, token)
    return URLNode(node.view_name, node.args, node.kwargs, node.asvar)
