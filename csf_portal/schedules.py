"""Every periodic task of the portal, in one place (run by ``celery beat``)."""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    "clear-expired-sessions": {
        "task": "csf_portal.clear_expired_sessions",
        "schedule": crontab(hour=2, minute=15),
    },
}
