from django.db import migrations

from csf_portal.roles import sync_role_permissions


class Migration(migrations.Migration):
    dependencies = [
        ("forums", "0003_meetings_agendas_actions"),
        ("assessments", "0003_administrators_edit_the_instrument"),
    ]

    operations = [migrations.RunPython(sync_role_permissions, migrations.RunPython.noop)]
