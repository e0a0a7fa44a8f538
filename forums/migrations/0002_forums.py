from django.db import migrations

from forums.reference import sync_forums


class Migration(migrations.Migration):
    dependencies = [("forums", "0001_initial")]

    operations = [migrations.RunPython(sync_forums, migrations.RunPython.noop)]
