"""The access layer reads the domain's models and nothing above them; forums never
reads reports (reports read everything, nothing reads reports)."""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APPS = ("assessments", "cases", "consent", "forums", "referrals", "reports")


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_access_imports_only_core_and_the_domain_models():
    wrong = sorted(
        f"{path.relative_to(ROOT)}: {name}"
        for path in (ROOT / "access").rglob("*.py")
        for name in imported(path)
        if name.split(".")[0] in APPS and name.split(".")[1:2] != ["models"]
    )
    assert wrong == []


def test_forums_does_not_import_reports():
    wrong = sorted(
        f"{path.relative_to(ROOT)}: {name}"
        for path in (ROOT / "forums").rglob("*.py")
        for name in imported(path)
        if name.split(".")[0] == "reports"
    )
    assert wrong == []
