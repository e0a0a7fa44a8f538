"""The Celery application. Settings are read from Django's ``CELERY_*`` settings.

Reliability choices (see settings): late acknowledgement so a task whose worker
dies is delivered again, rejection on worker loss, a Redis visibility timeout
longer than the longest task, JSON only. Tasks must therefore be idempotent.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csf_portal.settings")

app = Celery("csf_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
