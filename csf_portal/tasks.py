"""Background tasks of the portal core."""

from __future__ import annotations

from celery import shared_task

from csf_portal import selectors


@shared_task(name="csf_portal.health_probe", acks_late=True)
def health_probe() -> dict[str, str]:
    """Run by a worker to prove the round trip web -> broker -> worker -> database."""
    health = selectors.system_health()
    return {"database": health["database"], "worker": "ok"}


@shared_task(name="csf_portal.clear_expired_sessions", acks_late=True)
def clear_expired_sessions() -> None:
    """Remove expired sessions from the database. Idempotent."""
    from django.core.management import call_command

    call_command("clearsessions")


@shared_task(name="csf_portal.password_reset_send", acks_late=True)
def password_reset_send(email: str, base_url: str) -> None:
    """Look up the address and send any reset link, away from the request's timing."""
    from csf_portal import services

    services.password_reset_send(email=email, base_url=base_url)
