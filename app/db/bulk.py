"""Many rows into one table within the caller's transaction: executemany, or COPY on PostgreSQL.

Why: a 999-item declaration's goods items cost about 60 ms through psycopg's pipelined
executemany (a Bind/Execute per row, and an executor start-up per row on the server) and about
22 ms through ``COPY ... FROM STDIN``, which psycopg streams for us. Small batches keep
executemany: its statement is cached, COPY's set-up is not worth it for a handful of rows.
Values go through each column's own bind processor first, as executemany would apply them.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from psycopg import sql
from sqlalchemy import Connection, Table

COPY_FROM_ROWS = 50


def insert_rows(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` on ``connection``."""
    if not rows:
        return
    if connection.dialect.name != "postgresql" or len(rows) < COPY_FROM_ROWS or _has_python_defaults(table, rows[0]):
        connection.execute(table.insert(), list(rows))
        return
    _copy(connection, table, rows)


def _has_python_defaults(table: Table, row: dict[str, Any]) -> bool:
    """COPY applies only server-side defaults; a column the rows leave to a Python default needs executemany."""
    return any(column.default is not None and column.name not in row for column in table.columns)


def _copy(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    dialect = connection.dialect
    names = list(rows[0])
    processors: list[Callable[[Any], Any] | None] = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    ]
    target = sql.Identifier(*([table.schema] if table.schema else []), table.name)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(target, sql.SQL(", ").join(map(sql.Identifier, names)))
    driver_connection = connection.connection.driver_connection
    with driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([value if process is None or value is None else process(value)
                            for value, process in zip((row[name] for name in names), processors)])
