"""The portal's own account, the actor of nightly jobs (csf_portal/system.py)."""

from django.db import migrations

from csf_portal.system import sync_system_account


class Migration(migrations.Migration):
    dependencies = [
        ("csf_portal", "0007_role_change_forum_membership"),
    ]

    operations = [migrations.RunPython(sync_system_account, migrations.RunPython.noop)]
