"""Many rows into one table within the caller's transaction: on PostgreSQL one ``unnest``
statement (a few rows) or COPY (many); on SQLite multi-row ``VALUES`` through the driver
(``_sqlite_many``); elsewhere executemany.

Why: a 999-item declaration's goods items cost about 60 ms through psycopg's pipelined
executemany (a Bind/Execute per row, and an executor start-up per row on the server) and about
22 ms through ``COPY ... FROM STDIN``, which psycopg streams for us. COPY's set-up is not worth
it for a handful of rows (a group of single declarations): those go as one prepared ``INSERT ...
SELECT FROM unnest(arrays)`` per table, whose text does not change with the number of rows.
Every value goes through its column's bind processor first, as executemany would apply it,
and a driver error comes out as SQLAlchemy's (a lost connection as ``OperationalError``, with
the connection invalidated), so callers and error handlers see one behaviour for both paths.
Not for use inside psycopg's pipeline mode, where PostgreSQL refuses COPY.

``hold_back_inserts`` goes further for a transaction that stores a group of declarations: the
rows that need no answer are not sent one statement at a time, each waiting for its reply, but
held until the connection next needs an answer (any other statement) or commits, and then sent
together in psycopg's pipeline mode, with the COMMIT when it is the commit: one round trip where
there were a dozen. Inserts into different tables go as one statement of data-modifying ``WITH``
clauses (``_together``), which costs the server one statement's start and end instead of one each.

``insert_returning`` does the same for rows whose ids (or whose fate, with ``ON CONFLICT DO
NOTHING``) the caller needs back: executemany sends them as SQLAlchemy's insertmanyvalues, a
multi-row ``INSERT ... VALUES (...), (...) RETURNING`` of some 20,000 parameters for a batch of
1,000 declarations, which psycopg rewrites placeholder by placeholder without its query cache and
the server parses and plans whole (about 0.2 ms of each per row). On PostgreSQL the rows are
COPYed into a temporary staging table instead and moved by one ``INSERT ... SELECT``.
"""
from __future__ import annotations

import json
import re
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import chain
from itertools import count as count_from
from operator import itemgetter
from typing import Any, cast

import psycopg
from psycopg import sql
from psycopg.types.array import ListBinaryDumper
from psycopg.types.json import Json, Jsonb
from sqlalchemy import ARRAY, Column, Connection, DateTime, Dialect, Engine, Table, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.sql.dml import Insert

COPY_FROM_ROWS = 50


