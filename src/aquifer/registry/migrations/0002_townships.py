"""Load Yangcheng's townships (current and historic codes) with approximate boundaries."""

from django.db import migrations


def load(apps, schema_editor):
    from aquifer.registry.reference import county_from_file, load_townships

    load_townships(apps.get_model("registry", "Township"), county_from_file())


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
