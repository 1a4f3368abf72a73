"""Public notices carry no ID number, not even masked (public-notice rules): strip it from the
content of notices made before."""
from django.db import migrations


def strip_ids(apps, schema_editor):
    Notice = apps.get_model("workflows", "Notice")
    for n in Notice.objects.all().iterator():
        if any("id" in row for row in n.content):
            n.content = [{k: v for k, v in row.items() if k != "id"} for row in n.content]
            n.save(update_fields=["content"])


class Migration(migrations.Migration):
    dependencies = [("workflows", "0001_initial")]
    operations = [migrations.RunPython(strip_ids, migrations.RunPython.noop)]
