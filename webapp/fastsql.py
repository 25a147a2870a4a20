"""Hand-written SQL for the few hot paths, without losing what the ORM guarantees about values.

The annotation API's next-task and submit requests run on every click of every annotator; building their ORM
queries (filter resolution, joins, compilation) cost more CPU than executing them (bench/annotation_load.py). The
statements here are written once, per model and database vendor, and cached:

* values written go through each field's ``get_db_prep_save`` (JSON, datetimes with time zones, booleans), exactly
  as ``Model.save()`` would;
* rows read come back through each field's converters (``from_db_value``, the backend's datetime/boolean
  converters) and ``Model.from_db``, so they are ordinary model instances;
* ``RETURNING`` (PostgreSQL; SQLite 3.35+) gives inserted ids and updated rows in the same statement;
* on PostgreSQL the statements run prepared, and the first one of a transaction carries the transaction's
  ``BEGIN`` in the same round trip (``_begin_with``).

Only table and column names from model metadata are interpolated, and the code's own enum constants where a plan
depends on them (``constant``); every other value is a bound parameter.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Collection, Iterable, Iterator, Sequence
from functools import cache
from typing import Any, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Model

M = TypeVar("M", bound=Model)


def _db():
    """This thread's default connection itself. ``django.db.connection`` is a proxy that looks the connection up on
    every attribute access (~2 µs each); the hot statements touch it dozens of times per request."""
    return connections[DEFAULT_DB_ALIAS]


def q(name: str) -> str:
    return connection.ops.quote_name(name)


def table(model: type[Model]) -> str:
    return q(model._meta.db_table)


def col(model: type[Model], field: str) -> str:
    return q(model._meta.get_field(field).column)


@cache
def _converters(model: type[Model], vendor: str) -> list[tuple[Any, list]]:
    """Per concrete field: the column expression and the converters the ORM's compiler would apply to it."""
    out = []
    for field in model._meta.concrete_fields:
        expression = field.get_col(model._meta.db_table)
        out.append((expression, connection.ops.get_db_converters(expression) + field.get_db_converters(connection)))
    return out


def constant(value: str) -> str:
    """A fixed value of the code's own (an enum member, never input) written into a statement's text.

    For prepared statements whose plan depends on it: a bound value is unknown to PostgreSQL's generic plan, which
    then estimates from the column's average, not from how rare this value is.
    """
    if not re.fullmatch(r"[A-Za-z0-9_]+", value):
        raise ValueError(f"not a plain constant: {value!r}")
    return f"'{value}'"


