"""``path_to`` and the portal's ``{% url %}`` give exactly what Django's ``reverse`` gives."""

from __future__ import annotations

import uuid

import pytest
from django.template import engines
from django.test import override_settings
from django.urls import (
    NoReverseMatch,
    URLPattern,
    URLResolver,
    clear_script_prefix,
    get_resolver,
    path,
    reverse,
    set_script_prefix,
)
from django.urls.converters import (
    IntConverter,
    PathConverter,
    SlugConverter,
    StringConverter,
    UUIDConverter,
)
from django.urls.resolvers import RegexPattern

from csf_portal.urlpaths import path_to


def _named(patterns, namespace=""):
    """(name, converters in order) for every named pattern, namespaces included."""
    for p in patterns:
        if isinstance(p, URLResolver):
            inner = f"{namespace}{p.namespace}:" if p.namespace else namespace
            outer = list(p.pattern.converters.values()) if hasattr(p.pattern, "converters") else []
            for name, converters in _named(p.url_patterns, inner):
                yield name, outer + converters
        elif isinstance(p, URLPattern) and p.name:
            converters = getattr(p.pattern, "converters", {})
            yield f"{namespace}{p.name}", list(converters.values())


def _values(converter, seed: int):
    if isinstance(converter, UUIDConverter):
        return uuid.UUID(int=seed * 7919 + 17)
    if isinstance(converter, IntConverter):
        return seed * 31
    return None


NAMES = sorted(
    {
        (name, tuple(type(c).__name__ for c in converters))
        for name, converters in _named(get_resolver().url_patterns)
        if converters and all(isinstance(c, UUIDConverter | IntConverter) for c in converters)
    }
)
CONVERTERS = {
    name: converters
    for name, converters in _named(get_resolver().url_patterns)
    if converters and all(isinstance(c, UUIDConverter | IntConverter) for c in converters)
}


def test_the_walk_found_the_object_pages():
    names = {n for n, _ in NAMES}
    assert {"cases:detail", "forums:meeting", "forums:action", "referrals:detail"} <= names
    assert len(names) > 30


def _patterns(patterns, namespace=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield namespace, p.pattern
            yield from _patterns(p.url_patterns, f"{namespace}{p.namespace or ''}:")
        else:
            yield namespace, p.pattern


def test_every_pattern_uses_what_path_to_is_exact_for():
    """path_to is exact for Django's own converters. A custom converter, or a regex
    taking numbers, could accept its stand-ins and refuse a real value: check it
    with path_to before adding it here. The admin sites' app lists take names only."""
    builtin = (IntConverter, UUIDConverter, StringConverter, SlugConverter, PathConverter)
    for namespace, pattern in _patterns(get_resolver().url_patterns):
        for converter in getattr(pattern, "converters", {}).values():
            assert isinstance(converter, builtin), (namespace, str(pattern))
        if isinstance(pattern, RegexPattern) and pattern.regex.groupindex:
            assert namespace.rstrip(":").endswith("admin"), (namespace, str(pattern))


@pytest.mark.parametrize(("name", "kinds"), NAMES)
def test_every_object_page_has_the_same_path_both_ways(name, kinds):
    converters = CONVERTERS[name]
    for seed in (0, 1, 12345):
        args = [_values(c, seed + i) for i, c in enumerate(converters)]
        assert path_to(name, args) == reverse(name, args=args)


def test_pages_without_arguments_and_other_arguments_are_reversed_as_before():
    assert path_to("home") == reverse("home") == "/"
    assert path_to("cases:list") == reverse("cases:list")
    text = str(uuid.uuid4())  # a string is left to reverse, which accepts it for a uuid
    assert path_to("cases:detail", [text]) == reverse("cases:detail", args=[text])


@pytest.mark.parametrize("args", [[5], [-1], [True], [uuid.uuid4(), uuid.uuid4()]])
def test_what_reverse_refuses_path_to_refuses(args):
    with pytest.raises(NoReverseMatch):
        reverse("cases:detail", args=args)
    with pytest.raises(NoReverseMatch):
        path_to("cases:detail", args)


def test_the_script_prefix_is_part_of_the_path():
    case = uuid.uuid4()
    plain = path_to("cases:detail", [case])
    set_script_prefix("/portal/")
    try:
        assert path_to("cases:detail", [case]) == reverse("cases:detail", args=[case])
        assert path_to("cases:detail", [case]) == "/portal" + plain
    finally:
        clear_script_prefix()
        set_script_prefix("/")
    assert path_to("cases:detail", [case]) == plain


def _view(request, **kwargs):  # pragma: no cover - only reversed, never served
    raise AssertionError


urlpatterns = [
    path("numbered/<int:pk>/", _view, name="numbered"),
    path("cases/<int:pk>/", _view, name="home"),
    path("twice/<uuid:a>/and/<uuid:b>/", _view, name="twice"),
    path("free/<str:slug>/", _view, name="free"),
]


@override_settings(ROOT_URLCONF=__name__)
def test_another_urlconf_gets_its_own_paths():
    assert path_to("home", [7]) == reverse("home", args=[7]) == "/cases/7/"
    a, b = uuid.uuid4(), uuid.uuid4()
    assert path_to("twice", [a, b]) == f"/twice/{a}/and/{b}/"
    assert path_to("free", [42]) == reverse("free", args=[42]) == "/free/42/"
    assert path_to("free", [a]) == f"/free/{a}/"
    with pytest.raises(NoReverseMatch):
        path_to("numbered", [-3])
    with pytest.raises(NoReverseMatch):
        path_to("numbered", [a])


def test_the_url_tag_renders_as_djangos():
    case, risk = uuid.uuid4(), 4
    template = engines["django"].from_string(
        "{% url 'cases:detail' case %}|{% url 'cases:care_plan_version' case risk %}|"
        "{% url 'cases:detail' pk=case %}|{% url 'cases:detail' case as there %}[{{ there }}]|"
        "{% url 'cases:detail' 'not-a-uuid' as nowhere %}[{{ nowhere }}]|{% url 'home' %}"
    )
    rendered = template.render({"case": case, "risk": risk})
    detail = reverse("cases:detail", args=[case])
    assert rendered == (
        f"{detail}|{reverse('cases:care_plan_version', args=[case, risk])}|{detail}|[{detail}]|[]|/"
    )
    with pytest.raises(NoReverseMatch):
        engines["django"].from_string("{% url 'cases:detail' 5 %}").render({})
