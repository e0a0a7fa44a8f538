from django.db import migrations

from referrals.taxonomy import sync_referral_reasons


class Migration(migrations.Migration):
    dependencies = [("referrals", "0001_initial")]

    operations = [migrations.RunPython(sync_referral_reasons, migrations.RunPython.noop)]
