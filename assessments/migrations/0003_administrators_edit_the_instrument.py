from django.db import migrations

from csf_portal.roles import sync_role_permissions


class Migration(migrations.Migration):
    dependencies = [("assessments", "0002_first_template"), ("csf_portal", "0002_roles")]

    operations = [migrations.RunPython(sync_role_permissions, migrations.RunPython.noop)]
