"""Sharing bases recorded before approval became a separate step count as approved.

Each was recorded with a named approver (a chair, or someone whose senior role was
recorded), so it keeps the effect it had: approved when it was recorded, and
requested then too. Their history rows say the same.
"""

from django.db import migrations
from django.db.models import F


def approve_existing(apps, schema_editor):
    for name in ("SharingBasis", "HistoricalSharingBasis"):
        model = apps.get_model("consent", name)
        model.objects.filter(approved_by__isnull=False).update(
            status="approved", approved_at=F("created_at"), requested_at=F("created_at")
        )


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0002_sharing_basis_approval"),
    ]

    operations = [
        migrations.RunPython(approve_existing, migrations.RunPython.noop),
    ]
