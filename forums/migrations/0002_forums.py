from django.db import migrations

FORUMS = [
    ("csf", "Creative Solutions Forum"),
    ("sog", "System Optimisation Group"),
    ("practitioner", "Practitioner forum"),
]


def add_forums(apps, schema_editor):
    Forum = apps.get_model("forums", "Forum")
    for kind, name in FORUMS:
        Forum.objects.get_or_create(kind=kind, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("forums", "0001_initial")]

    operations = [migrations.RunPython(add_forums, migrations.RunPython.noop)]
