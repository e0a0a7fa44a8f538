"""Views stay thin: they never query a model themselves, and none grows past a screenful.

A static check over each checked app's ``views.py``, read with :mod:`ast` so formatting
cannot hide a call:

1. **No model queries in views.** No function or method in a ``views.py`` touches a
   model manager (``<anything>.objects``), builds a queryset on a relation
   (``meeting.items.filter(...)``: the methods in ``QUERYSET_METHODS``) or fetches a
   model by ``get_object_or_404``/``get_list_or_404``: reads go through the app's
   selectors or the access layer (scoped to the user, one 404 for "missing" and "not
   allowed"; the selector owns ``select_related``), writes through its services.
2. **No view over 40 lines.** A view function, or a class-based view summed over its
   methods, is at most ``MAX_VIEW_LINES`` lines long. A longer one is split into a thin
   view and form, selector or service helpers.

Each violation is printed as ``path:line: what``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)

# Every app with views is held to these rules.
CHECKED_APPS = (
    "assessments",
    "cases",
    "consent",
    "csf_portal",
    "forums",
    "pages",
    "referrals",
    "reports",
)

MAX_VIEW_LINES = 40

FETCHES = frozenset({"get_object_or_404", "get_list_or_404"})

# Queryset methods no other object in a view has (``.get``, ``.first``, ``.count`` and
# ``.values`` are left out: dicts, query strings and lists have them too).
QUERYSET_METHODS = frozenset(
    {
        "aggregate",
        "all",
        "annotate",
        "defer",
        "distinct",
        "exclude",
        "exists",
        "filter",
        "only",
        "order_by",
        "prefetch_related",
        "select_related",
        "values_list",
    }
)

# Functions allowed to query, each with its reason (none today).
QUERY_ALLOWED: set[tuple[str, str]] = set()


def _views(app: str) -> Path:
    return ROOT / app / "views.py"


def _span(node: ast.AST) -> int:
    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    assert node.end_lineno is not None
    return node.end_lineno - first + 1


def _functions(tree: ast.Module) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Every function and method, named as ``func`` or ``Class.method``."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node.name, node
        elif isinstance(node, ast.ClassDef):
            for member in node.body:
                if isinstance(member, ast.FunctionDef | ast.AsyncFunctionDef):
                    yield f"{node.name}.{member.name}", member


def query_violations(path: Path, relative: str) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for name, function in _functions(tree):
        if (relative, name.split(".")[0]) in QUERY_ALLOWED:
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Attribute) and node.attr == "objects":
                found.append(f"{relative}:{node.lineno}: {name} uses .objects")
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in QUERYSET_METHODS
            ):
                found.append(f"{relative}:{node.lineno}: {name} queries .{node.func.attr}()")
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name | ast.Attribute)
                and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr) in FETCHES
            ):
                found.append(f"{relative}:{node.lineno}: {name} fetches a model itself")
    return found


def length_violations(path: Path, relative: str) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = _span(node)
        elif isinstance(node, ast.ClassDef):
            length = sum(
                _span(member)
                for member in node.body
                if isinstance(member, ast.FunctionDef | ast.AsyncFunctionDef)
            )
        else:
            continue
        if length > MAX_VIEW_LINES:
            found.append(f"{relative}:{node.lineno}: {node.name} is {length} lines long")
    return found


@pytest.mark.parametrize("app", CHECKED_APPS)
def test_views_never_query_models_themselves(app):
    violations = query_violations(_views(app), f"{app}/views.py")
    assert not violations, "\n".join(violations)


@pytest.mark.parametrize("app", CHECKED_APPS)
def test_no_view_is_longer_than_forty_lines(app):
    violations = length_violations(_views(app), f"{app}/views.py")
    assert not violations, "\n".join(violations)


def test_the_checks_catch_a_fat_view(tmp_path):
    """Both rules find what they are for (else they would pass on anything)."""
    body = "\n".join(f"    x{i} = {i}" for i in range(40))
    method_body = "\n".join(f"        x{i} = {i}" for i in range(40))
    source = (
        "from cases.models import Case\n\n"
        "def case_page(request, pk):\n"
        "    case = Case.objects.get(pk=pk)\n"
        f"{body}\n"
        "    return case\n\n"
        "class ItemView:\n"
        "    def get(self, request, pk):\n"
        "        return get_object_or_404(Item, pk=pk)\n\n"
        "    def put(self, request, pk):\n"
        "        return list(self.meeting.items.order_by('order'))\n\n"
        "    def post(self, request, pk):\n"
        f"{method_body}\n"
    )
    path = tmp_path / "views.py"
    path.write_text(source)
    assert query_violations(path, "x/views.py") == [
        "x/views.py:4: case_page uses .objects",
        "x/views.py:49: ItemView.get fetches a model itself",
        "x/views.py:52: ItemView.put queries .order_by()",
    ]
    assert length_violations(path, "x/views.py") == [
        "x/views.py:3: case_page is 43 lines long",
        "x/views.py:47: ItemView is 45 lines long",
    ]


def test_every_service_and_selector_module_is_type_checked_strictly():
    """mypy's strict flags cover the access layer and every services and selectors module,
    new ones included (pyproject.toml, ``[[tool.mypy.overrides]]``)."""
    import tomllib

    overrides = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["overrides"]
    strict = next(o for o in overrides if o.get("disallow_untyped_defs"))
    assert strict.get("disallow_any_generics") and strict.get("warn_return_any")
    covered = set(strict["module"])
    modules = {
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for pattern in ("*/services.py", "*/selectors.py")
        for path in ROOT.glob(pattern)
        if path.parts[-2] not in {"tests", "demo"}
    }
    packages = {path.parent.parent.name for path in ROOT.glob("*/services/__init__.py")}
    assert modules - covered == set()
    assert {f"{app}.services.*" for app in packages} - covered == set()
    assert {"access", "access.*"} <= covered
