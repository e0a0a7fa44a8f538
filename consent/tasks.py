"""Nightly consent housekeeping (scheduled in csf_portal/schedules.py)."""

from __future__ import annotations

from celery import shared_task

from consent import services


@shared_task(name="consent.review_reminders", acks_late=True)
def review_reminders() -> int:
    """Mark consents due for review and notify involved workers. Idempotent."""
    return services.consent_review_reminders()
