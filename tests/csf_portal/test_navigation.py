"""The service navigation shows exactly the entries the user's permissions allow."""

from __future__ import annotations

import pytest

from csf_portal.models import Role, User
from csf_portal.navigation import NAV_ITEMS, nav_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _expected(user) -> list[str]:
    """The navigation as ``has_perm`` answers it, entry by entry."""
    labels = []
    for item in NAV_ITEMS:
        wanted = (item.permission,) if isinstance(item.permission, str) else item.permission
        if not wanted or any(user.has_perm(p) for p in wanted):
            labels.append(item.label)
    return labels


@pytest.mark.parametrize("roles", [[], *([r] for r in Role), [Role.PRACTITIONER, Role.SOG_MEMBER]])
def test_each_role_sees_what_its_permissions_allow(roles):
    user = User.objects.get(pk=UserFactory(roles=roles).pk)
    shown = [i["label"] for i in nav_for(user, "/")]
    assert shown == _expected(User.objects.get(pk=user.pk))
    assert shown[0] == "My work"


def test_a_superuser_sees_everything_and_an_inactive_user_only_my_work():
    admin = UserFactory(is_superuser=True)
    assert [i["label"] for i in nav_for(admin, "/")] == [i.label for i in NAV_ITEMS]
    gone = UserFactory(roles=[Role.FORUM_CHAIR], is_active=False)
    assert [i["label"] for i in nav_for(gone, "/")] == ["My work"]


def test_the_most_specific_entry_is_the_current_one():
    user = UserFactory(roles=[Role.FORUM_CHAIR])
    items = nav_for(user, "/referrals/triage/")
    assert [i["label"] for i in items if i["active"]] == ["Triage"]
