"""The suite's history guard refuses rows with no user, and only exemptions let them pass."""

from __future__ import annotations

import ast
import contextlib
from pathlib import Path

import pytest
from django.conf import settings

from cases.models import Person
from csf_portal.history import acting_as, unattributed, unattributed_reason
from tests import history_guard
from tests.factories import CaseFactory, UserFactory
from tests.test_write_paths import DATA_BUILDERS

pytestmark = pytest.mark.django_db


@pytest.fixture
def refusals_expected():
    """For tests that provoke the guard on purpose: its refusals are the point, not a failure."""
    yield history_guard.refused
    history_guard.refused.clear()


def test_the_guard_is_connected_for_every_test():
    assert history_guard.connected()


def test_a_tracked_save_with_no_actor_outside_an_exemption_is_refused(refusals_expected):
    with pytest.raises(history_guard.UnattributedHistory, match=r"cases\.HistoricalPerson \(\+\)"):
        Person.objects.create(given_name="Nobody", family_name="Acts")
    assert len(refusals_expected) == 1


def test_a_refusal_the_code_swallows_is_still_kept_for_the_test_to_fail_on(refusals_expected):
    with contextlib.suppress(Exception):  # as code under test that swallows errors
        Person.objects.create(given_name="Caught", family_name="Quietly")
    assert refusals_expected and "has no history_user" in refusals_expected[0]


def test_an_update_and_a_delete_with_no_actor_are_refused_too(refusals_expected):
    with unattributed("test set-up"):
        person = Person.objects.create(given_name="Set", family_name="Up")
    person.given_name = "Changed"
    with pytest.raises(history_guard.UnattributedHistory, match=r"\(~\)"):
        person.save()
    with pytest.raises(history_guard.UnattributedHistory, match=r"\(-\)"):
        Person.objects.get(pk=person.pk).delete()
    assert len(refusals_expected) == 2


def test_an_exemption_lets_a_row_with_no_user_through_and_names_why():
    assert unattributed_reason() is None
    with unattributed("demo data"):
        assert unattributed_reason() == "demo data"
        with unattributed("inner"):
            assert unattributed_reason() == "inner"
        assert unattributed_reason() == "demo data"
        person = Person.objects.create(given_name="Demo", family_name="Person")
    assert unattributed_reason() is None
    assert person.history.get().history_user is None


def test_an_exemption_must_say_why():
    with pytest.raises(ValueError, match="reason"), unattributed(" "):
        pass


def test_a_write_inside_acting_as_names_the_actor():
    actor = UserFactory()
    with acting_as(actor):
        person = Person.objects.create(given_name="Done", family_name="ByActor")
    assert person.history.get().history_user == actor


#: Where the tests themselves use the exemption: the factories (and their ``set_up()``
#: for a test's own arranging writes), the reference rows, and this file.
TEST_MODULES_EXEMPTING = frozenset(
    {"tests/factories.py", "tests/conftest.py", "tests/test_history_guard.py"}
)


def _names_used(names: set[str]) -> dict[str, set[str]]:
    """For each name, the modules of the portal and its tests that use it."""
    root = Path(settings.BASE_DIR)
    users: dict[str, set[str]] = {name: set() for name in names}
    for path in root.glob("**/*.py"):
        relative = path.relative_to(root).as_posix()
        if relative.startswith((".venv/", "node_modules/")) or relative == "csf_portal/history.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=relative)):
            name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", None)
            if name in users:
                users[name].add(relative)
    return users


def test_exemptions_are_used_only_by_the_data_builders_and_test_set_up():
    used = _names_used({"unattributed", "set_up"})
    in_apps = {m for m in used["unattributed"] if not m.startswith("tests/")}
    assert in_apps <= DATA_BUILDERS, sorted(in_apps - DATA_BUILDERS)
    in_tests = used["unattributed"] - in_apps
    assert in_tests <= TEST_MODULES_EXEMPTING, sorted(in_tests - TEST_MODULES_EXEMPTING)
    assert all(m.startswith("tests/") for m in used["set_up"]), sorted(used["set_up"])
    assert {"demo/cases.py", "demo/scale.py", "tests/factories.py"} <= used["unattributed"]


def test_the_portals_own_account_acts_for_nightly_jobs_and_can_do_nothing_else():
    import access
    from csf_portal.system import SYSTEM_USERNAME, system_actor

    system = system_actor()
    assert system.username == SYSTEM_USERNAME and str(system) == "CSF Portal (automatic)"
    assert not system.is_active and not system.has_usable_password()
    assert not access.roles_of(system) and system.agency_id is None
    assert not access.can_view_case(system, CaseFactory())
