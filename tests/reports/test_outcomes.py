"""The commissioners' dashboard: metric definitions on hand-built data, suppression, privacy."""

from __future__ import annotations

import datetime
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import services as case_services
from csf_portal.models import Role
from reports import dashboard, outcomes
from reports import services as report_services
from tests.conftest import signed_in_client
from tests.factories import AgencyFactory, UserFactory, set_up
from tests.helpers import as_read
from tests.referrals.conftest import complete_referral

pytestmark = [pytest.mark.django_db, pytest.mark.dates]

NAMES = [("Xanthippe", "Quarrendon"), ("Ozymandias", "Fettercairn"), ("Philomena", "Strathbogie")]


def _accept(chair, referrer, given, family, **overrides):
    from referrals.services import referral_accept

    referral = complete_referral(referrer, given_name=given, family_name=family, **overrides)
    # Who it is about is the chair's call: the person it was linked to (their identifiers
    # agree), else a new person - never someone else sharing only the NHS number.
    return referral_accept(
        actor=chair,
        referral=referral,
        person=referral.person,
        new_person=referral.person is None,
    )


def _review(chair, case, start, end, **counts):
    values = {
        "police_contacts": 0,
        "ambulance_contacts": 0,
        "ae_attendances": 0,
        "unplanned_admissions": 0,
        "bnb_nights": 0,
        **counts,
    }
    return report_services.outcome_review_record(
        actor=chair,
        case=case,
        period_start=start,
        period_end=end,
        accommodation_status=counts.pop("status", "own_tenancy"),
        housing_satisfied="yes",
        avoidable="yes",
        **{k: v for k, v in values.items() if k != "status"},
    )


@pytest.fixture
def world():
    chair = UserFactory(agency=AgencyFactory(name="Adult Safeguarding"), roles=[Role.FORUM_CHAIR])
    police = AgencyFactory(name="Police", kind="police")
    referrer = UserFactory(agency=police)
    return {"chair": chair, "referrer": referrer}


def test_suppression_of_small_numbers_and_their_complement():
    assert dashboard.cell(0) == 0 and dashboard.cell(3) == "<5" and dashboard.cell(5) == 5
    assert dashboard.distribution([3, 12, 40]) == ["<5", "[c]", 40]
    assert dashboard.distribution([3, 2, 40]) == ["<5", "<5", 40]
    assert dashboard.distribution([0, 12, 40]) == [0, 12, 40]
    assert dashboard.fraction(3, 4) == ("<5", "–")
    assert dashboard.fraction(48, 52) == ("[c]", "–")
    assert dashboard.fraction(30, 40) == (30, "75%")


def test_three_of_four_cases_with_reduced_risk_is_75_percent(world):
    chair, referrer = world["chair"], world["referrer"]
    today = timezone.localdate()
    for i in range(4):
        referral = _accept(chair, referrer, f"Given{i}", f"Family{i}")
        case = referral.case
        risk = case.risks.get()
        # three improve, one does not
        case_services.risk_update(
            actor=chair,
            risk=risk,
            level="low" if i < 3 else risk.level,
            description=risk.description,
            mitigations="",
            expected_version=risk.version,
        )
        _review(
            chair, case, today - datetime.timedelta(days=40), today - datetime.timedelta(days=10)
        )
    figures = dashboard.figures(dashboard.Filters.default())
    risk = figures["outcomes"]["risk"]
    assert risk["reviewed"] == 4
    assert (risk["reduced"], risk["unchanged"], risk["increased"]) == (3, 1, 0)
    assert round(100 * risk["reduced"] / risk["reviewed"]) == 75
    table = {t.key: t for t in dashboard.present(figures, dashboard.unit_costs(), True)}["risk"]
    reduced = next(r for r in table.rows if r[0].endswith("reduced"))
    assert reduced[1] == "<5" and reduced[2] == "–"  # 3 is suppressed on the page


def test_before_and_after_rates_and_costs(world):
    chair, referrer = world["chair"], world["referrer"]
    today = timezone.localdate()
    for i in range(5):
        case = _accept(chair, referrer, f"Given{i}", f"Family{i}").case
        first_start = today - datetime.timedelta(days=90)
        # first review: 30 days (both ends count), 6 police contacts, 10 B&B nights
        _review(
            chair,
            case,
            first_start,
            first_start + datetime.timedelta(days=29),
            police_contacts=6,
            bnb_nights=10,
        )
        later = today - datetime.timedelta(days=40)
        _review(chair, case, later, later + datetime.timedelta(days=29), police_contacts=0)
    figures = dashboard.figures(dashboard.Filters.default())
    before, after = figures["outcomes"]["before"], figures["outcomes"]["after"]
    assert before["people"] == after["people"] == 5
    assert before["police"] == pytest.approx(6 / (30 / 30.44), rel=0.01)
    assert after["police"] == 0 and after["bnb"] == 0
    costs = dashboard.unit_costs()
    monthly = dashboard.monthly_cost(before, costs)
    expected = float(6 * costs["police"] + 10 * costs["bnb_night"]) * 30.44 / 30
    assert float(monthly) == pytest.approx(float(expected), abs=1)


