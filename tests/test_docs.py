"""The docs stay true to the code (issue 25).

Every ADR says under its title whether it holds and since when, and every function the
README's code map names as the home of a rule of DESIGN §4 exists, so the map cannot
quietly point at a function that was renamed or removed, nor drop one that ADR 0009 (the
access model) names. The checks are plain functions,
and each is also shown failing on a broken input.
"""

from __future__ import annotations

import datetime
import importlib
import itertools
import re
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT

ADRS = sorted((ROOT / "docs" / "adr").glob("*.md"))
README = (ROOT / "README.md").read_text()
RULE_TABLE_HEADING = "### Where each rule of DESIGN §4 lives"
DESIGN_RULES = {"1", "2", "3", "4", "5", "6"}
_MISSING = object()


def adr_header_problems(text: str) -> list[str]:
    """What is wrong with an ADR's header: a title, then Status and Date lines, in that order."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines or not lines[0].startswith("# "):
        return ["no title on the first line"]
    problems = []
    status = lines[1] if len(lines) > 1 else ""
    date = lines[2] if len(lines) > 2 else ""
    if not re.fullmatch(r"Status: \S.*", status):
        problems.append(f"no 'Status:' line under the title (found {status!r})")
    match = re.fullmatch(r"Date: (\d{4}-\d{2}-\d{2})", date)
    if match is None:
        problems.append(f"no 'Date: YYYY-MM-DD' line under the Status line (found {date!r})")
    else:
        try:
            datetime.date.fromisoformat(match[1])
        except ValueError:
            problems.append(f"{match[1]} is not a date")
    return problems


def section(text: str, heading: str) -> str:
    """The text under a Markdown heading, up to the next heading of the same or a higher level."""
    level = len(heading) - len(heading.lstrip("#"))
    start = text.index(heading + "\n") + len(heading) + 1
    stop = re.compile(rf"^#{{1,{level}}} ", re.MULTILINE).search(text, start)
    return text[start : stop.start() if stop else len(text)]


def rule_table_rows(text: str) -> list[list[str]]:
    """The rule table's rows (header and separator left out), as lists of cells."""
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in section(text, RULE_TABLE_HEADING).splitlines()
        if line.startswith("|")
    ]
    return [row for row in rows[2:] if row]


def named_functions(cell: str) -> list[str]:
    """Every dotted name in backticks in a cell: `module.function` or `module.Class.attr`."""
    return [name for name in re.findall(r"`([A-Za-z_][\w.]*)`", cell) if "." in name]


def resolve(dotted: str) -> Any:
    """The object a dotted name names: the longest importable module, then attributes."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attr in parts[split:]:
            obj = getattr(obj, attr, _MISSING)
            if obj is _MISSING:
                return _MISSING
        return obj
    return _MISSING


def test_there_are_adrs():
    assert len(ADRS) >= 9
    assert [path.name[:4] for path in ADRS] == [f"{n:04d}" for n in range(1, len(ADRS) + 1)]


@pytest.mark.parametrize("path", ADRS, ids=lambda path: path.name)
def test_every_adr_has_status_and_date_under_its_title(path: Path):
    assert adr_header_problems(path.read_text()) == []


def test_a_missing_status_or_date_is_caught():
    good = "# 1. A decision\n\nStatus: Accepted\nDate: 2026-11-22\n\n## Context\n"
    assert adr_header_problems(good) == []
    assert adr_header_problems(good.replace("Status: Accepted\n", ""))
    assert adr_header_problems(good.replace("Date: 2026-11-22\n", ""))
    assert adr_header_problems(good.replace("2026-11-22", "2026-13-01"))
    assert adr_header_problems("# 1. A decision\n\n## Context\n")


def test_the_rule_table_covers_every_rule_of_design_section_4():
    rows = rule_table_rows(README)
    assert all(len(row) == 4 for row in rows), [row for row in rows if len(row) != 4]
    named = {rule.strip() for row in rows for rule in row[0].split(",")}
    assert named == DESIGN_RULES
    assert all(named_functions(row[2]) for row in rows), "a rule without its function"


def test_every_function_the_rule_table_names_exists():
    names = [name for row in rule_table_rows(README) for name in named_functions(row[2])]
    assert len(names) >= 40
    assert [name for name in names if resolve(name) is _MISSING] == []


def adr_table_names(text: str) -> set[str]:
    """The last part of every name in the "one function" column of ADR 0009's table."""
    lines = text[text.index("| rule | the one function |") :].splitlines()
    rows = list(itertools.takewhile(lambda line: line.startswith("|"), lines))[2:]
    cells = [row.strip().strip("|").split("|")[1] for row in rows]
    tokens = [
        token.removesuffix("()") for cell in cells for token in re.findall(r"`([^`]+)`", cell)
    ]
    return {token.split(".")[-1] for token in tokens if re.fullmatch(r"[A-Za-z_][\w.]*", token)}


def test_the_rule_table_keeps_every_function_adr_0009_names():
    adr = (ROOT / "docs" / "adr" / "0009-the-access-model.md").read_text()
    in_adr = adr_table_names(adr)
    assert {"active", "can_view_case", "forum_decision_allows", "user_roles_set"} <= in_adr
    table = section(README, RULE_TABLE_HEADING)
    in_readme = {token.split(".")[-1] for token in re.findall(r"`([A-Za-z_][\w.]*)`", table)}
    assert sorted(in_adr - in_readme) == []


def test_the_rule_table_names_the_history_guard_and_the_write_paths_test():
    table = section(README, RULE_TABLE_HEADING)
    for name in (
        "`csf_portal.history.acting_as`",
        "`tests/history_guard.py`",
        "`tests/test_write_paths.py`",
    ):
        assert name in table


def test_a_function_removed_from_the_code_is_caught():
    assert resolve("access.can_view_case") is not _MISSING
    assert resolve("consent.models.ConsentRecord.objects.current") is not _MISSING
    assert resolve("access.can_view_case_removed") is _MISSING
    assert resolve("csf_portal.no_such_module.can_view_case") is _MISSING
    assert resolve("no_such_package.function") is _MISSING
    table = f"{RULE_TABLE_HEADING}\n\n| rule | what | the one function | by |\n|---|---|---|---|\n"
    row = "| 1 | seen | `access.can_view_case_removed` | pages |\n"
    names = [name for r in rule_table_rows(table + row) for name in named_functions(r[2])]
    assert names == ["access.can_view_case_removed"]
    assert resolve(names[0]) is _MISSING


def test_every_path_the_code_map_names_exists():
    code_map = section(README, "## Code map")
    paths = [
        token
        for token in re.findall(r"`([^`\s]+)`", code_map)
        if "/" in token and not token.startswith("/") and not set("<*") & set(token)
    ]
    assert len(paths) >= 30
    assert [path for path in paths if not (ROOT / path).exists()] == []
