"""The referral reasons taxonomy. Applied by a data migration; tests re-apply it after flushes."""

from __future__ import annotations

from typing import Any

# The forum's referral reasons, in the words of its prototype cases.
REASONS = [
    ("multiple-hand-offs", "Complexity leading to multiple hand-offs", False),
    ("imminent-risk-of-death", "Imminent risk of death", False),
    ("risk-to-staff-public", "High risk to staff or the public", False),
    ("hate-crime", "Hate crime (as perpetrator or victim)", False),
    ("capacity-permanent-home", "Assessment of capacity and a permanent home", False),
    ("suicide-self-harm-overdose", "Suicide, self-harm or overdose", False),
    ("drinking-drug-use", "High-risk drinking and drug use", False),
    ("self-neglect", "Self-neglect", False),
    ("violence", "Violence", False),
    ("retain-accommodation", "Keeping accommodation (rent arrears, tenancy at risk)", False),
    ("eviction", "Eviction", False),
    ("accommodation-need", "Accommodation need", False),
    ("mental-health-act", "Mental Health Act assessment needed or refused", False),
    ("physical-health", "Physical health not managed (for example diabetes, hepatitis C)", False),
    ("eating-disorder", "Eating disorder or dangerously low weight", False),
    ("exploitation-sex-work", "Sexual exploitation or sex work", False),
    ("end-of-life-care", "End of life care", False),
    ("trauma", "Suspected trauma (for example PTSD)", False),
    ("thresholds-blocking-help", "Thresholds or service boundaries blocking help", False),
    ("other", "Other", True),
]


def sync_referral_reasons(apps: Any, schema_editor: Any) -> None:
    ReferralReason = apps.get_model("referrals", "ReferralReason")
    for order, (code, label, is_other) in enumerate(REASONS, start=1):
        ReferralReason.objects.update_or_create(
            code=code, defaults={"label": label, "order": order, "is_other": is_other}
        )
