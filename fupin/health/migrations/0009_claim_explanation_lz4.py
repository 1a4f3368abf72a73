"""A claim's explanation (8–15 KB of JSON) is compressed with lz4 rather than PostgreSQL's default
pglz: half the CPU of storing it at the window (ADR 0022). Nothing to do on SQLite."""
from django.db import migrations


def lz4(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE health_claim ALTER COLUMN explanation SET COMPRESSION lz4")


def pglz(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE health_claim ALTER COLUMN explanation SET COMPRESSION pglz")


class Migration(migrations.Migration):
    dependencies = [("health", "0008_premium_run_reversal")]
    operations = [migrations.RunPython(lz4, pglz)]
