from django.db import migrations

from csf_portal.roles import sync_role_permissions
from reports.reference import sync_unit_costs


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0003_unit_costs_and_outcomes_report"),
        ("forums", "0004_administrators_keep_memberships"),
    ]

    operations = [
        migrations.RunPython(sync_unit_costs, migrations.RunPython.noop),
        migrations.RunPython(sync_role_permissions, migrations.RunPython.noop),
    ]
