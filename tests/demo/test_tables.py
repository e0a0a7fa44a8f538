"""The demo's data files: each is read by a builder, and a stale value fails at once."""

from __future__ import annotations

import re

import pytest

from demo import tables
from demo.referrals import REFERRALS, _referral
from tests.helpers import ROOT


def test_every_data_file_is_read_by_a_builder():
    sources = "\n".join(p.read_text() for p in (ROOT / "demo").rglob("*.py"))
    read = set(re.findall(r'tables\.load\("([a-z_]+)"\)', sources))
    files = {p.stem for p in tables.DATA.glob("*.toml")}
    assert files == read


def test_the_referrals_file_holds_the_demo_referrals():
    entries = tables.load("referrals")["referral"]
    assert [entry["key"] for entry in entries] == [spec.key for spec in REFERRALS]
    assert len({spec.key for spec in REFERRALS}) == len(REFERRALS) == 59


def test_a_value_that_is_no_longer_a_choice_fails_at_load():
    entry = dict(tables.load("referrals")["referral"][0])
    _referral(entry)  # as it stands
    entry["living"] = "castle"
    with pytest.raises(ValueError, match="castle"):
        _referral(entry)
