"""Precompiled statements for the hot paths (a settlement at the window, ADR 0022).

The ORM compiles every query anew: 0.5–1 ms of CPU per statement, most of what one settlement
costs. Here a statement's SQL is built once per model, column set and database from the models'
own metadata, each value written is adapted by its field as the ORM would (`pre_save`, then
`get_db_prep_save`), and each value read goes through the field's converters. Statements run on
Django's connection, so transactions, execute wrappers (query counts in tests) and both databases
behave as with the ORM. No signals are sent: no model of fupin has receivers, and a model whose
`save` refuses changes (the ledger, the audit log) is only ever inserted here.
"""
from __future__ import annotations

from functools import cache, lru_cache

from django.db import connections
from django.db.backends.utils import CursorWrapper
from django.db.models import AutoField, Model


def _connection(using: str):
    return connections[using]


class _KeptCursor(CursorWrapper):
    """A cursor kept open for the connection's life: leaving `with` does not close it."""

    def __exit__(self, *exc):
        pass


def _cursor(conn):
    """On PostgreSQL a cursor that binds its parameters on the server, so that psycopg prepares each
    statement once per connection (`prepare_threshold` in settings; the ORM's own cursors bind on the
    client and never prepare). Wrapped as Django wraps its cursors: database errors, execute wrappers
    and query logging are the same. One such cursor is kept per connection and reused (a psycopg cursor
    starts afresh at each execute); while queries are logged (tests, DEBUG) each use gets its own."""
    if conn.vendor != "postgresql":
        return conn.cursor()
    kept = getattr(conn, "_fupin_kept_cursor", None)
    if (kept is not None and conn.connection is not None and kept.cursor.connection is conn.connection
            and not kept.cursor.closed and not conn.queries_logged):
        return kept   # the usual case, checked first: every statement of the window's claims asks
    from django.db.backends.postgresql.base import ServerBindingCursor

    conn.ensure_connection()
    if conn.queries_logged:
        return conn.make_debug_cursor(ServerBindingCursor(conn.connection))
    if kept is None or kept.cursor.connection is not conn.connection or kept.cursor.closed:
        kept = conn._fupin_kept_cursor = _KeptCursor(ServerBindingCursor(conn.connection), conn)
    return kept


@cache
def _insert_head(model: type[Model], using: str) -> tuple[str, list]:
    """`INSERT INTO table (columns)` of every column but the automatic key, and those columns' fields."""
    q = _connection(using).ops.quote_name
    fields = [f for f in model._meta.concrete_fields if not isinstance(f, AutoField)]
    return f"INSERT INTO {q(model._meta.db_table)} ({', '.join(q(f.column) for f in fields)})", fields


@lru_cache(maxsize=256)
def _insert_plan(model: type[Model], using: str, rows: int) -> tuple[str, list]:
    conn = _connection(using)
    head, fields = _insert_head(model, using)
    returning = conn.features.can_return_rows_from_bulk_insert
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = (f"{head} VALUES " + ", ".join([one] * rows)
           + (f" RETURNING {conn.ops.quote_name(model._meta.pk.column)}" if returning else ""))
    return sql, fields


def _adapted(objs: list[Model], fields: list, conn) -> list:
    """Each value written, adapted by its field as the ORM adapts it."""
    return [f.get_db_prep_save(f.pre_save(obj, True), conn) for obj in objs for f in fields]


def insert(objs: list[Model], using: str = "default") -> list[Model]:
    """INSERT new instances of one model in one statement; each gets its primary key. The SQL of
    each (model, number of rows) is built once."""
    if not objs:
        return objs
    model, conn = type(objs[0]), _connection(using)
    sql, fields = _insert_plan(model, using, len(objs))
    if conn.features.can_return_rows_from_bulk_insert:
        ids = [row[0] for row in _run(sql, _adapted(objs, fields, conn), using, _rows)]
    else:   # an SQLite older than 3.35: the rows of one INSERT get consecutive ids
        last = _run(sql, _adapted(objs, fields, conn), using, lambda cur: cur.lastrowid)
        ids = list(range(last - len(objs) + 1, last + 1))
    # PostgreSQL returns the rows of a multi-row INSERT in VALUES order, SQLite too (one statement)
    for obj, pk in zip(objs, ids):
        saved(obj, pk, using)
    return objs


