"""Every periodic task of the portal, in one place (run by ``celery beat``)."""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    "clear-expired-sessions": {
        "task": "csf_portal.clear_expired_sessions",
        "schedule": crontab(hour=2, minute=15),
    },
    # Each minute: a document whose worker vanished (its lease lapsed) is queued again,
    # and one asked for while the broker was down is queued once it is back.
    "sweep-stuck-documents": {
        "task": "reports.sweep_documents",
        "schedule": crontab(),
    },
    "consent-review-reminders": {
        "task": "consent.review_reminders",
        "schedule": crontab(hour=6, minute=30),
    },
    "sharing-basis-lapse-reminders": {
        "task": "consent.sharing_basis_lapse_reminders",
        "schedule": crontab(hour=6, minute=35),
    },
    # Just after midnight: a list row whose coverage ended yesterday moves on to the
    # next consent or basis (or goes). Lists never show a lapsed row in any case.
    "case-visibility-roll": {
        "task": "consent.visibility_roll",
        "schedule": crontab(hour=0, minute=10),
    },
    # Keeps the outcomes dashboard's default view warm (kept for CSF_OUTCOMES_CACHE_SECONDS).
    "refresh-outcomes": {
        "task": "reports.refresh_outcomes",
        "schedule": crontab(minute="*/5"),
    },
    # Monday morning; reruns in the same week send nothing twice.
    "overdue-actions-digest": {
        "task": "forums.overdue_actions_digest",
        "schedule": crontab(day_of_week="mon", hour=7, minute=0),
    },
}
