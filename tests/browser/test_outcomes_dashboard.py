"""A commissioner reads the outcomes in a browser, changes the period, downloads a table."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from csf_portal.models import Role
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories import AgencyFactory, UserFactory
from tests.referrals.conftest import complete_referral

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def commissioner(settings):
    from referrals.services import referral_accept

    settings.REQUIRE_MFA = False
    chair = UserFactory(agency=AgencyFactory(name="Adult Safeguarding"), roles=[Role.FORUM_CHAIR])
    referrer = UserFactory(agency=AgencyFactory(name="Police", kind="police"))
    for i in range(6):
        referral = complete_referral(referrer, given_name=f"Wilhelmina{i}", family_name="Zog")
        referral_accept(actor=chair, referral=referral)
    return UserFactory(
        username="cara",
        agency=AgencyFactory(name="Commissioning team", kind="commissioner"),
        roles=[Role.COMMISSIONER],
    )


def test_commissioner_reads_the_outcomes(page, live_server, commissioner):
    base = live_server.url
    sign_in(page, base, "cara")
    page.get_by_role("link", name="Outcomes").first.click()
    expect(page.get_by_role("heading", name="Outcomes", level=1)).to_be_visible()
    expect(page.get_by_role("table", name="Cohort", exact=True)).to_contain_text(
        "Referrals received"
    )
    expect(page.get_by_role("img", name="Chart: Referrals by gender")).to_be_visible()
    assert "Wilhelmina" not in page.content() and "Zog" not in page.content()
    assert_accessible(page)

    from_date = page.get_by_role("group", name="From")
    from_date.get_by_label("Day").fill("31")
    from_date.get_by_label("Month").fill("2")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("alert")).to_contain_text("From must be a real date")
    expect(from_date.get_by_label("Day")).to_have_value("31")
    assert_accessible(page)
    from_date.get_by_label("Day").fill("1")
    from_date.get_by_label("Month").fill("1")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("table", name="Cohort", exact=True)).to_contain_text("6")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download this table (CSV): Cohort").click()
    path = download.value.path()
    with open(path, encoding="utf-8") as f:
        assert "Referrals received,6" in f.read()
