"""Weekly overdue-actions digest (scheduled in csf_portal/schedules.py)."""

from __future__ import annotations

from celery import shared_task

from forums import services


@shared_task(name="forums.overdue_actions_digest", acks_late=True)
def overdue_actions_digest() -> int:
    """Email each owner of overdue actions once this week. Idempotent: safe to rerun."""
    return services.overdue_digest_send()
