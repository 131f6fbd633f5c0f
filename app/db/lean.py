"""A hot read's rows through the driver's cursor on SQLite: its SQL compiled once per shape.

Why: a group of single declarations reads the declarant's callbacks and the release notice's
subscribers, once each. Through SQLAlchemy's execution (the statement's cache key, the expanding
``IN`` parameters written into the text anew on every call, an execution context and a result
object) the two reads took about 200 µs of CPU a group; the first took 2.6 µs on the driver's
cursor (bench/RESULTS.md, seventeenth session). SQLite's write gate holder sets the pace of every
worker, as for ``bulk._sqlite_many``, whose way this follows: the statement is compiled by
SQLAlchemy once for each length of its list parameters, each value goes
through its bind processor and each column through its result processor as SQLAlchemy would
apply them, listeners of ``before_cursor_execute`` still see the statement, and a driver error
comes out as SQLAlchemy's. Elsewhere (PostgreSQL, whose group holds its inserts back until a
read that needs them, keyed on SQLAlchemy's execution context) the read goes through SQLAlchemy.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect, Select

from app.db.bulk import READS_NOTHING_HELD, driver_error

#: Where each of a statement's placeholders takes its value from, in order: the parameter it
#: names and, for an element of a list parameter (an expanding ``IN``), the element's index
#: (else None); or None and a value the statement holds itself (a literal it compares with).
_Source = tuple[str | None, Any]


@dataclass(frozen=True, slots=True)
class _Plan:
    sql: str
    sources: tuple[_Source, ...]
    binds: tuple[Callable[[Any], Any] | None, ...]  # by placeholder
    results: tuple[Callable[[Any], Any] | None, ...]  # by column; empty where none has one


_PLANS: dict[tuple[Select[Any], tuple[tuple[str, int], ...]], _Plan] = {}
_PLANS_LOCK = threading.Lock()
#: Distinct shapes kept (statements x lengths of their lists); past it a shape is compiled anew.
_MAX_PLANS = 256


def rows(connection: Connection, statement: Select[Any], parameters: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """``statement``'s rows for ``parameters`` (list values fill an expanding ``IN``), as
    ``connection.execute(statement, parameters)`` would give them, as tuples. For reads marked
    ``READS_NOTHING_HELD`` (the reads a group of declarations makes while it stores)."""
    if not statement.get_execution_options().get(READS_NOTHING_HELD):
        raise ValueError("lean.rows is for reads marked READS_NOTHING_HELD")
    if connection.dialect.name != "sqlite" or not connection.in_transaction():
        return [tuple(row) for row in connection.execute(statement, dict(parameters))]
    shape = tuple((name, len(value)) for name, value in parameters.items() if isinstance(value, (list, tuple)))
    key = (statement, shape)
    plan = _PLANS.get(key)
    if plan is None:
        plan = _plan(connection.dialect, statement, parameters)
        with _PLANS_LOCK:
            if len(_PLANS) < _MAX_PLANS:
                _PLANS[key] = plan
    values = [_value(parameters, source) for source in plan.sources]
    for index, convert in enumerate(plan.binds):
        if convert is not None:
            values[index] = convert(values[index])
    driver_connection = connection.connection.driver_connection
    assert driver_connection is not None, "a checked-out connection has its driver connection"
    cursor = driver_connection.cursor()
    try:
        connection.dispatch.before_cursor_execute(connection, cursor, plan.sql, values, None, False)
        cursor.execute(plan.sql, values)
        found = cursor.fetchall()
    except driver_connection.Error as error:  # the sqlite3 module's errors, on its connection
        raise driver_error(connection, driver_connection, plan.sql, error) from error
    finally:
        cursor.close()
    if plan.results:
        return [tuple(value if convert is None else convert(value) for value, convert in zip(row, plan.results))
                for row in found]
    return [tuple(row) for row in found]


def _value(parameters: Mapping[str, Any], source: _Source) -> Any:
    name, where = source
    if name is None:
        return where
    return parameters[name] if where is None else parameters[name][where]


def _plan(dialect: Dialect, statement: Select[Any], parameters: Mapping[str, Any]) -> _Plan:
    """The statement compiled for ``parameters``' shape, with where each placeholder's value
    comes from (SQLAlchemy's own expansion of the list parameters says which element)."""
    compiled = statement.compile(dialect=dialect)
    state = compiled.construct_expanded_state(dict(parameters))
    assert state.positiontup is not None, "SQLite's placeholders are positional"
    element_of = {expanded: (name, index) for name, names in state.parameter_expansion.items()
                  for index, expanded in enumerate(names)}
    sources: list[_Source] = []
    for name in state.positiontup:
        if name in element_of:
            sources.append(element_of[name])
        elif name in parameters:
            sources.append((name, None))
        else:
            sources.append((None, state.parameters[name]))
    binds = tuple(compiled.binds[element_of[name][0] if name in element_of else name]
                  .type.dialect_impl(dialect).bind_processor(dialect) for name in state.positiontup)
    results = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None)
                    for column in statement.selected_columns)
    return _Plan(state.statement, tuple(sources), binds,
                 results if any(convert is not None for convert in results) else ())

