"""``app.db.lean``: a hot read through the driver's cursor (SQLite) gives what SQLAlchemy's
execution gives, whatever the lengths of its list parameters, with its values and columns
converted as SQLAlchemy converts them."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, bindparam, event, or_, select
from sqlalchemy.exc import DBAPIError

from app.db import lean
from app.db.bulk import READS_NOTHING_HELD, insert_rows
from app.db.models import UtcDateTime
from tests.conftest import scratch_tables

MOMENT = datetime(2026, 12, 7, 9, 15, 0, 123456, tzinfo=timezone(timedelta(hours=8)))

metadata = MetaData()
probe = Table("lean_reads_probe", metadata, Column("id", Integer, primary_key=True), Column("party", Integer),
              Column("role", String(20)), Column("code", String(20), nullable=True), Column("at", UtcDateTime))

ADDRESSED = (
    select(probe.c.id, probe.c.role, probe.c.at)
    .where(probe.c.role != "retired", probe.c.at >= bindparam("since"), or_(
        probe.c.party.in_(bindparam("parties", expanding=True)),
        probe.c.code.in_(bindparam("codes", expanding=True))))
    .order_by(probe.c.id)
    .execution_options(**{READS_NOTHING_HELD: True})
)


@pytest.fixture()
def engine(database_url: str) -> Iterator[Engine]:
    with scratch_tables(database_url, metadata) as scratch:
        with scratch.begin() as connection:
            insert_rows(connection, probe, [
                {"party": n % 4, "role": "retired" if n == 5 else "party", "code": f"C{n % 3}" if n % 2 else None,
                 "at": MOMENT + timedelta(minutes=n)} for n in range(12)])
        yield scratch


@pytest.mark.parametrize(("parties", "codes"), [([], []), ([1], []), ([], ["C1"]), ([0, 2, 3], ["C0", "C2"]),
                                                ([2], ["C1", "C2", "C0"])])
def test_rows_are_what_sqlalchemy_reads_for_every_length_of_the_lists(engine: Engine, parties: list[int],
                                                                       codes: list[str]) -> None:
    parameters = {"parties": parties, "codes": codes, "since": MOMENT + timedelta(minutes=2)}
    with engine.begin() as connection:
        expected = [tuple(row) for row in connection.execute(ADDRESSED, parameters)]
        found = lean.rows(connection, ADDRESSED, parameters)
        again = lean.rows(connection, ADDRESSED, parameters)  # the compiled plan reused
    assert found == again == expected
    assert all(isinstance(at, datetime) and at.tzinfo is not None for _, _, at in found)
    if parties or codes:
        assert found, "the case reads some rows"


def test_the_same_shape_with_other_values_reads_other_rows(engine: Engine) -> None:
    since = MOMENT
    with engine.begin() as connection:
        first = lean.rows(connection, ADDRESSED, {"parties": [1], "codes": ["C9"], "since": since})
        second = lean.rows(connection, ADDRESSED, {"parties": [2], "codes": ["C1"], "since": since})
    assert [row[0] for row in first] != [row[0] for row in second]
    with engine.begin() as connection:
        assert second == [tuple(row) for row in connection.execute(
            ADDRESSED, {"parties": [2], "codes": ["C1"], "since": since})]


def test_listeners_see_the_statement_and_its_values(engine: Engine) -> None:
    seen: list[tuple[str, Any]] = []

    def _seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", _seen)
    try:
        with engine.begin() as connection:
            lean.rows(connection, ADDRESSED, {"parties": [1, 2], "codes": [], "since": MOMENT})
    finally:
        event.remove(engine, "before_cursor_execute", _seen)
    assert any("lean_reads_probe" in statement and "retired" in str(parameters) + statement
               for statement, parameters in seen)


def test_a_read_not_marked_as_reading_nothing_held_is_refused(engine: Engine) -> None:
    with engine.begin() as connection, pytest.raises(ValueError, match="READS_NOTHING_HELD"):
        lean.rows(connection, select(probe.c.id), {})


def test_a_driver_error_comes_out_as_sqlalchemys(engine: Engine) -> None:
    missing = Table("lean_reads_missing", MetaData(), Column("id", Integer))
    statement = select(missing.c.id).execution_options(**{READS_NOTHING_HELD: True})
    with engine.connect() as connection, connection.begin(), pytest.raises(DBAPIError):
        lean.rows(connection, statement, {})
