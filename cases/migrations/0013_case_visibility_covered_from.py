"""Each list row stores when its coverage window starts as well as when it ends.

Existing rows were written only while coverage was current, so it started no later
than the day the row was granted.
"""

import datetime

from django.db import migrations, models
from django.db.models.functions import TruncDate


def from_granted(apps, schema_editor):
    CaseVisibility = apps.get_model("cases", "CaseVisibility")
    CaseVisibility.objects.update(covered_from=TruncDate("granted_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0012_break_glass_history_and_reviews"),
    ]

    operations = [
        migrations.AddField(
            model_name="casevisibility",
            name="covered_from",
            field=models.DateField(
                default=datetime.date(2000, 1, 1),
                help_text="First day of the coverage window (it may start later than today)",
            ),
            preserve_default=False,
        ),
        migrations.RunPython(from_granted, migrations.RunPython.noop),
        migrations.RemoveIndex(model_name="casevisibility", name="case_visibility_covered"),
        migrations.AddIndex(
            model_name="casevisibility",
            index=models.Index(
                fields=["agency", "covered_until", "covered_from"], name="case_visibility_covered"
            ),
        ),
    ]
