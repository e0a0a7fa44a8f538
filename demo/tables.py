"""The demo's tables that are data rather than code, read from ``demo/data/``.

Each is a TOML file (stdlib ``tomllib``) holding the fictional city's people,
stories and records as plain values; the builder beside it turns the values back
into the models' own choices and checks them as it goes.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"


def load(name: str) -> dict[str, Any]:
    """The contents of ``demo/data/<name>.toml``."""
    with (DATA / f"{name}.toml").open("rb") as file:
        return tomllib.load(file)