def select_list(model: type[Model], alias: str = "") -> str:
    """Every concrete column of the model (prefixed with a table alias if given), in ``concrete_fields`` order."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(f"{prefix}{q(f.column)}" for f in model._meta.concrete_fields)


@cache
def _attnames(model: type[Model]) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields]


def instance(model: type[M], values: Sequence[Any]) -> M:
    """A model instance from a row laid out as ``select_list(model, ...)``, values converted as the ORM would."""
    db = _db()
    converted = []
    for (expression, converters), value in zip(_converters(model, db.vendor), values, strict=True):
        for converter in converters:
            value = converter(value, expression, db)
        converted.append(value)
    return model.from_db(db.alias, _attnames(model), converted)


def width(model: type[Model]) -> int:
    return len(model._meta.concrete_fields)


def prep(model: type[Model], field: str, value: Any) -> Any:
    """A value as the database expects it for this field (what ``save()`` sends)."""
    return model._meta.get_field(field).get_db_prep_save(value, _db())


def json_value(value: Any) -> Any:
    """A JSON column read by raw SQL: text on SQLite (and on PostgreSQL, where Django loads jsonb as text)."""
    return json.loads(value) if isinstance(value, str | bytes) else value


@cache
def insert_sql(model: type[Model], fields: tuple[str, ...], vendor: str) -> str:
    """``INSERT`` of one row of ``fields`` (``%s`` placeholders in that order) ``RETURNING`` its id."""
    columns = ", ".join(col(model, f) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    return f"INSERT INTO {table(model)} ({columns}) VALUES ({marks}) RETURNING {col(model, 'id')}"


@contextlib.contextmanager
def _cursor(sql: str, params: Sequence[Any]) -> Iterator[Any]:
    """A cursor that has run the statement.

    On PostgreSQL (unless ``DATABASE_PREPARED_STATEMENTS`` is off, e.g. behind a transaction-pooling PgBouncer) the
    statement runs as a server-side prepared statement on Django's connection: these few statements run on every
    click, and parsing and planning them each time was ~40 % of PostgreSQL's CPU per judgment
    (bench/annotation_load.py). Django's ORM keeps its client-side binding; errors are wrapped as Django's, and the
    statement is logged where Django logs queries (``CaptureQueriesContext``, ``DEBUG``).
    """
    db = _db()
    if db.vendor != "postgresql" or not getattr(settings, "DATABASE_PREPARED_STATEMENTS", False):
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            yield cursor
        return
    import psycopg

    db.close_if_health_check_failed()  # as Django's cursors do (CONN_HEALTH_CHECKS; webapp/postgresql_backend)
    db.ensure_connection()
    db.validate_no_broken_transaction()
    raw = db.connection
    # One cursor per connection, reused: a new psycopg cursor builds new type loaders for every result (the
    # timestamptz loader looks the session's time zone up each time). A nested use gets a cursor of its own.
    shared = getattr(db, "_fastsql_cursor", None)
    if shared is None or shared.connection is not raw:
        if raw.prepare_threshold is None:
            raw.prepare_threshold = 2**31 - 1  # only what asks to be prepared (below), never the ORM's queries
        shared = db._fastsql_cursor = psycopg.Cursor(raw)
        db._fastsql_cursor_busy = False
    nested = db._fastsql_cursor_busy
    cursor = psycopg.Cursor(raw) if nested else shared
    db._fastsql_cursor_busy = True
    start = time.monotonic()
    with db.wrap_database_errors:
        try:
            if _opens_transaction(db, raw):
                _begin_with(raw, cursor, sql, params)
            else:
                cursor.execute(sql, params, prepare=True)
            yield cursor
        finally:
            if nested:
                cursor.close()
            else:
                db._fastsql_cursor_busy = False
            if db.queries_logged:
                db.queries_log.append({"sql": f"{sql} -- {list(params)!r}", "time": f"{time.monotonic() - start:.3f}"})


def _opens_transaction(db: Any, raw: Any) -> bool:
    """Whether this statement is the first of a transaction Django has begun (an outermost ``atomic`` entered in
    autocommit mode: it ends the transaction itself on exit) and psycopg would open with a ``BEGIN`` of its own."""
    from psycopg import pq

    return (
        db.in_atomic_block
        and db.commit_on_exit
        and not raw.autocommit
        and raw.pgconn.transaction_status == pq.TransactionStatus.IDLE
        and _pipeline_supported()
    )


def _begin_with(raw: Any, cursor: Any, sql: str, params: Sequence[Any]) -> None:
    """Send the transaction's ``BEGIN`` and its first statement together (psycopg's pipeline mode): one round trip
    instead of two, for every transaction whose first statement goes through here (each next-task and submit).

    psycopg is switched to autocommit first, so that it does not send a ``BEGIN`` of its own (which it waits for):
    the server's transaction is opened by the one sent here, and psycopg then sends the transaction's later
    statements, and Django's ``COMMIT`` or ``ROLLBACK`` at the end of the ``atomic`` block, as it would inside any
    transaction (it sends them whenever the server reports one open). Django sets autocommit back on at that exit,
    as always. Only an outermost block that Django ends itself qualifies (``commit_on_exit``): with autocommit
    managed by hand, psycopg's setting is left alone.
    """
    raw.autocommit = True
    with raw.pipeline():
        cursor.execute(_begin_statement(raw), prepare=False)
        cursor.execute(sql, params, prepare=True)


def _begin_statement(raw: Any) -> bytes:
    """``BEGIN`` with the connection's isolation level (Django's ``OPTIONS["isolation_level"]``), as psycopg's own."""
    level = raw.isolation_level
    return b"BEGIN" if level is None else b"BEGIN ISOLATION LEVEL " + level.name.replace("_", " ").encode()


@cache
def _pipeline_supported() -> bool:
    """Whether psycopg's libpq has pipeline mode (libpq 14+; the binary wheels bundle one)."""
    import psycopg

    return psycopg.Pipeline.is_supported()


def insert(model: type[Model], values: dict[str, Any]) -> int:
    """Insert one row (field name → Python value) and return its id."""
    with _cursor(insert_sql(model, tuple(values), connection.vendor), prep_row(model, values)) as cur:
        return cur.fetchone()[0]


def create(model: type[M], values: dict[str, Any]) -> M:
    """Insert one row and return it as a saved instance (no ``save()``, no query to build; no signals are sent)."""
    return saved(model, insert(model, values), values)


def saved(model: type[M], pk: Any, values: dict[str, Any]) -> M:
    """The instance of a row just inserted with ``values`` under ``pk``, as a saved one."""
    obj = model(pk=pk, **values)
    obj._state.adding = False
    obj._state.db = DEFAULT_DB_ALIAS
    return obj


def prep_row(model: type[Model], values: dict[str, Any]) -> list[Any]:
    """``prep`` for each value of a field name → value mapping, in its order."""
    db = _db()
    return [model._meta.get_field(f).get_db_prep_save(v, db) for f, v in values.items()]


