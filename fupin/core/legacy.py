"""Databases made before a room was renamed keep working.

Wave 1 called pairing assistance (结对帮扶) ``assistance``; wave 2 renamed it ``pairing`` so that
nobody confuses it with social assistance (低保, 特困). A county database migrated under the old
name still holds ``assistance_*`` tables and ``assistance`` migration rows: before ``migrate``
plans, they are renamed in place (fupin.core.management.commands.migrate), so no data is lost and no migration runs twice.
"""
from django.db import connection

RENAMED_APPS = {"assistance": "pairing"}


def rename_legacy_apps(connection=connection) -> None:
    tables = set(connection.introspection.table_names())
    if "django_migrations" not in tables:
        return
    with connection.cursor() as cur:
        for old, new in RENAMED_APPS.items():
            cur.execute("SELECT COUNT(*) FROM django_migrations WHERE app = %s", [old])
            if not cur.fetchone()[0]:
                continue
            qn = connection.ops.quote_name
            for table in sorted(t for t in tables if t.startswith(old + "_")):
                cur.execute(f"ALTER TABLE {qn(table)} RENAME TO {qn(new + table[len(old):])}")
            cur.execute("UPDATE django_migrations SET app = %s WHERE app = %s", [new, old])
            if "django_content_type" in tables:
                cur.execute("UPDATE django_content_type SET app_label = %s WHERE app_label = %s", [new, old])
