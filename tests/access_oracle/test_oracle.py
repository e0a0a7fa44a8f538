"""The access oracle: for generated worlds, every user and a generated moment, the
portal's access answers equal those of the plain-Python spec (DESIGN §4 rules 1, 3)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis.extra.django import TestCase

from tests.access_oracle.compare import compare
from tests.access_oracle.world import world_plans


class AccessOracle(TestCase):
    @settings(
        max_examples=30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(world_plans())
    def test_the_portal_shows_each_user_exactly_what_the_spec_allows(self, plan):
        differences = compare(plan)
        assert differences == [], "\n".join(differences)