def test_period_boundaries_and_filters(world):
    chair, referrer = world["chair"], world["referrer"]
    inside = _accept(chair, referrer, "In", "Side")
    outside = _accept(chair, referrer, "Out", "Side")
    from referrals.models import Referral

    a_year_ago = timezone.now() - datetime.timedelta(days=400)
    Referral.objects.filter(pk=outside.pk).update(submitted_at=a_year_ago)
    f = dashboard.Filters.default()
    assert dashboard.figures(f)["cohort"]["summary"]["referrals"] == 1
    today = timezone.localdate()
    day = dashboard.Filters(start=today, end=today)
    assert dashboard.figures(day)["cohort"]["summary"]["referrals"] == 1
    tomorrow = dashboard.Filters(
        start=today + datetime.timedelta(days=1), end=today + datetime.timedelta(days=2)
    )
    assert dashboard.figures(tomorrow)["cohort"]["summary"]["referrals"] == 0
    other_kind = dashboard.Filters(start=f.start, end=f.end, agency_kind="hostel")
    assert dashboard.figures(other_kind)["cohort"]["summary"]["referrals"] == 0
    assert inside.referring_agency.kind == "police"


def test_who_sees_the_dashboard_and_exports(world):
    urls = [
        reverse("reports:outcomes"),
        reverse("reports:outcomes_csv") + "?table=cohort",
        reverse("reports:outcomes_xlsx"),
    ]
    for role in (Role.PRACTITIONER, Role.FORUM_MEMBER, Role.ADMINISTRATOR):
        client = signed_in_client(UserFactory(agency=AgencyFactory(), roles=[role]))
        for url in urls:
            assert client.get(url).status_code == 404, (role, url)
    for role in (Role.COMMISSIONER, Role.FORUM_CHAIR, Role.SOG_MEMBER):
        client = signed_in_client(UserFactory(agency=AgencyFactory(), roles=[role]))
        for url in urls:
            assert client.get(url).status_code == 200, (role, url)


def test_bad_period_shows_an_error_and_keeps_the_input(world):
    client = signed_in_client(UserFactory(agency=AgencyFactory(), roles=[Role.COMMISSIONER]))
    response = client.get(
        reverse("reports:outcomes"),
        {
            "start_0": "1",
            "start_1": "6",
            "start_2": "2026",
            "end_0": "1",
            "end_1": "1",
            "end_2": "2026",
        },
    )
    body = response.content.decode()
    assert response.status_code == 200 and "govuk-error-summary" in body
    assert "The end of the period must be on or after its start" in body
    bad = client.get(
        reverse("reports:outcomes"), {"start_0": "31", "start_1": "2", "start_2": "2026"}
    )
    assert "From must be a real date" in bad.content.decode()


def test_no_names_or_identifiers_reach_commissioners(world, django_capture_on_commit_callbacks):
    chair, referrer = world["chair"], world["referrer"]
    today = timezone.localdate()
    for given, family in NAMES * 2:
        case = _accept(chair, referrer, given, family, nhs_number="9434765919").case
        _review(
            chair,
            case,
            today - datetime.timedelta(days=60),
            today - datetime.timedelta(days=31),
            police_contacts=3,
        )
        _review(
            chair, case, today - datetime.timedelta(days=30), today - datetime.timedelta(days=1)
        )
    client = signed_in_client(
        UserFactory(agency=AgencyFactory(kind="commissioner"), roles=[Role.COMMISSIONER])
    )
    bodies = [client.get(reverse("reports:outcomes")).content]
    bodies.extend(
        client.get(reverse("reports:outcomes_csv"), {"table": table}).content
        for table in ("cohort", "gender", "age", "reasons", "risk", "before_after", "results")
    )
    bodies.append(client.get(reverse("reports:outcomes_xlsx")).content)
    import zipfile

    with zipfile.ZipFile(io.BytesIO(bodies[-1])) as book:
        bodies[-1] = b"".join(book.read(n) for n in book.namelist())
    for body in bodies:
        text = body.decode("utf-8", "replace")
        for given, family in NAMES:
            assert given not in text and family not in text
        assert "9434765919" not in text and "943 476 5919" not in text


