"""The demo package stands beside the portal: the domain builds no demo, and imports none.

Demo and scale data are a tool of their own (``demo/``): a domain app that imported
from it would make the portal depend on its fictional city, and a builder left in a
domain app would put demo data back among the rules.
"""

from __future__ import annotations

import ast

from tests.helpers import ROOT

# Every package of the portal beside the demo and the tests: the apps, the access
# layer and the core, and any app added later.
DOMAIN = tuple(
    sorted(
        path.name
        for path in ROOT.iterdir()
        if (path / "__init__.py").exists() and path.name not in {"demo", "tests"}
    )
)


def imports_of(source: str, filename: str = "<source>") -> set[str]:
    """Every module a Python source imports (``from x import y`` names ``x``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def demo_imports(files: dict[str, str]) -> list[str]:
    """``path: module`` for each import of the demo package among ``files``."""
    return sorted(
        f"{path}: {module}"
        for path, source in files.items()
        for module in imports_of(source, path)
        if module == "demo" or module.startswith("demo.")
    )


def domain_sources() -> dict[str, str]:
    return {
        file.relative_to(ROOT).as_posix(): file.read_text(encoding="utf-8")
        for app in DOMAIN
        for file in sorted((ROOT / app).rglob("*.py"))
    }


def test_the_domain_is_every_package_but_the_demo_and_the_tests():
    assert {"access", "cases", "csf_portal", "forums", "referrals", "reports"} <= set(DOMAIN)


def test_no_domain_app_imports_the_demo_package():
    assert demo_imports(domain_sources()) == []


def test_the_check_sees_an_import_of_the_demo_package():
    files = {
        "cases/views.py": "from demo.cases import CSF_LOCATION\nimport demo.scale\n",
        "forums/views.py": "from demography import x\nfrom . import demo\n",
    }
    assert demo_imports(files) == ["cases/views.py: demo.cases", "cases/views.py: demo.scale"]


def test_no_demo_or_scale_builder_lives_in_a_domain_app():
    builders = [
        path
        for path in domain_sources()
        if path.rsplit("/", 1)[-1] in {"demo.py", "scale.py", "benchmark.py", "settings_bench.py"}
        or path.endswith(("/commands/seed_demo.py", "/commands/bench.py", "/commands/bench_pdf.py"))
    ]
    assert builders == []
