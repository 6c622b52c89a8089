from django.db import migrations


def load(apps, schema_editor):
    from financements.reference import load_baremes

    load_baremes(apps.get_model("financements", "Bareme"))


class Migration(migrations.Migration):
    dependencies = [("financements", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
