"""Fast append-only inserts for large imports.

Django's bulk_create prepares every field of every row through the SQL compiler, which
dominates a 200000-row import. Here values of simple types (str, int, bool, None) go to the
driver as they are; dates, datetimes, decimals and JSON are prepared by the field itself, so
the stored form is exactly what the ORM would store. Use only for plain inserts of new rows.
"""
from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from django.db import connection, models

_SIMPLE = (str, int, bool, type(None))
_SIMPLE_CLASSES = frozenset(_SIMPLE)
LONG_LIST = 20_000      # rows_where_in: from here on a temporary table instead of an array parameter
_temp_tables = 0


def chunks(items: list, size: int):
    """`items` in consecutive slices of at most `size` (statements bounded in length)."""
    for i in range(0, len(items), size):
        yield items[i:i + size]


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
    prepared: dict = {}   # (field, class, value) → stored form: a load has few distinct dates and decimals

    def prep(f, value):
        key = (f.attname, value.__class__, value)   # the class too: 1 == 1.0 == Decimal(1) as keys
        try:
            hit = prepared.get(key)
        except TypeError:   # an unhashable value (a list): prepared each time
            return f.get_db_prep_save(value, connection)
        if hit is None:
            hit = prepared[key] = f.get_db_prep_save(value, connection)
        return hit

    def values(chunk):
        """The chunk's rows as tuples, built a column at a time (list comprehensions, not a Python
        call per cell): str/int/bool/None go to the driver as they are."""
        cols = []
        for f in fields:
            name, default = f.attname, defaults.get(f.attname)
            col = [r.get(name, default) for r in chunk]
            if isinstance(f, models.JSONField):
                col = [f.get_db_prep_save(v, connection) for v in col]
            else:
                col = [v if v.__class__ in _SIMPLE_CLASSES else prep(f, v) for v in col]
            cols.append(col)
        return list(zip(*cols))

    chunks = (values(rows[start:start + batch]) for start in range(0, len(rows), batch))
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # COPY is an order of magnitude faster than INSERT for large batches
            cols = ", ".join(connection.ops.quote_name(c) for c in columns)
            with cur.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for chunk in chunks:
                    for row in chunk:
                        copy.write_row(row)
        else:
            for chunk in chunks:
                cur.executemany(sql, chunk)
    return len(rows)


def rows_where_in(queryset, field: str, values: list, *columns: str) -> list[tuple]:
    """`queryset.filter(<field> IN values).values_list(*columns)` for very long value lists:
    one array parameter on PostgreSQL, chunks of 5000 on SQLite (its parameter limit)."""
    if not values:
        return []
    if connection.vendor == "postgresql":
        from django.db import transaction
        from django.db.models.expressions import RawSQL

        f = queryset.model._meta.get_field(field)
        numeric = isinstance(f, (models.AutoField, models.BigIntegerField, models.IntegerField, models.ForeignKey))
        lookup = f"{f.attname}__in"
        if len(values) <= LONG_LIST:
            cast = "bigint[]" if numeric else "text[]"
            return list(queryset.filter(**{lookup: RawSQL(f"SELECT unnest(%s::{cast})", [list(values)])})
                        .values_list(*columns))
        # a long list: copied into a temporary table with statistics, so the planner joins it by
        # hash instead of probing an index once per value of an array it estimates at ten rows
        global _temp_tables
        _temp_tables += 1
        name = f"_fupin_in_{_temp_tables}"
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(f"CREATE TEMPORARY TABLE {name} (v {'bigint' if numeric else 'text'}) ON COMMIT DROP")
            with cur.cursor.copy(f"COPY {name} (v) FROM STDIN") as copy:
                for v in values:
                    copy.write_row((v,))
            cur.execute(f"ANALYZE {name}")
            out = list(queryset.filter(**{lookup: RawSQL(f"SELECT v FROM {name}", [])}).values_list(*columns))
            cur.execute(f"DROP TABLE {name}")
        return out
    out = []
    for i in range(0, len(values), 5000):
        out += list(queryset.filter(**{f"{field}__in": values[i:i + 5000]}).values_list(*columns))
    return out


