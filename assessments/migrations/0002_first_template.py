from django.db import migrations

from assessments.instrument import sync_assessment_template


class Migration(migrations.Migration):
    dependencies = [("assessments", "0001_initial")]

    operations = [migrations.RunPython(sync_assessment_template, migrations.RunPython.noop)]
