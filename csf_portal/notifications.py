"""Telling people something happened: in the portal, and by email."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from csf_portal.models import Notification, User

logger = logging.getLogger(__name__)


def notification_send(
    *, user: User, text: str, url: str = "", email_subject: str = ""
) -> Notification:
    """Record an in-app notification; with ``email_subject``, email it after commit.

    The email carries no personal data, only a pointer into the portal.
    """
    notification = Notification.objects.create(user=user, text=text[:500], url=url)
    if email_subject and user.email:
        body = (
            f"{text}\n\nSign in to CSF Portal to see the details"
            + (f": {settings.CSF_BASE_URL}{url}" if settings.CSF_BASE_URL else ".")
            + "\n\nThis is an automatic message. OFFICIAL-SENSITIVE."
        )
        recipient = user.email
        transaction.on_commit(lambda: _email(email_subject, body, recipient))
    return notification


def email_after_commit(*, subject: str, body: str, recipient: str) -> None:
    """Send a plain email once the transaction commits; a mail failure is logged, not raised."""
    transaction.on_commit(lambda: _email(subject, body, recipient))


def _email(subject: str, body: str, recipient: str) -> None:
    # The decision is already recorded and shown in the portal: a mail failure
    # must not undo it, but it must be visible in the logs.
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient])
    except Exception:
        logger.exception("Could not email a notification")


def notifications_unread(*, user: User, limit: int = 10) -> list[Notification]:
    return list(Notification.objects.filter(user=user, read_at__isnull=True)[:limit])