def frame_where_in(queryset, field: str, values: list, schema: list[tuple]):
    """`frame_from_query(queryset.filter(<field> IN values), schema)` for very long value lists (one
    array parameter on PostgreSQL, chunks of 5000 on SQLite): the rows as a columnar frame, never
    a Python object per value."""
    import polars as pl

    if len(values) == 0:
        return pl.DataFrame(schema=[(n.replace("__", "_"), d) for n, d in schema])
    if connection.vendor == "postgresql":
        from django.db.models.expressions import RawSQL

        f = queryset.model._meta.get_field(field)
        cast = "bigint[]" if isinstance(f, (models.AutoField, models.BigIntegerField, models.IntegerField,
                                            models.ForeignKey)) else "text[]"
        return frame_from_query(queryset.filter(**{f"{f.attname}__in": RawSQL(f"SELECT unnest(%s::{cast})",
                                                                                [list(values)])}), schema)
    return pl.concat([frame_from_query(queryset.filter(**{f"{field}__in": values[i:i + 5000]}), schema)
                      for i in range(0, len(values), 5000)])


def insert_frame(model: type[models.Model], frame) -> int:
    """Insert a Polars DataFrame whose columns are attnames of `model` (simple types, dates).
    PostgreSQL: one CSV COPY; SQLite: executemany."""
    import io

    if frame.height == 0:
        return 0
    from django.utils import timezone

    # the primary key only when the frame brings it (a bulk load that sets its own ids)
    fields = {f.attname: f for f in model._meta.concrete_fields if not f.primary_key or f.attname in frame.columns}
    now = timezone.now()
    extra = {}
    for name, f in fields.items():
        if name in frame.columns:
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            extra[name] = now
        else:
            extra[name] = f.get_default()
    table = connection.ops.quote_name(model._meta.db_table)
    cols = list(frame.columns) + list(extra)
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            import polars as pl

            full = frame.with_columns([pl.lit(v).alias(k) for k, v in extra.items()])
            buf = io.BytesIO()
            full.select(cols).write_csv(buf, include_header=False, null_value="\\\\N", datetime_format="%Y-%m-%dT%H:%M:%S%.f%z")
            quoted = ", ".join(connection.ops.quote_name(fields[c].column) for c in cols)
            set_based = frame.height >= SET_BASED_CHECKS and _may_skip_row_triggers(cur)
            if set_based:
                cur.execute("SET LOCAL session_replication_role = replica")
            with cur.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN WITH (FORMAT csv, NULL '\\\\N')") as copy:
                copy.write(buf.getvalue())
            if set_based:
                cur.execute("SET LOCAL session_replication_role = origin")
                _check_references(cur, model, full, fields)
        else:
            consts = [fields[k].get_db_prep_save(v, connection) for k, v in extra.items()]
            dates = {c for c in frame.columns if str(frame.schema[c]) == "Date"}
            quoted = ", ".join(connection.ops.quote_name(fields[c].column) for c in cols)
            sql = f"INSERT INTO {table} ({quoted}) VALUES ({', '.join(['%s'] * len(cols))})"
            rows = frame.rows()
            if dates:
                idx = [i for i, c in enumerate(frame.columns) if c in dates]
                rows = [tuple(v.isoformat() if i in idx and v is not None else v for i, v in enumerate(r)) for r in rows]
            for start in range(0, len(rows), 5000):
                cur.executemany(sql, [list(r) + consts for r in rows[start:start + 5000]])
    return frame.height


SET_BASED_CHECKS = 10_000   # insert_frame: from here on foreign keys are checked per column, not per row