def insert_many(model: type[Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert rows in one multi-row statement (field names in ``fields`` order; Python values)."""
    rows = list(rows)
    if not rows:
        return
    columns = ", ".join(col(model, f) for f in fields)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    db = _db()
    preps = [model._meta.get_field(f).get_db_prep_save for f in fields]
    params: list[Any] = []
    for row in rows:
        params.extend(p(v, db) for p, v in zip(preps, row, strict=True))
    with _cursor(f"INSERT INTO {table(model)} ({columns}) VALUES {', '.join([one] * len(rows))}", params):
        pass


def fetchone(sql: str, params: Sequence[Any]) -> tuple | None:
    with _cursor(sql, params) as cursor:
        return cursor.fetchone()


def fetchall(sql: str, params: Sequence[Any]) -> list[tuple]:
    with _cursor(sql, params) as cursor:
        return cursor.fetchall()


def execute(sql: str, params: Sequence[Any]) -> int:
    """Run a statement; the number of rows it changed."""
    with _cursor(sql, params) as cursor:
        return cursor.rowcount


def for_update(of: str = "", *, skip_locked: bool = False) -> str:
    """``FOR UPDATE [OF ...] [SKIP LOCKED]`` where the database has row locks; SQLite serializes writers instead."""
    features = connection.features
    if not features.has_select_for_update or (of and not features.has_select_for_update_of):
        return ""
    if skip_locked and not features.has_select_for_update_skip_locked:
        return ""
    return " FOR UPDATE" + (f" OF {of}" if of else "") + (" SKIP LOCKED" if skip_locked else "")


# --- reading many rows once, in order (exports) --------------------------------------------------------------------

# SQLite page cache while streaming: 2 MiB (negative: KiB). A single ordered pass gains nothing from a larger cache.
STREAMING_SQLITE_CACHE_KIB = 2048


@contextlib.contextmanager
def streaming_read() -> Iterator[None]:
    """The connection set up for one long ordered read (an export): see ``streamed``.

    PostgreSQL: a transaction, unless one is open already. In autocommit mode Django declares a named cursor WITH
    HOLD, and PostgreSQL then runs the whole query and stores every row before sending the first (1M rows: ~10 s and
    1.3 GB of temp files, bench/export.py); inside a transaction the cursor is WITHOUT HOLD and rows are produced as
    they are fetched. The transaction is REPEATABLE READ, so lookups made beside the cursor see its snapshot.

    SQLite: stays in autocommit (an atomic block would take the write lock, IMMEDIATE), and the connection's page
    cache and memory map are shrunk for the duration: one ordered pass gains nothing from them, and they would grow
    the process by up to their configured sizes (settings: 64 MiB + 256 MiB) as a large export reads the file. The
    configured values come back afterwards, also when the reader stops early (the generator is closed).
    """
    if connection.vendor == "sqlite":
        with _lean_sqlite_caches():
            yield
    elif connection.vendor == "postgresql" and not connection.in_atomic_block:
        with transaction.atomic():
            execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", [])
            yield
    else:
        yield


@contextlib.contextmanager
def _lean_sqlite_caches() -> Iterator[None]:
    connection.ensure_connection()
    raw = connection.connection
    with connection.wrap_database_errors:
        cache_size = int(raw.execute("PRAGMA cache_size").fetchone()[0])
        mmap_size = int(raw.execute("PRAGMA mmap_size").fetchone()[0])
        lean = (cache_size, mmap_size) == (-STREAMING_SQLITE_CACHE_KIB, 0)  # nested: the outer read restores
        if not lean:
            raw.execute(f"PRAGMA cache_size = -{STREAMING_SQLITE_CACHE_KIB}")
            raw.execute("PRAGMA mmap_size = 0")
    try:
        yield
    finally:
        # A connection closed (or replaced) meanwhile starts from the settings' init_command anyway.
        if not lean and connection.connection is raw:
            with connection.wrap_database_errors:
                raw.execute(f"PRAGMA cache_size = {cache_size}")
                raw.execute(f"PRAGMA mmap_size = {mmap_size}")


@contextlib.contextmanager
def streamed(sql: str, params: Sequence[Any], size: int) -> Iterator[Iterator[list[tuple]]]:
    """The statement's rows, ``size`` at a time, as the consumer asks for them, under ``streaming_read``.

    Django's chunked cursor: on PostgreSQL a named (server-side) cursor with Django's binding and type loaders, on
    SQLite a plain cursor (SQLite steps through the result as it is fetched). Errors come as Django's. Leaving the
    block (also early) closes the cursor first, then ends the streaming read. Other statements may run meanwhile.
    """
    with streaming_read(), connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        yield iter(lambda: cursor.fetchmany(size), [])


def id_in(column: str, ids: Collection[int]) -> tuple[str, list[Any]]:
    """``column`` among ``ids`` as one bound parameter (thousands of ids, one statement text)."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(ids)]
    return f"{column} IN (SELECT value FROM json_each(%s))", [json.dumps(list(ids))]