def insert_rows(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` on ``connection``."""
    if not rows:
        return
    if not _copy_stores_as_executemany(connection, table, rows[0]):
        if _sqlite_many(connection, table, rows) is None:
            connection.execute(table.insert(), list(rows))
    elif len(rows) >= COPY_FROM_ROWS:
        _copy(connection, table, rows)
    elif (len(rows) == 1 and connection not in _HELD) or _unnested(connection, table, rows) is None:
        connection.execute(table.insert(), list(rows))


def _copy_stores_as_executemany(connection: Connection, table: Table, row: dict[str, Any]) -> bool:
    """COPY only where it is known to store what executemany would: psycopg 3 on PostgreSQL, no
    column left to a Python-side default (COPY applies server defaults only), no timestamp
    without time zone (executemany converts an aware value to the session's zone; COPY of the
    text would keep its wall-clock time). The same holds for ``_unnested``'s arrays."""
    dialect = connection.dialect
    if dialect.name != "postgresql" or dialect.driver != "psycopg":
        return False
    key = (table, frozenset(row))
    found = _AS_EXECUTEMANY.get(key)
    if found is None:
        found = _AS_EXECUTEMANY[key] = all(
            not (column.default is not None and column.name not in row)
            and not (column.name in row and isinstance(column.type, DateTime) and not column.type.timezone)
            for column in table.columns)
    return found


_AS_EXECUTEMANY: dict[tuple[Table, frozenset[str]], bool] = {}


def insert_returning(connection: Connection, table: Table, rows: Sequence[dict[str, Any]],
                     returning: Sequence[Column[Any]], *, unless_taken: Sequence[Column[Any]] = (),
                     or_any_key: bool = False) -> list[tuple[Any, ...]]:
    """Insert ``rows`` (dicts with the same keys) into ``table`` and return the values of the
    ``returning`` columns (a tuple each) of the rows inserted, in no particular order.
    ``unless_taken``: the columns of a unique constraint; a row whose key is already stored is
    skipped (``ON CONFLICT DO NOTHING``) and returns nothing, as are all but one of rows
    repeating a key (the caller sends each key once). ``or_any_key``: so is a row breaking any
    other unique key of the table (its primary key, say: ``ON CONFLICT DO NOTHING`` without a
    target); the caller tells which from what it finds stored."""
    if not rows:
        return []
    conflict = _conflict(unless_taken, or_any_key)
    postgresql_rows = _copy_stores_as_executemany(connection, table, rows[0])
    if postgresql_rows and len(rows) >= COPY_FROM_ROWS:
        return _staged(connection, table, rows, returning, conflict)
    if postgresql_rows and len(rows) > 1:
        found = _unnested(connection, table, rows, returning, conflict)
        if found is not None:
            return found
    found = _sqlite_many(connection, table, rows, returning, conflict)
    if found is not None:
        return found
    statement = _returning_statement(connection.dialect.name, table, tuple(returning), conflict)
    return [tuple(row) for row in connection.execute(statement, list(rows))]


#: Which conflicts an insert skips: None, none (the insert fails); ``ANY_KEY``, a row breaking any
#: unique key; otherwise the columns of one unique constraint.
Conflict = tuple[Column[Any], ...] | None
ANY_KEY: tuple[Column[Any], ...] = ()


def _conflict(unless_taken: Sequence[Column[Any]], or_any_key: bool) -> Conflict:
    if or_any_key:
        return ANY_KEY
    return tuple(unless_taken) or None


def _sqlite_many(connection: Connection, table: Table, rows: Sequence[dict[str, Any]],
                 returning: Sequence[Column[Any]] = (), unless_taken: Conflict = None
                 ) -> list[tuple[Any, ...]] | None:
    """SQLite: ``rows`` through the driver's cursor as multi-row ``INSERT ... VALUES (...),
    (...)`` statements, as few as SQLite's limit on parameters allows (one for a group of single
    declarations), each value through its column's bind processor as SQLAlchemy would apply it
    and each value returned through its column's result processor. None where the rows cannot
    go so (a column left to a Python-side default, which only SQLAlchemy computes; no
    transaction begun): the caller then uses SQLAlchemy.

    Why: on SQLite every writer waits for the write gate, so the gate's holder sets the pace of
    every worker, and a group of single declarations spent most of its time under the gate in
    SQLAlchemy's execution of a dozen statements (the statement's cache key, a parameter dict
    processed per row, a result per statement) and in waiting for the interpreter lock, which
    the sqlite3 module lets go for every row an executemany steps through (while the worker's
    other threads take it). One statement per table lets it go once (bench/RESULTS.md, seventh
    session). Listeners of ``before_cursor_execute`` still see every statement."""
    if connection.dialect.name != "sqlite" or not connection.in_transaction():
        return None
    names = tuple(rows[0])
    key = (table, names, tuple(returning), unless_taken)
    if key not in _SQLITE:
        _SQLITE[key] = _sqlite_plan(connection.dialect, table, names, returning, unless_taken)
    plan = _SQLITE[key]
    if plan is None:
        return None
    head, placeholders, tail, binds, results = plan
    records = _bound_records(rows, names, binds)
    driver_connection = connection.connection.driver_connection
    assert driver_connection is not None, "a checked-out connection has its driver connection"
    cursor = driver_connection.cursor()
    statement = head
    found: list[tuple[Any, ...]] = []
    per_statement = max(_SQLITE_PARAMETERS // len(names), 1)
    try:
        for start in range(0, len(records), per_statement):
            chunk = records[start:start + per_statement]
            statement = head + ", ".join([placeholders] * len(chunk)) + tail
            flat = list(chain.from_iterable(chunk))
            connection.dispatch.before_cursor_execute(connection, cursor, statement, flat, None, False)
            cursor.execute(statement, flat)
            if returning:
                found.extend(cursor.fetchall())
    except driver_connection.Error as error:  # the sqlite3 module's errors, on its connection
        raise driver_error(connection, driver_connection, statement, error) from error
    finally:
        cursor.close()
    if results:
        return [tuple(value if convert is None else convert(value) for value, convert in zip(row, results))
                for row in found]
    return [tuple(row) for row in found]


def _sqlite_plan(dialect: Dialect, table: Table, names: tuple[str, ...], returning: Sequence[Column[Any]],
                 unless_taken: Conflict) -> _SqlitePlan | None:
    """The statement of ``_sqlite_many`` in three parts (up to ``VALUES``, one row's
    placeholders, the rest), the bind processors by column index and the result processors
    of ``returning`` (none at all where no column has one); None when a column not given has
    a Python-side default."""
    if any(column.default is not None and column.name not in names for column in table.columns):
        return None
    quote = dialect.identifier_preparer.quote
    head = f"INSERT INTO {_quoted_target(dialect, table)} ({', '.join(quote(name) for name in names)}) VALUES "
    results: list[Callable[[Any], Any] | None] = [
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in returning]
    return (head, f"({', '.join('?' * len(names))})", _upsert_tail(dialect, returning, unless_taken),
            _bind_processors(dialect, table, names), results if any(convert is not None for convert in results) else [])


def _quoted_target(dialect: Dialect, table: Table) -> str:
    """The table's name (with its schema) quoted for a statement's text."""
    quote = dialect.identifier_preparer.quote
    return ".".join(quote(part) for part in ([table.schema] if table.schema else []) + [table.name])


def _upsert_tail(dialect: Dialect, returning: Sequence[Column[Any]], unless_taken: Conflict) -> str:
    """What an insert's text ends with: ``ON CONFLICT [(key)] DO NOTHING`` for ``unless_taken``,
    ``RETURNING`` for ``returning``."""
    quote = dialect.identifier_preparer.quote
    tail = ""
    if unless_taken is not None:
        target = f" ({', '.join(quote(column.name) for column in unless_taken)})" if unless_taken else ""
        tail += f" ON CONFLICT{target} DO NOTHING"
    if returning:
        tail += f" RETURNING {', '.join(quote(column.name) for column in returning)}"
    return tail


def _bind_processors(dialect: Dialect, table: Table, names: Sequence[str]) -> list[tuple[int, Callable[[Any], Any]]]:
    """Each column's bind processor (as SQLAlchemy applies it to a parameter) by its index in
    ``names``; the columns without one are left out."""
    return [(index, bind) for index, name in enumerate(names)
            if (bind := table.c[name].type.dialect_impl(dialect).bind_processor(dialect)) is not None]


def _bound_records(rows: Sequence[dict[str, Any]], names: Sequence[str],
                   binds: Sequence[tuple[int, Callable[[Any], Any]]]) -> list[list[Any]]:
    """``rows`` as lists of their values in the order of ``names``, each through its bind processor."""
    values = itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))
    records: list[list[Any]] = []
    for row in rows:
        record = list(values(row))
        for index, convert in binds:
            record[index] = convert(record[index])
        records.append(record)
    return records


_SqlitePlan = tuple[str, str, str, list[tuple[int, Callable[[Any], Any]]], list[Callable[[Any], Any] | None]]
_SQLITE: dict[tuple[Table, tuple[str, ...], tuple[Column[Any], ...], Conflict], _SqlitePlan | None] = {}
#: SQLite's limit on a statement's parameters (SQLITE_MAX_VARIABLE_NUMBER since 3.32).
_SQLITE_PARAMETERS = 32766


def _returning_statement(dialect_name: str, table: Table, returning: tuple[Column[Any], ...],
                         unless_taken: Conflict) -> Insert:
    """The executemany statement of ``insert_returning``, built once per dialect and shape."""
    key = (dialect_name, table, returning, unless_taken)
    statement = _RETURNING.get(key)
    if statement is None:
        if unless_taken is not None:
            insert = postgresql.insert if dialect_name == "postgresql" else sqlite.insert
            statement = insert(table).on_conflict_do_nothing(
                index_elements=list(unless_taken) or None).returning(*returning)
        else:
            statement = table.insert().returning(*returning)
        _RETURNING[key] = statement
    return statement


_RETURNING: dict[tuple[str, Table, tuple[Column[Any], ...], Conflict], Insert] = {}


def _staged(connection: Connection, table: Table, rows: Sequence[dict[str, Any]],
            returning: Sequence[Column[Any]], unless_taken: Conflict) -> list[tuple[Any, ...]]:
    """COPY ``rows`` into a temporary table of the same columns (no constraints), then one
    ``INSERT ... SELECT ... [ON CONFLICT (key) DO NOTHING] RETURNING``. The staging table is
    dropped once used (and with the transaction or savepoint, should anything fail first), so a
    unit of work may stage the same table again."""
    names = list(rows[0])
    columns = sql.SQL(", ").join(map(sql.Identifier, names))
    stage = sql.Identifier(f"csw_stage_{table.name}")
    target = _identifier(table)
    create = sql.SQL("CREATE TEMPORARY TABLE {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA").format(
        stage, columns, target)
    conflict: sql.Composable = sql.SQL("")
    if unless_taken:
        conflict = sql.SQL(" ON CONFLICT ({}) DO NOTHING").format(
            sql.SQL(", ").join(sql.Identifier(column.name) for column in unless_taken))
    elif unless_taken is not None:
        conflict = sql.SQL(" ON CONFLICT DO NOTHING")
    move = sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}{} RETURNING {}").format(
        target, columns, columns, stage, conflict, sql.SQL(", ").join(sql.Identifier(c.name) for c in returning))
    with _driver(connection, move) as driver_connection, driver_connection.cursor() as cursor:
        cursor.execute(create)
        _write(connection, cursor, table, sql.SQL("COPY {} ({}) FROM STDIN").format(stage, columns), names, rows)
        cursor.execute(move)
        found = cursor.fetchall()
        cursor.execute(sql.SQL("DROP TABLE {}").format(stage))
    return found


def _unnested(connection: Connection, table: Table, rows: Sequence[dict[str, Any]],
              returning: Sequence[Column[Any]] = (), unless_taken: Conflict = None
              ) -> list[tuple[Any, ...]] | None:
    """Insert a few rows on PostgreSQL with one statement whose text does not depend on how
    many there are: ``INSERT ... SELECT ... FROM unnest(%t::type[], ...) WITH ORDINALITY``, one
    array per column, the rows taking their ids in the order given. None when the rows cannot
    go so (a value of a Python type not written below, or an array column, which ``unnest``
    would flatten): the caller then uses executemany.

    Why: psycopg's executemany sends a Bind and Execute per row and polls the socket for each;
    SQLAlchemy's multi-row ``VALUES`` for ``RETURNING`` is a new text for every row count,
    rewritten and parsed each time. One prepared statement per table and column set costs the
    client about a tenth less CPU per declaration for the handful of rows a group of single
    declarations stores, and the server no more (bench/RESULTS.md, fifth session).

    Each array but a ``bytea`` one goes as the text of an array literal, which the server casts
    to the column's type: its parameter type is then the same whatever the values, so the
    statement stays one prepared statement. psycopg types an array by its values (``int2[]`` or
    ``int4[]`` by their size, nothing for an array of NULLs), and prepares a statement per text
    and parameter types, so rows differing only in which optional columns they fill were
    planned afresh each time. A ``bytea`` array goes in binary: a document body as its bytes,
    not as hex text the server would decode."""
    names = tuple(rows[0])
    key = (table, names, tuple(returning), unless_taken)
    if key not in _UNNEST:
        _UNNEST[key] = _unnest_plan(connection, table, names, returning, unless_taken)
    plan = _UNNEST[key]
    if plan is None:
        return None
    statement, binds, kinds = plan
    arrays: list[object] = []
    for name, bind, kind in zip(names, binds, kinds, strict=True):
        values = [row[name] for row in rows]
        if bind is not None:
            values = [bind(value) for value in values]
        if kind == "BYTEA":
            if any(value is not None and type(value) is not bytes and type(value) is not psycopg.Binary
                   for value in values):
                return None
            arrays.append(_ByteaArray(values))
            continue
        literal = array_literal(values, floats=kind in _FLOATS)
        if literal is None:
            return None
        arrays.append(literal)
    if not returning and hold_back(connection, statement, tuple(arrays), (table.name,)):
        return []
    result = connection.exec_driver_sql(statement, tuple(arrays))
    return [tuple(row) for row in result] if returning else []


#: Column types whose values may be Python floats, written as ``repr`` writes them (the shortest
#: text that reads back as the same double). A float bound for a NUMERIC column is not written
#: so: executemany would send it as a double, which the server rounds to 15 digits.
_FLOATS = frozenset({"FLOAT", "DOUBLE PRECISION", "REAL"})


def array_literal(values: Sequence[Any], *, floats: bool) -> str | None:
    """``values`` as the text of a PostgreSQL array literal, each element quoted (NULL for None),
    written as the server reads the column's type from text; None for a value of another type
    (a float too, unless ``floats``)."""
    elements: list[str] = []
    for value in values:
        kind = type(value)
        if value is None:
            elements.append("NULL")
            continue
        if kind is str:
            text = value
        elif kind is int or kind is Decimal:
            text = str(value)
        elif kind is bool:
            text = "true" if value else "false"
        elif kind is float and floats:
            text = repr(value)
        elif kind is datetime or kind is date:
            text = value.isoformat()
        elif kind is Json or kind is Jsonb:  # a JSON column's value as SQLAlchemy binds it for psycopg
            dumped = (value.dumps or json.dumps)(value.obj)  # psycopg's own default: json.dumps
            text = dumped if isinstance(dumped, str) else bytes(dumped).decode()
        elif isinstance(value, str):  # a str subclass (an enumeration's member): its string, as psycopg sends it
            text = str.__str__(value)
        else:
            return None
        elements.append('"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "{" + ",".join(elements) + "}"


def _unnest_plan(connection: Connection, table: Table, names: tuple[str, ...], returning: Sequence[Column[Any]],
                 unless_taken: Conflict) -> tuple[str, list[Callable[[Any], Any] | None], list[str]] | None:
    """The statement of ``_unnested``, each column's bind processor and type (``BYTEA``: its
    array goes in binary); None for a table with an array column. Each array is cast to its
    column's type without length or precision: the column applies them on insert."""
    if any(isinstance(table.c[name].type, ARRAY) for name in names):
        return None
    dialect = connection.dialect
    columns = ", ".join(dialect.identifier_preparer.quote(name) for name in names)
    types = [_type_name(table, name, dialect) for name in names]
    arrays = ", ".join(f"{'%b' if kind == 'BYTEA' else '%t'}::{kind}[]" for kind in types)
    statement = (f"INSERT INTO {_quoted_target(dialect, table)} ({columns}) SELECT {columns} FROM unnest({arrays}) "
                 f"WITH ORDINALITY AS given ({columns}, csw_given_order) ORDER BY csw_given_order"
                 + _upsert_tail(dialect, returning, unless_taken))
    binds: list[Callable[[Any], Any] | None] = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names]
    return statement, binds, types


_UNNEST: dict[tuple[Table, tuple[str, ...], tuple[Column[Any], ...], Conflict],
              tuple[str, list[Callable[[Any], Any] | None], list[str]] | None] = {}


def _type_name(table: Table, name: str, dialect: Dialect) -> str:
    """The column's PostgreSQL type without its length or precision (``VARCHAR``, ``NUMERIC``)."""
    return table.c[name].type.compile(dialect=dialect).split("(")[0]


def _identifier(table: Table) -> sql.Identifier:
    return sql.Identifier(*([table.schema] if table.schema else []), table.name)


def _copy(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    names = list(rows[0])
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        _identifier(table), sql.SQL(", ").join(map(sql.Identifier, names)))
    with _driver(connection, statement) as driver_connection, driver_connection.cursor() as cursor:
        _write(connection, cursor, table, statement, names, rows)


def _write(connection: Connection, cursor: psycopg.Cursor[Any], table: Table, statement: sql.Composed,
           names: list[str], rows: Sequence[dict[str, Any]]) -> None:
    """Stream ``rows`` through ``COPY ... FROM STDIN``, each value through its column's bind
    processor first, as executemany would apply it."""
    records = _bound_records(rows, names, _bind_processors(connection.dialect, table, names))
    types = _binary_types(connection, cursor, table, names, records)
    if types is not None:
        statement = sql.Composed([statement, sql.SQL(" (FORMAT BINARY)")])
        for index in [index for index, kind in enumerate(types) if kind == "bytea"]:
            for record in records:  # the driver's bytea wrapper (SQLAlchemy's bind processor), unwrapped
                if type(record[index]) is psycopg.Binary:
                    record[index] = record[index].obj
    with cursor.copy(statement) as copy:
        if types is not None:
            copy.set_types(types)
        for record in records:
            copy.write_row(record)


# Column types sent in COPY's binary format: their PostgreSQL name for psycopg's dumper and the
# one Python type each value must have (exactly: a str subclass such as an enum is not sent so).
_BINARY: dict[str, tuple[str, type[Any]]] = {
    "INTEGER": ("int4", int), "BIGINT": ("int8", int), "SMALLINT": ("int2", int), "TEXT": ("text", str),
    "VARCHAR": ("text", str), "BYTEA": ("bytea", bytes), "BOOLEAN": ("bool", bool),
    "TIMESTAMP WITH TIME ZONE": ("timestamptz", datetime)}
_INT_RANGE = {"int4": 2 ** 31, "int8": 2 ** 63, "int2": 2 ** 15}


def _binary_types(connection: Connection, cursor: psycopg.Cursor[Any], table: Table, names: list[str],
                  records: Sequence[list[Any]]) -> list[str] | None:
    """The column types to COPY ``records`` in binary format, or None for text.

    Why: a document's body is bytea, which text COPY sends as hex (twice its size, escaped by
    the client and decoded by the server); binary COPY sends the bytes. Binary is used only for
    tables with a bytea column, whose every column is of a type listed above and every value of
    exactly its Python type (in range, a moment with its zone), with the client's encoding the
    server's; anything else goes as text, as before."""
    compiled = [_type_name(table, name, connection.dialect) for name in names]
    if "BYTEA" not in compiled or any(kind not in _BINARY for kind in compiled):
        return None
    status = cursor.connection.info.parameter_status
    if status("client_encoding") != status("server_encoding"):
        return None
    kinds = [_BINARY[kind] for kind in compiled]
    for index, (name, expected) in enumerate(kinds):
        bound = _INT_RANGE.get(name)
        for record in records:
            value = record[index]
            if value is None:
                continue
            if type(value) is psycopg.Binary and expected is bytes:
                value = value.obj
            if type(value) is not expected:
                return None
            if bound is not None and not -bound <= value < bound:
                return None
            if expected is datetime and value.tzinfo is None:
                return None
    return [name for name, _ in kinds]


def hold_back_inserts(connection: Connection) -> None:
    """Until ``connection``'s transaction ends, hold back the inserts of ``insert_rows`` that
    need no answer (a few rows each, sent by ``_unnested``): they go together, in order, in
    psycopg's pipeline mode, just before the next statement that needs an answer (a read, an
    ``INSERT ... RETURNING``, a COPY; not a read marked ``READS_NOTHING_HELD``) or with the
    COMMIT in the same round trip. A rollback drops them. Nothing changes on other databases or
    drivers.

    Why: storing a group of single declarations took about fourteen statements, each a round
    trip, and the storing thread waited for every one of them (its group's storage was about
    four fifths waiting, while the worker's other requests queued behind it). A reply needs the
    server's process scheduled on a busy machine and then the interpreter's lock again. Held
    back, a group costs about four round trips.

    What a held insert does wrong (a constraint it breaks) is raised where the rows are sent:
    by the next statement or by the commit, as SQLAlchemy's error, and the transaction is
    then rolled back as for any failed statement."""
    if connection.dialect.name != "postgresql" or connection.dialect.driver != "psycopg":
        return
    _listen(connection.engine)
    _HELD.setdefault(connection, [])


def hold_back(connection: Connection, statement: str, arguments: tuple[Any, ...], tables: Sequence[str],
              ctes: str = "") -> bool:
    """Hold ``statement`` (a driver-level insert whose answer nobody reads, into ``tables``,
    after the common table expressions ``ctes`` when it has any: ``name AS (...)``) back with
    the connection's inserts, when it holds them back (``hold_back_inserts``); False when it
    does not: the caller then stores its rows its own way."""
    held = _HELD.get(connection)
    if held is None:
        return False
    held.append(_Held(statement, arguments, frozenset(tables), ctes))
    return True


@dataclass(frozen=True, slots=True)
class _Held:
    """An insert held back: its text (after ``ctes``, if any), its arguments and the tables it writes."""

    statement: str
    arguments: tuple[Any, ...]
    tables: frozenset[str]
    ctes: str = ""

    @property
    def text(self) -> str:
        return f"WITH {self.ctes} {self.statement}" if self.ctes else self.statement


def _together(held: Sequence[_Held]) -> list[tuple[str, tuple[Any, ...]]]:
    """The inserts held back as few statements as keep their order: consecutive inserts into
    different tables become one statement, each a data-modifying ``WITH`` clause.

    Why: PostgreSQL spends about as much CPU starting and ending a statement (its executor, its
    locks, its snapshot) as inserting a group's rows into one table; a group of single
    declarations held back eight or nine inserts. Clauses of one statement run in no set
    order, so an insert into a table already written by the statement starts the next one:
    each table's rows take their ids in the order they were held back. The statement's text
    depends only on which tables a group writes, and its parameters are typed alike whatever the
    rows hold (``_unnested``), so it stays one prepared statement on each connection."""
    chunks: list[list[_Held]] = []
    written: set[str] = set()
    for insert in held:
        if not chunks or written & insert.tables:
            chunks.append([])
            written = set()
        chunks[-1].append(insert)
        written |= insert.tables
    statements: list[tuple[str, tuple[Any, ...]]] = []
    for chunk in chunks:
        if len(chunk) == 1:
            statements.append((chunk[0].text, chunk[0].arguments))
            continue
        clauses = [clause for number, insert in enumerate(chunk)
                   for clause in [insert.ctes, f"csw_held_{number} AS ({insert.statement})"] if clause]
        statements.append((f"WITH {', '.join(clauses)} SELECT",
                           tuple(chain.from_iterable(insert.arguments for insert in chunk))))
    return statements


#: The inserts held back per connection (a transaction's ``Connection``), until it next needs
#: an answer, commits or rolls back.
_HELD: weakref.WeakKeyDictionary[Connection, list[_Held]] = weakref.WeakKeyDictionary()
_LISTENING: weakref.WeakSet[Engine] = weakref.WeakSet()
_LISTENING_LOCK = threading.Lock()


def _listen(engine: Engine) -> None:
    if engine in _LISTENING:
        return
    with _LISTENING_LOCK:
        if engine not in _LISTENING:
            event.listen(engine, "before_cursor_execute", _send_before_statement)
            event.listen(engine, "commit", _send_with_commit)
            event.listen(engine, "rollback", _drop_held)
            _LISTENING.add(engine)


#: The execution option of a read that no insert held back can change (subscriptions, say,
#: which lodging never writes): it is sent at once, ahead of the rows held back.
READS_NOTHING_HELD = "csw_reads_nothing_held"


def _send_before_statement(connection: Connection, _cursor: Any, _statement: str, _parameters: Any,
                           context: Any, _executemany: bool) -> None:
    """A statement that needs an answer goes after the rows held back before it (unless it
    reads nothing they write)."""
    if _HELD.get(connection) and not (context is not None and context.execution_options.get(READS_NOTHING_HELD)):
        _send_held(connection, commit=False)


def _send_with_commit(connection: Connection) -> None:
    """The commit: the rows held back and the COMMIT in one round trip (SQLAlchemy's own
    commit then finds the transaction ended and sends nothing)."""
    if _HELD.get(connection):
        _send_held(connection, commit=True)
    _HELD.pop(connection, None)


def _drop_held(connection: Connection) -> None:
    _HELD.pop(connection, None)


def _send_held(connection: Connection, *, commit: bool) -> None:
    held = _HELD[connection]
    statements, held[:] = _together(held), []
    driver_connection = connection.connection.driver_connection
    assert driver_connection is not None, "a checked-out connection has its driver connection"
    try:
        with driver_connection.pipeline(), psycopg.RawCursor(driver_connection) as cursor:
            for statement, arguments in statements:
                cursor.execute(_numbered(statement), arguments)
            if commit:
                driver_connection.commit()
    except psycopg.Error as error:
        raise driver_error(connection, driver_connection, ";\n".join(text for text, _ in statements), error) from error


class _ByteaArray(list[bytes | None]):
    """A ``bytea`` array of ``_unnested``: sent in binary by psycopg whether its placeholder
    asks for binary (``%b``) or leaves the format to psycopg (``$n``, ``_numbered``)."""


psycopg.adapters.register_dumper(_ByteaArray, ListBinaryDumper)


def _numbered(statement: str) -> str:
    """``statement`` with its placeholders (``%t``, ``%b``) numbered as the server's (``$1``,
    ``$2``...), converted once per text.

    Why: psycopg converts a statement's placeholders each time it is executed, and remembers
    the conversion only for statements under 4,096 characters and 50 parameters. A group's held
    inserts go as one statement of some 5,000 characters and 80 arrays, converted anew for
    each group (0.2 ms of the client's CPU). Sent as numbered by a raw cursor, the statement
    is not converted at all, and each argument keeps its format: every array but a ``bytea``
    one is the text of an array literal, a ``bytea`` array (``_ByteaArray``) binary."""
    numbered = _NUMBERED.get(statement)
    if numbered is None:
        count = count_from(1)
        numbered = _PLACEHOLDER.sub(lambda found: "%" if found[1] == "%" else f"${next(count)}", statement)
        if len(_NUMBERED) < _NUMBERED_MAX:
            _NUMBERED[statement] = numbered
    return numbered


_PLACEHOLDER = re.compile(r"%([tb%])")
#: Held statements as numbered (``_numbered``): one per set of tables a group writes, and one per
#: table's columns; bounded, should some caller hold back statements of ever new texts.
_NUMBERED: dict[str, str] = {}
_NUMBERED_MAX = 512


def driver_error(connection: Connection, driver_connection: Any, statement: str,
                error: Exception) -> StatementError:
    """A driver error as SQLAlchemy's (a lost connection as ``OperationalError``, with the
    connection invalidated)."""
    dialect = connection.dialect
    # the driver's Error is a DBAPI error; SQLAlchemy's annotation names its own protocol class
    disconnected = dialect.is_disconnect(cast(Any, error), driver_connection, None)
    if disconnected:
        connection.invalidate(error)
    return DBAPIError.instance(statement, None, error, dialect.loaded_dbapi.Error,
                               connection_invalidated=disconnected, dialect=dialect)


@contextmanager
def _driver(connection: Connection, statement: sql.Composable) -> Iterator[psycopg.Connection[Any]]:
    """The psycopg connection under ``connection`` (the rows held back sent first); a driver
    error comes out as SQLAlchemy's (a lost connection as ``OperationalError``, with the
    connection invalidated)."""
    if _HELD.get(connection):
        _send_held(connection, commit=False)
    driver_connection = connection.connection.driver_connection
    assert driver_connection is not None, "a checked-out connection has its driver connection"
    try:
        yield driver_connection
    except psycopg.Error as error:
        raise driver_error(connection, driver_connection, statement.as_string(driver_connection), error) from error
