"""Many rows into one table within the caller's transaction: executemany, or COPY on PostgreSQL.

Why: a 999-item declaration's goods items cost about 60 ms through psycopg's pipelined
executemany (a Bind/Execute per row, and an executor start-up per row on the server) and about
22 ms through ``COPY ... FROM STDIN``, which psycopg streams for us. Small batches keep
executemany: its statement is cached, COPY's set-up is not worth it for a handful of rows.
Every value goes through its column's bind processor first, as executemany would apply it,
and a driver error comes out as SQLAlchemy's (a lost connection as ``OperationalError``, with
the connection invalidated), so callers and error handlers see one behaviour for both paths.
Not for use inside psycopg's pipeline mode, where PostgreSQL refuses COPY.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

import psycopg
from psycopg import sql
from sqlalchemy import Connection, DateTime, Table
from sqlalchemy.exc import DBAPIError

COPY_FROM_ROWS = 50


def insert_rows(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` on ``connection``."""
    if not rows:
        return
    if len(rows) < COPY_FROM_ROWS or not _copy_stores_as_executemany(connection, table, rows[0]):
        connection.execute(table.insert(), list(rows))
        return
    _copy(connection, table, rows)


def _copy_stores_as_executemany(connection: Connection, table: Table, row: dict[str, Any]) -> bool:
    """COPY only where it is known to store what executemany would: psycopg 3 on PostgreSQL, no
    column left to a Python-side default (COPY applies server defaults only), no timestamp
    without time zone (executemany converts an aware value to the session's zone; COPY of the
    text would keep its wall-clock time)."""
    dialect = connection.dialect
    if dialect.name != "postgresql" or dialect.driver != "psycopg":
        return False
    for column in table.columns:
        if column.default is not None and column.name not in row:
            return False
        if column.name in row and isinstance(column.type, DateTime) and not column.type.timezone:
            return False
    return True


def _copy(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    dialect = connection.dialect
    names = list(rows[0])
    processors: list[Callable[[Any], Any] | None] = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    ]
    target = sql.Identifier(*([table.schema] if table.schema else []), table.name)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(target, sql.SQL(", ").join(map(sql.Identifier, names)))
    driver_connection = connection.connection.driver_connection
    assert driver_connection is not None, "a checked-out connection has its driver connection"
    try:
        with driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([row[name] if process is None else process(row[name])
                                for name, process in zip(names, processors)])
    except psycopg.Error as error:
        # psycopg's Error is a DBAPI error; SQLAlchemy's annotation names its own protocol class
        disconnected = dialect.is_disconnect(cast(Any, error), driver_connection, None)
        if disconnected:
            connection.invalidate(error)
        raise DBAPIError.instance(statement.as_string(driver_connection), None, error, psycopg.Error,
                                  connection_invalidated=disconnected, dialect=dialect) from error
