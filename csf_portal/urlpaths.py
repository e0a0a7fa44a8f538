"""Paths to the portal's pages without working each one out from the URLconf.

Django's ``reverse`` walks the URLconf's candidates for a name on every call: about
27 µs for a case's page here, and a list of 50 cases links 50 of them (ADR 0006).
A page's path changes only in the values put into it, so ``path_to`` reverses a
name once with stand-in values of the same kinds and afterwards puts the real
values where the stand-ins were.

Only for what that is exact for: no arguments, or positional UUIDs and
non-negative integers, which Django's ``uuid`` and ``int`` converters (and ``str``,
``slug`` and ``path``) write as ``str(value)``. Anything else (strings, keyword
arguments, a pattern that rejects the stand-ins) goes to ``reverse`` as before,
and so does a pattern where two different sets of stand-ins disagree. The portal's
URLconf uses only Django's converters (a test fails on any other, or on a regex
with groups outside the admin sites), and a test checks that every name with
arguments gives the same path both ways.

The worked-out shapes are kept per process, keyed by the URLconf, the script
prefix and the current application as well as the name, so a request served
under another prefix or URLconf never gets another's path.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse

# Two stand-ins per kind and position: if the paths from both don't have the same
# shape, the pattern treats values differently and is left to ``reverse``.
_STAND_INS: dict[type, tuple[tuple[Any, ...], tuple[Any, ...]]] = {
    uuid.UUID: (
        tuple(uuid.UUID(int=0x5E17_1E11 + i) for i in range(8)),
        tuple(uuid.UUID(int=(0xA5A5 << 100) + i) for i in range(8)),
    ),
    int: (
        tuple(9_173_500_000 + i for i in range(8)),
        tuple(40_001 + i for i in range(8)),
    ),
}
_shapes: dict[tuple[Any, ...], tuple[str, ...] | None] = {}


def _shape(
    view_name: str, kinds: tuple[type, ...], current_app: str | None
) -> tuple[str, ...] | None:
    """The path split around its arguments, or None where ``reverse`` must decide."""
    if len(kinds) > 8:
        return None
    shapes = []
    for which in (0, 1):
        values = [_STAND_INS[kind][which][i] for i, kind in enumerate(kinds)]
        try:
            path = reverse(view_name, args=values, current_app=current_app)
        except NoReverseMatch:
            return None
        parts: list[str] = []
        rest = path
        for value in values:
            text = str(value)
            if rest.count(text) != 1:
                return None
            before, rest = rest.split(text)
            parts.append(before)
        parts.append(rest)
        shapes.append(tuple(parts))
    return shapes[0] if shapes[0] == shapes[1] else None


def path_to(view_name: str, args: Sequence[Any] = (), current_app: str | None = None) -> str:
    """``reverse(view_name, args=args, current_app=current_app)``, cheaply where exact."""
    kinds = tuple(type(a) for a in args)
    if all(k is uuid.UUID or (k is int and a >= 0) for k, a in zip(kinds, args, strict=True)):
        key = (get_urlconf(), get_script_prefix(), current_app, view_name, kinds)
        if key in _shapes:
            shape = _shapes[key]
        else:
            shape = _shapes[key] = _shape(view_name, kinds, current_app)
        if shape is not None:
            if not args:
                return shape[0]
            pieces = [shape[0]]
            for value, after in zip(args, shape[1:], strict=True):
                pieces.append(str(value))
                pieces.append(after)
            return "".join(pieces)
    return reverse(view_name, args=list(args), current_app=current_app)