def _may_skip_row_triggers(cur) -> bool:
    """Whether this insert may check its foreign keys set-based (PostgreSQL): inside a transaction
    (the checks and the insert commit or roll back together) and with the right to set
    session_replication_role (a superuser, or from PostgreSQL 15 `GRANT SET ON PARAMETER
    session_replication_role TO <role>`, see docs/deploy-province.md). Otherwise each row's
    foreign keys are checked by PostgreSQL's own per-row triggers, as for any insert."""
    if not connection.in_atomic_block:
        return False
    cached = getattr(connection, "_fupin_may_skip_row_triggers", None)
    if cached is None:
        cur.execute("SELECT has_parameter_privilege('session_replication_role', 'SET')"
                    if connection.pg_version >= 150000 else
                    "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        cached = bool(cur.fetchone()[0])
        connection._fupin_may_skip_row_triggers = cached
    return cached


def _check_references(cur, model, frame, fields: dict) -> None:
    """Every foreign key of the rows just copied in, checked and locked as PostgreSQL's per-row
    triggers would (the referenced row exists; FOR KEY SHARE keeps it from being deleted or its key
    changed before this transaction ends), but with one statement per column over its distinct
    values: on a semester run the per-row triggers were two thirds of the time, queued until COMMIT."""
    from django.db import IntegrityError

    for name, f in fields.items():
        if not (f.many_to_one and f.db_constraint) or name not in frame.columns:
            continue
        values = frame[name].drop_nulls().unique()
        if values.len() == 0:
            continue
        target = f.target_field
        ref, key = connection.ops.quote_name(target.model._meta.db_table), connection.ops.quote_name(target.column)
        cast = "bigint[]" if target.get_internal_type() in ("AutoField", "BigAutoField", "BigIntegerField",
                                                             "IntegerField") else "text[]"
        cur.execute(f"SELECT count(*) FROM (SELECT 1 FROM {ref} WHERE {key} = ANY(%s::{cast}) FOR KEY SHARE) found",
                    [values.to_list()])
        found = cur.fetchone()[0]
        if found != values.len():
            raise IntegrityError(f"{model._meta.db_table}.{f.column}: {values.len() - found} 个值在 "
                                 f"{target.model._meta.db_table} 中不存在")


def frame_from_query(queryset, schema: list[tuple]):
    """`queryset.values_list(<schema names>)` as a Polars frame, fetched with one cursor (no ORM
    per-row conversion). `schema` is [(field path, polars dtype)]; result columns are named by
    the path with "__" replaced by "_"."""
    import polars as pl

    names = [n for n, _ in schema]
    sql, params = queryset.values_list(*names).query.sql_with_params()
    if connection.vendor == "postgresql" and all(d in (pl.Int64, pl.Utf8, pl.Date, pl.Boolean) for _, d in schema):
        frame = _frame_by_copy(sql, params, [(n.replace("__", "_"), d) for n, d in schema])
        if frame is not None:
            return frame
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    raw = pl.DataFrame(rows, orient="row", schema=[(n.replace("__", "_"), pl.Int64 if d == pl.Boolean else d)
                                                   for n, d in schema] if connection.vendor == "sqlite" else
                       [(n.replace("__", "_"), d) for n, d in schema])
    if connection.vendor == "sqlite":  # SQLite gives booleans as 0/1
        raw = raw.with_columns([pl.col(n.replace("__", "_")).cast(pl.Boolean) for n, d in schema if d == pl.Boolean])
    return raw


def _frame_by_copy(sql: str, params, schema: list[tuple]):
    """PostgreSQL: the query's rows as CSV through COPY … TO STDOUT, parsed by Polars (a million
    rows without a Python object per value); None if a text value reads \\N (Polars would take it
    for NULL; the caller then fetches rows). The parameters are bound by the driver on the client
    side (psycopg's own quoting), since COPY takes none. Booleans come as t/f."""
    import polars as pl
    from psycopg import ClientCursor

    connection.ensure_connection()
    query = ClientCursor(connection.connection).mogrify(sql, params)
    buf = io.BytesIO()
    with connection.cursor() as cur:
        with cur.cursor.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, NULL '\\N')") as copy:
            for block in copy:
                buf.write(block)
    data = buf.getvalue()
    if not data:
        return pl.DataFrame(schema=schema)
    if b'"\\N"' in data:   # PostgreSQL quotes a real value that reads like its NULL
        return None
    frame = pl.read_csv(data, has_header=False, schema={n: pl.Utf8 if d == pl.Boolean else d for n, d in schema},
                        null_values="\\N", empty_string_is_null=False)   # PostgreSQL writes '' unquoted
    return frame.with_columns([(pl.col(n) == "t").alias(n) for n, d in schema if d == pl.Boolean])