def _city(world, n):
    chair, referrer = world["chair"], world["referrer"]
    today = timezone.localdate()
    for i in range(n):
        case = _accept(chair, referrer, f"Given{i}", f"Family{i}").case
        _review(
            chair,
            case,
            today - datetime.timedelta(days=60),
            today - datetime.timedelta(days=31),
            police_contacts=i,
        )
        _review(
            chair, case, today - datetime.timedelta(days=30), today - datetime.timedelta(days=1)
        )


def test_the_dashboard_query_count_does_not_grow_with_the_data(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = signed_in_client(UserFactory(agency=AgencyFactory(), roles=[Role.COMMISSIONER]))
    url = reverse("reports:outcomes")

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    _city(world, 3)
    small = queries()
    _city(world, 12)
    outcomes.figures_invalidate()  # work the figures out again, over four times the data
    assert queries() == small


def test_figures_are_kept_for_a_while_and_the_page_says_when_they_were_worked_out(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reports.models import UnitCost
    from reports.tasks import refresh_outcomes

    client = signed_in_client(UserFactory(agency=AgencyFactory(), roles=[Role.COMMISSIONER]))
    url = reverse("reports:outcomes")
    for i in range(6):
        _accept(world["chair"], world["referrer"], "Agnes", f"Whitlow{i}")

    def page():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200
        return response.content.decode(), len(ctx.captured_queries)

    first, worked_out = page()
    assert 'id="figures-as-at"' in first and "kept for up to 10 minutes" in first
    kept, from_cache = page()
    assert from_cache < worked_out - 10  # the aggregates were not run again

    # A referral made now shows once the figures are worked out again: by the
    # five-minute beat task for the default view, or when the kept ones expire.
    def referrals_row(body):
        start = body.index("People referred")
        return body[start : body.index("</tr>", start)]

    assert referrals_row(kept).endswith(">6</td>")
    _accept(world["chair"], world["referrer"], "Bertram", "Oakhanger")
    assert referrals_row(page()[0]).endswith(">6</td>")
    refresh_outcomes()
    assert referrals_row(page()[0]).endswith(">7</td>")

    # A changed unit cost shows at once: it is part of what the figures are kept by.
    police = UnitCost.objects.get(item="police")
    police.amount = police.amount + 100
    with set_up():
        police.save()
    assert page()[1] == worked_out


def test_the_kept_rendering_follows_the_filters_and_never_keeps_errors(world):
    client = signed_in_client(UserFactory(agency=AgencyFactory(), roles=[Role.COMMISSIONER]))
    year = {"start_0": "1", "start_1": "1", "start_2": "2026"}
    year |= {"end_0": "31", "end_1": "10", "end_2": "2026"}

    def asked(**params) -> str:
        response = client.get(reverse("reports:outcomes"), params)
        assert response.status_code == 200
        return response.content.decode()

    police, hostel = asked(**year, agency_kind="police"), asked(**year, agency_kind="hostel")
    assert re.search(r'<option value="police"\s+selected', police)
    assert re.search(r'<option value="hostel"\s+selected', hostel)
    assert "agency_kind=police" in police and "agency_kind=police" not in hostel
    # Kept, and the same but for what is fresh on every page: the CSP nonce, the CSRF token.
    fresh = re.compile(r'nonce="[^"]+"|name="csrfmiddlewaretoken" value="[^"]+"')
    again = asked(**year, agency_kind="police")
    assert fresh.sub("", again) == fresh.sub("", police)
    assert fresh.findall(police) and not set(fresh.findall(again)) & set(fresh.findall(police))
    backwards = year | {"end_2": "2025"}
    for _ in range(2):  # a form with errors is never kept
        body = asked(**backwards)
        assert "govuk-error-summary" in body and 'value="2025"' in body
    assert "govuk-error-summary" not in asked(**year, agency_kind="police")
    default = asked()
    assert "govuk-error-summary" not in default and "agency_kind=&" in default


def test_the_pdf_report_goes_through_the_documents_pipeline(
    world, django_capture_on_commit_callbacks
):
    import pypdf

    from csf_portal.celery import app as celery_app
    from reports.models import GeneratedDocument as D

    _city(world, 6)
    commissioner = UserFactory(
        first_name="Cara", last_name="Mendes", agency=AgencyFactory(), roles=[Role.COMMISSIONER]
    )
    client = signed_in_client(commissioner)
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("reports:outcomes_report"))
    finally:
        celery_app.conf.task_always_eager = previous
    document = D.objects.get(kind=D.Kind.OUTCOMES_REPORT)
    assert response["Location"] == reverse("reports:document", args=[document.pk])
    assert document.status == D.Status.DONE, document.error
    download = client.get(reverse("reports:document_download", args=[document.pk]))
    pdf = b"".join(download.streaming_content)
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "Creative Solutions Forum: outcomes" in text and "Prepared for Cara Mendes" in text
    assert "Referrals by gender" in text and "Estimated cost" in text
    assert "Given1" not in text and "Family1" not in text
    practitioner = signed_in_client(UserFactory(agency=AgencyFactory()))
    assert practitioner.post(reverse("reports:outcomes_report")).status_code == 404


def test_an_administrator_replaces_a_placeholder_unit_cost(world):
    from reports.models import UnitCost

    police = UnitCost.objects.get(item="police")
    assert police.is_placeholder and "PLACEHOLDER" in police.source
    admin = signed_in_client(UserFactory(agency=None, roles=[Role.ADMINISTRATOR]))
    url = reverse("admin:reports_unitcost_change", args=[police.pk])
    assert admin.get(url).status_code == 200
    response = admin.post(
        url,
        as_read(
            admin,
            url,
            {"amount": "412.50", "source": "Force finance, 2026 average", "is_placeholder": ""},
        ),
    )
    assert response.status_code == 302
    police.refresh_from_db()
    assert str(police.amount) == "412.50" and not police.is_placeholder
    assert dashboard.unit_costs()["police"] == police.amount


def test_old_figures_are_worked_out_again_by_one_request_while_others_get_the_kept_ones(world):
    from django.core.cache import cache

    client = signed_in_client(UserFactory(agency=AgencyFactory(), roles=[Role.COMMISSIONER]))
    for i in range(6):
        _accept(world["chair"], world["referrer"], "Cyril", f"Pettigrew{i}")
    filters = dashboard.Filters.default()

    def referred():
        body = client.get(reverse("reports:outcomes")).content.decode()
        start = body.index("People referred")
        return body[start : body.index("</tr>", start)].rsplit(">", 2)[-2].split("<")[0]

    assert referred() == "6"
    _accept(world["chair"], world["referrer"], "Cyril", "Pettigrew6")
    key = outcomes.tables_key(filters)
    tables, as_at = cache.get(key)
    cache.set(key, (tables, as_at - datetime.timedelta(minutes=11)))  # older than 10 minutes
    cache.add(f"{key}:lock", 1)  # another request is working them out
    assert referred() == "6"
    cache.delete(f"{key}:lock")
    assert referred() == "7"  # this request took the lock and worked them out
    assert cache.get(f"{key}:lock") is None


def test_the_default_period_on_a_leap_day_is_the_twelve_months_to_it(time_machine):
    time_machine.move_to(datetime.datetime(2028, 2, 29, 12, 0, tzinfo=datetime.UTC))
    period = dashboard.Filters.default()
    assert (period.start, period.end) == (datetime.date(2027, 3, 1), datetime.date(2028, 2, 29))


def test_a_unit_cost_change_in_the_admin_is_in_its_history_by_whom(world):
    from reports.models import UnitCost

    police = UnitCost.objects.get(item="police")
    user = UserFactory(agency=None, roles=[Role.ADMINISTRATOR])
    admin = signed_in_client(user)
    url = reverse("admin:reports_unitcost_change", args=[police.pk])
    admin.post(
        url,
        as_read(admin, url, {"amount": "99.00", "source": "Force finance", "is_placeholder": ""}),
    )
    latest = police.history.latest()
    assert str(latest.amount) == "99.00" and latest.history_user == user


def _close_by_its_owners(risk, level):
    """Every owning agency agrees, through the person who accepted its share."""
    for owner in risk.owners.filter(ended_at__isnull=True).select_related("accepted_by"):
        risk.refresh_from_db()
        case_services.risk_closure_agree(
            actor=owner.accepted_by,
            risk=risk,
            expected_version=risk.version,
            level=level,
            reason="Settled in her own tenancy",
        )
    risk.refresh_from_db()
    assert risk.status == "closed"


def test_a_closed_risk_counts_at_its_level_at_closure(world):
    # Closing a risk is not reducing it: one closed at its high level is unchanged.
    chair, referrer = world["chair"], world["referrer"]
    today = timezone.localdate()
    for i, level in enumerate(("low", None)):
        case = _accept(chair, referrer, f"Given{i}", f"Family{i}").case
        risk = case.risks.get()
        case_services.risk_owner_add(
            actor=referrer, risk=risk, agency=referrer.agency, accepted_by=referrer
        )
        _close_by_its_owners(risk, level or risk.level)
        _review(
            chair, case, today - datetime.timedelta(days=40), today - datetime.timedelta(days=10)
        )
    risk = dashboard.figures(dashboard.Filters.default())["outcomes"]["risk"]
    assert (risk["reviewed"], risk["reduced"], risk["unchanged"], risk["increased"]) == (2, 1, 1, 0)
