"""Nightly consent housekeeping (scheduled in csf_portal/schedules.py)."""

from __future__ import annotations

from celery import shared_task

from consent import services
from csf_portal.system import system_actor


@shared_task(name="consent.review_reminders", acks_late=True)
def review_reminders() -> int:
    """Mark consents due for review and notify involved workers, as the portal's own
    account (no one acts). Idempotent."""
    return services.consent_review_reminders(actor=system_actor())


@shared_task(name="consent.sharing_basis_lapse_reminders", acks_late=True)
def sharing_basis_lapse_reminders() -> int:
    """Mark sharing bases ending within four weeks and notify the workers, as the
    portal's own account (no one acts). Idempotent."""
    return services.sharing_basis_lapse_reminders(actor=system_actor())


@shared_task(name="consent.visibility_roll", acks_late=True)
def visibility_roll() -> int:
    """Move case-list rows on when a coverage window ends (a later one may start after
    a gap). Idempotent."""
    import access

    return access.case_visibility_roll()
