"""The import layering of ADR 0010 holds, and the contracts that state it can fail.

`make lint` runs `lint-imports` on the repository; these tests run it too, and run it on a
scratch copy of the code with one forbidden import added, so a contract that stopped
catching anything (a typo in a module name, a layer left out) fails here.
"""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _packages() -> list[str]:
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    return config["importlinter"]["root_packages"].split()


def _lint(where: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(where / ".importlinter")],
        cwd=where,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The portal's Python packages and contracts, copied (sources only)."""
    where = tmp_path_factory.mktemp("layers")
    shutil.copy(ROOT / ".importlinter", where / ".importlinter")
    for package in _packages():
        shutil.copytree(
            ROOT / package,
            where / package,
            ignore=shutil.ignore_patterns("__pycache__", "migrations", "data", "*.toml"),
        )
    return where


def test_every_app_and_the_tools_are_in_the_contracts():
    installed = {app.split(".")[0] for app in settings.INSTALLED_APPS}
    ours = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists() and p.name != "tests"}
    assert ours <= set(_packages())
    assert {"csf_portal", "access", "pages", "demo"} <= set(_packages())
    assert ours - {"access"} <= installed


def test_the_repository_keeps_every_contract():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        # an app importing one above it
        ("cases/upward.py", "import forums.services", "Apps import only the apps below them"),
        # the core knowing a feature app
        ("csf_portal/upward.py", "import cases.models", "Apps import only the apps below them"),
        # the access layer reaching past the apps' models
        ("access/upward.py", "import cases.services", "Apps import only the apps below them"),
        # a model importing the rules back
        ("consent/models.py", "import access", "Models are data"),
        # a selector calling a service of its own app
        ("referrals/selectors.py", "import referrals.services", "Inside each app"),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    scratch: Path, module: str, line: str, contract: str
):
    target = scratch / module
    before = target.read_text() if target.exists() else None
    target.write_text((before or "") + f"\n{line}\n")
    try:
        result = _lint(scratch)
    finally:
        if before is None:
            target.unlink()
        else:
            target.write_text(before)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert contract in result.stdout
    assert module.removesuffix(".py").replace("/", ".") in result.stdout
