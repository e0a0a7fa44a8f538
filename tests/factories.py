"""factory_boy factories. Agencies are made through the service so each has its group."""

from __future__ import annotations

import factory
from django.conf import settings

from cases.models import Case, Person
from csf_portal import services
from csf_portal.history import unattributed
from csf_portal.models import Agency, AgencyKind, Role, User

#: Why history written by the factories names no user: test set-up is no one's act.
SET_UP = "test set-up: rows a test starts from, made by no one"


def set_up():
    """``with set_up():`` around a test's own direct writes that arrange where it starts.

    The one exemption tests use (besides the factories): what it wraps is no one's
    act in the portal, so its history names no user.
    """
    return unattributed(SET_UP)


class Factory(factory.django.DjangoModelFactory):
    """A factory whose rows (and their history) are test set-up, not anyone's change."""

    class Meta:
        abstract = True

    @classmethod
    def _generate(cls, strategy, params):
        with unattributed(SET_UP):
            return super()._generate(strategy, params)


class AgencyFactory(Factory):
    class Meta:
        model = Agency

    name = factory.Sequence(lambda n: f"Agency {n}")
    kind = AgencyKind.HOSTEL

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.agency_create(actor=None, name=kwargs["name"], kind=kwargs["kind"])


class UserFactory(Factory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name", locale="en_GB")
    last_name = factory.Faker("last_name", locale="en_GB")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    agency = factory.SubFactory(AgencyFactory)
    job_title = "Support worker"
    password = factory.PostGenerationMethodCall("set_password", "a-long-test-password-1")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create:
            self.save()
            services.user_roles_set(actor=None, user=self, roles=extracted or [Role.PRACTITIONER])


class PersonFactory(Factory):
    class Meta:
        model = Person

    given_name = factory.Faker("first_name", locale="en_GB")
    family_name = factory.Faker("last_name", locale="en_GB")


class CaseFactory(Factory):
    class Meta:
        model = Case

    person = factory.SubFactory(PersonFactory)


TEST_PASSWORD = "a-long-test-password-1"
DEMO_PASSWORD = settings.DEMO_PASSWORD


@unattributed(SET_UP)
def give_consent(person, *, agencies=(), all_member_agencies=True, days=365):
    """A current consent record for the person (written as the service writes it, for set-up)."""
    import datetime

    from django.utils import timezone

    import access
    from consent.models import ConsentRecord

    today = timezone.localdate()
    recorder = UserFactory()
    record = ConsentRecord(
        person=person,
        method="written",
        given_on=today,
        review_date=today + datetime.timedelta(days=days),
        purposes=["referral", "care_planning"],
        capacity_outcome="not_in_doubt",
        all_member_agencies=all_member_agencies,
        recorded_by=recorder,
    )
    access.sharing_write(record, actor=recorder, agencies=list(agencies))
    return record


@unattributed(SET_UP)
def visible_case(*agencies, **consent):
    """A case the given agencies are involved in, with consent covering them."""
    import access

    case = CaseFactory()
    give_consent(case.person, **consent)
    for agency in agencies:
        access.case_access_grant(agency=agency, case=case)
    return case


def approved_sharing_basis(
    person,
    *,
    agencies=(),
    all_member_agencies=False,
    basis="safeguarding",
    starts_on=None,
    ends_on=None,
    requested_by=None,
    approved_by=None,
):
    """A sharing basis asked for by one person and approved by a different forum chair,
    through the services (as the portal makes them)."""
    import datetime

    from django.utils import timezone

    from consent import services
    from csf_portal.models import Role

    today = timezone.localdate()
    request = services.sharing_basis_request(
        actor=requested_by or UserFactory(roles=[Role.PRACTITIONER]),
        person=person,
        basis=basis,
        justification="Section 42 enquiry: risk of serious harm.",
        starts_on=starts_on or today,
        ends_on=ends_on or today + datetime.timedelta(days=90),
        all_member_agencies=all_member_agencies,
        agencies=agencies,
        check_recorder=False,
        tell_approvers=False,
    )
    return services.sharing_basis_approve(
        actor=approved_by or UserFactory(roles=[Role.FORUM_CHAIR]), basis=request
    )


def discussed_at_meeting(case, *, chair, meeting=None, days_ago=1, held=False):
    """The case's item on the agenda of a Creative Solutions Forum meeting that has met.

    Through the services, as the chair does it: a meeting planned ``days_ago`` (or the
    given one, still planned), the case added, the agenda published; ``held`` also
    marks the meeting held. The chair must be able to see the case (need to know).
    """
    import datetime

    from django.utils import timezone

    from forums import services as forum_services
    from forums.models import Forum, Meeting

    if meeting is None:
        meeting = forum_services.meeting_plan(
            actor=chair,
            forum=Forum.objects.get(kind=Forum.Kind.CSF),
            starts_at=timezone.now() - datetime.timedelta(days=days_ago),
            location="Room 1",
        )
    item = forum_services.agenda_item_add(actor=chair, meeting=meeting, case=case)
    meeting.refresh_from_db()
    if meeting.state == Meeting.State.PLANNED:
        forum_services.agenda_publish(actor=chair, meeting=meeting)
    if held:
        forum_services.meeting_mark_held(actor=chair, meeting=meeting)
    item.refresh_from_db()
    return item
