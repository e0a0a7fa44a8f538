"""The access oracle: for generated worlds, every user and a generated moment, the
portal's access answers equal those of the plain-Python spec (DESIGN §4 rules 1, 3)."""

from __future__ import annotations

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis.extra.django import TestCase

from tests.access_oracle import spec
from tests.access_oracle.compare import compare
from tests.access_oracle.examples import LEAVING_TOMORROW, LEAVING_TOMORROW_SIGHT
from tests.access_oracle.world import snapshot, world_plans


class AccessOracle(TestCase):
    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(world_plans())
    def test_the_portal_shows_each_user_exactly_what_the_spec_allows(self, plan):
        differences = compare(plan)
        assert differences == [], "\n".join(differences)


@pytest.mark.django_db
def test_a_member_leaving_tomorrow_still_sees_todays_meeting():
    """A leaving date still to come (written outside the membership service, which
    refuses one) keeps the member until that day: ``ForumMembership.sitting``."""
    plan = LEAVING_TOMORROW
    sights = spec.sights(snapshot(plan), plan.now)
    assert {k: set(s.cases) for k, s in sights.items() if s.cases} == LEAVING_TOMORROW_SIGHT
    with transaction.atomic():
        differences = compare(plan, pages=False)
        transaction.set_rollback(True)
    assert differences == [], "\n".join(differences)