def insert_with(obj: Model, then: Model, key_to: str, using: str = "default") -> Model:
    """INSERT `obj`, then `then`, whose text column `key_to` gets `obj`'s new key (an audit row naming
    the row it records): one statement on PostgreSQL (a WITH), two elsewhere. Returns `obj`."""
    if not can_write_with(using):
        insert([obj], using)
        setattr(then, key_to, str(obj.pk))
        insert([then], using)
        return obj
    q = _connection(using).ops.quote_name
    head, params = insert_parts([obj], using)
    rows, then_params = insert_parts([then], using, given={key_to: "(SELECT id FROM o)::text"})
    pk = q(type(obj)._meta.pk.column)
    row = fetch_one(f"WITH o AS ({head} RETURNING {pk} AS id), t AS ({rows}) SELECT id FROM o", params + then_params, using)
    setattr(then, key_to, str(row[0]))
    return saved(obj, row[0], using)


def saved(obj: Model, pk, using: str = "default") -> Model:
    """`obj` as written, with its primary key (for an INSERT the caller wrote in its own SQL)."""
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = using
    return obj


def insert_parts(objs: list[Model], using: str = "default", given: dict | None = None) -> tuple[str, list]:
    """An INSERT of new instances of one model (no RETURNING) and its parameters, adapted as `insert`
    adapts them, to be part of a larger statement the caller writes (a WITH). `given`: columns whose
    value is the caller's own SQL expression (e.g. another part's new key), by attribute name."""
    head, fields = _insert_head(type(objs[0]), using)
    given = given or {}
    row = "(" + ", ".join(given.get(f.attname, "%s") for f in fields) + ")"
    bound = [f for f in fields if f.attname not in given]
    return f"{head} VALUES " + ", ".join([row] * len(objs)), _adapted(objs, bound, _connection(using))


@cache
def _select_plan(model: type[Model], using: str, alias: str) -> tuple[str, list, list]:
    conn = _connection(using)
    q = conn.ops.quote_name
    fields = list(model._meta.concrete_fields)
    converters = []
    for f in fields:
        col = f.get_col(alias)
        converters.append((col, conn.ops.get_db_converters(col) + col.get_db_converters(conn)))
    return ", ".join(f"{q(alias)}.{q(f.column)}" for f in fields), [f.attname for f in fields], converters


def columns(model: type[Model], alias: str, using: str = "default") -> str:
    """The SELECT list of every column of `model`, from the table named `alias`."""
    return _select_plan(model, using, alias)[0]


def width(model: type[Model]) -> int:
    return len(model._meta.concrete_fields)


def instance(model: type[Model], row, start: int, alias: str, using: str = "default") -> Model | None:
    """The instance whose columns (as `columns` lists them) begin at `row[start]`; None for the
    NULLs of an outer join."""
    conn = _connection(using)
    _, names, converters = _select_plan(model, using, alias)
    values = list(row[start:start + len(names)])
    if values[names.index(model._meta.pk.attname)] is None:
        return None
    for i, (col, found) in enumerate(converters):
        for convert in found:
            values[i] = convert(values[i], col, conn)
    return model.from_db(using, names, values)


def can_write_with(using: str = "default") -> bool:
    """Can one statement make several writes (a WITH of INSERTs and UPDATEs)? PostgreSQL, not SQLite."""
    return _connection(using).vendor == "postgresql"


def table(model: type[Model], using: str = "default") -> str:
    return _connection(using).ops.quote_name(model._meta.db_table)


def _rows(cur) -> list[tuple]:
    return cur.fetchall()


def _count(cur) -> int:
    return cur.rowcount


def _run(sql: str, params, using: str, result):
    """Execute one statement and take `result` of its cursor. On the kept cursor (PostgreSQL) straight
    on psycopg's cursor, as Django's cursor wrapper would (a broken transaction refused, database
    errors translated) without its per-call layers, unless execute wrappers are installed (tests
    count statements with them): then through the wrapper."""
    conn = _connection(using)
    with _cursor(conn) as cur:
        if conn.execute_wrappers or type(cur) is not _KeptCursor:
            cur.execute(sql, params)
            return result(cur)
        conn.validate_no_broken_transaction()
        with conn.wrap_database_errors:
            cur.cursor.execute(sql, params)
            return result(cur.cursor)


def fetch(sql: str, params, using: str = "default") -> list[tuple]:
    return _run(sql, params, using, _rows)


def fetch_one(sql: str, params, using: str = "default") -> tuple | None:
    """The first row, or None."""
    rows = fetch(sql, params, using)
    return rows[0] if rows else None


def execute(sql: str, params, using: str = "default") -> int:
    """A statement that returns no rows; the number of rows it changed."""
    return _run(sql, params, using, _count)
