"""Fast append-only inserts for large imports.

Django's bulk_create prepares every field of every row through the SQL compiler, which
dominates a 200000-row import. Here values of simple types (str, int, bool, None) go to the
driver as they are; dates, datetimes, decimals and JSON are prepared by the field itself, so
the stored form is exactly what the ORM would store. Use only for plain inserts of new rows.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import connection, models

_SIMPLE = (str, int, bool, type(None))


def insert_rows(model: type[models.Model], rows: list[dict], *, batch: int = 5000) -> int:
    """Insert dicts keyed by attname (e.g. household_id). Missing auto_now fields get now()."""
    if not rows:
        return 0
    from django.utils import timezone

    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    defaults = {}
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            defaults[f.attname] = now
        else:
            defaults[f.attname] = f.get_default()  # what Model() would set: default, "" or None
    columns = [f.column for f in fields]
    table = connection.ops.quote_name(model._meta.db_table)
    sql = (f"INSERT INTO {table} ({', '.join(connection.ops.quote_name(c) for c in columns)}) "
           f"VALUES ({', '.join(['%s'] * len(columns))})")
    prepared_constants = {}

    def prep(f, value):
        if isinstance(value, _SIMPLE) and not isinstance(f, models.JSONField):
            return value
        if isinstance(value, (dt.date, dt.datetime, Decimal)) or isinstance(f, models.JSONField):
            key = (f.attname, repr(value))
            if key not in prepared_constants:
                prepared_constants[key] = f.get_db_prep_save(value, connection)
            return prepared_constants[key]
        return f.get_db_prep_save(value, connection)

    with connection.cursor() as cur:
        for start in range(0, len(rows), batch):
            params = []
            for row in rows[start:start + batch]:
                params.append([prep(f, row[f.attname] if f.attname in row else defaults.get(f.attname))
                               for f in fields])
            cur.executemany(sql, params)
    return len(rows)
