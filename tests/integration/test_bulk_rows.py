"""``app.db.bulk``: many rows stored as executemany would store them, whichever way they go
(executemany; on PostgreSQL COPY in text or binary format, or COPY into a staging table and one
``INSERT ... SELECT`` when ids come back; on SQLite multi-row ``VALUES`` through the driver), and
``ON CONFLICT DO NOTHING`` skipping stored keys."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from enum import Enum

import pytest
from sqlalchemy import (
    ARRAY,
    Boolean,
    Column,
    JSON,
    Engine,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    event,
    select,
)
from sqlalchemy.exc import IntegrityError

from app.db import bulk
from app.db.bulk import COPY_FROM_ROWS, READS_NOTHING_HELD, hold_back_inserts, insert_returning, insert_rows
from app.db.models import UtcDateTime
from tests.conftest import scratch_tables

MOMENT = datetime(2026, 12, 6, 9, 15, 0, 123456, tzinfo=timezone(timedelta(hours=8)))

metadata = MetaData()
probe = Table("bulk_rows_probe", metadata, Column("id", Integer, primary_key=True),
              Column("party", Integer), Column("lrn", String(35)), Column("body", LargeBinary),
              Column("at", UtcDateTime), Column("flag", Boolean, nullable=True),
              Column("note", String(40), nullable=True), UniqueConstraint("party", "lrn"))
# Columns a group's risk assessment and notifications have: JSON (NULL for None) and a double
assessed = Table("bulk_rows_assessed", metadata, Column("id", Integer, primary_key=True), Column("lrn", String(35)),
                 Column("detail", JSON(none_as_null=True)), Column("score", Float))
# A second table for rows held back into several tables (a group's declarations, items, events)
sidecar = Table("bulk_rows_sidecar", metadata, Column("id", Integer, primary_key=True),
                Column("lrn", String(35), unique=True), Column("note", String(40), nullable=True))


class Kind(str, Enum):
    PAPER = "paper"


@pytest.fixture()
def engine(database_url: str) -> Iterator[Engine]:
    """The migrated database with this module's scratch tables."""
    with scratch_tables(database_url, metadata) as scratch:
        yield scratch


def _rows(first: int, count: int, note: object = "貨物 \\ tab\there") -> list[dict[str, object]]:
    return [{"party": 1, "lrn": f"LRN-{n:04d}", "body": bytes(range(256)) + b"\\x00\x00" + str(n).encode(),
             "at": MOMENT + timedelta(seconds=n), "flag": None if n % 3 == 0 else n % 2 == 0,
             "note": None if n % 4 == 0 else note} for n in range(first, first + count)]


@pytest.mark.parametrize("note", ["貨物 \\ tab\there", 'NULL, "quoted" {braced}', "", Kind.PAPER],
                         ids=["plain text", "an array literal's own characters", "empty", "a str enum"])
def test_rows_are_stored_alike_by_every_path(engine: Engine, note: object) -> None:
    few, many = _rows(0, 2, note), _rows(2, COPY_FROM_ROWS + 3, note)
    with engine.begin() as connection:
        insert_rows(connection, probe, few)
        insert_rows(connection, probe, many)
        stored = connection.execute(select(probe.c.party, probe.c.lrn, probe.c.body, probe.c.at, probe.c.flag,
                                           probe.c.note).order_by(probe.c.lrn)).all()
    expected = [{**row, "note": None if row["note"] is None else str(getattr(note, "value", note))}
                for row in few + many]
    assert [row._asdict() for row in stored] == expected


def test_rows_whose_key_is_stored_are_skipped_and_only_the_new_return(engine: Engine) -> None:
    with engine.begin() as connection:
        insert_rows(connection, probe, _rows(0, 3))
        returned = insert_returning(connection, probe, _rows(1, COPY_FROM_ROWS + 5), (probe.c.lrn, probe.c.at),
                                    unless_taken=(probe.c.party, probe.c.lrn))
        again = insert_returning(connection, probe, _rows(1, 2), (probe.c.lrn,),
                                 unless_taken=(probe.c.party, probe.c.lrn))
        count = len(connection.execute(select(probe.c.id)).all())
    assert sorted(returned) == [(f"LRN-{n:04d}", MOMENT + timedelta(seconds=n)) for n in range(3, COPY_FROM_ROWS + 6)]
    assert again == [] and count == COPY_FROM_ROWS + 6


@pytest.mark.parametrize("count", [1, 3, COPY_FROM_ROWS + 2], ids=["one row", "a few rows", "many rows"])
def test_rows_breaking_any_unique_key_are_skipped_when_asked(engine: Engine, count: int) -> None:
    """``or_any_key``: a row whose primary key is taken is skipped as one whose (party, LRN) is,
    by every path (one row, a few, many)."""
    with engine.begin() as connection:
        insert_rows(connection, probe, [{**_rows(0, 1)[0], "id": 1}])
        taken_id = {**_rows(1, 1)[0], "id": 1}
        taken_lrn = {**_rows(0, 1)[0], "id": 2}
        given = ([taken_id] if count == 1 else [taken_id, taken_lrn]
                 + [{**row, "id": 10 + n} for n, row in enumerate(_rows(5, count - 2))])
        returned = insert_returning(connection, probe, given, (probe.c.id,),
                                    unless_taken=(probe.c.party, probe.c.lrn), or_any_key=True)
        stored = connection.execute(select(probe.c.id, probe.c.lrn).order_by(probe.c.id)).all()
    assert sorted(id_ for id_, in returned) == [10 + n for n in range(count - 2)]
    assert [tuple(row) for row in stored] == [(1, "LRN-0000")] + [(10 + n, f"LRN-{5 + n:04d}")
                                                                   for n in range(count - 2)]


def test_without_or_any_key_a_taken_primary_key_fails_the_insert(engine: Engine) -> None:
    with engine.begin() as connection:
        insert_rows(connection, probe, [{**_rows(0, 1)[0], "id": 1}])
    with pytest.raises(IntegrityError), engine.begin() as connection:
        insert_returning(connection, probe, [{**_rows(1, 1)[0], "id": 1}, {**_rows(2, 1)[0], "id": 2}],
                         (probe.c.id,), unless_taken=(probe.c.party, probe.c.lrn))


def test_a_few_rows_take_their_ids_in_the_order_given(engine: Engine) -> None:
    """Ids order what a unit of work wrote (events, the lifecycle feed's cursor), whichever way
    the rows went (on PostgreSQL a few rows go as one ``unnest`` statement)."""
    given = list(reversed(_rows(0, 7)))
    with engine.begin() as connection:
        insert_rows(connection, probe, given)
        returned = insert_returning(connection, probe, list(reversed(_rows(7, 5))), (probe.c.id, probe.c.lrn))
        stored = connection.execute(select(probe.c.lrn).order_by(probe.c.id)).scalars().all()
    assert stored == [row["lrn"] for row in given] + [f"LRN-{n:04d}" for n in range(11, 6, -1)]
    assert [lrn for _id, lrn in sorted(returned)] == [f"LRN-{n:04d}" for n in range(11, 6, -1)]


def test_a_column_of_values_of_several_types_is_stored_as_executemany_would(engine: Engine) -> None:
    """A str and a str enum in one column: psycopg would not put them in one array, so those
    rows go by executemany; what is stored is the same."""
    rows = _rows(0, 3)
    rows[1]["note"] = Kind.PAPER
    with engine.begin() as connection:
        insert_rows(connection, probe, rows)
        returned = insert_returning(connection, probe, _rows(3, 2) + [{**_rows(5, 1)[0], "note": Kind.PAPER}],
                                    (probe.c.lrn, probe.c.note), unless_taken=(probe.c.party, probe.c.lrn))
        stored = connection.execute(select(probe.c.note).order_by(probe.c.lrn)).scalars().all()
    assert stored == [None, "paper", "貨物 \\ tab\there", "貨物 \\ tab\there", None, "paper"]
    assert sorted(returned) == [("LRN-0003", "貨物 \\ tab\there"), ("LRN-0004", None), ("LRN-0005", "paper")]


def test_a_column_with_no_value_in_any_row_is_stored_as_nulls(engine: Engine) -> None:
    """psycopg cannot tell an array of nothing but NULLs from its values; the cast to the
    column's type does (an item's alcohol strength or stick count, absent on most goods)."""
    rows = [{"party": None, "lrn": f"LRN-{n}", "body": None, "at": None, "flag": None, "note": None} for n in range(3)]
    with engine.begin() as connection:
        insert_rows(connection, probe, rows)
        returned = insert_returning(connection, probe, [{**row, "lrn": f"LRN-{n + 3}"} for n, row in enumerate(rows)],
                                    (probe.c.lrn, probe.c.at))
        stored = connection.execute(select(probe.c.lrn, probe.c.party, probe.c.body, probe.c.at, probe.c.flag,
                                           probe.c.note).order_by(probe.c.id)).all()
    assert [tuple(row) for row in stored] == [(f"LRN-{n}", None, None, None, None, None) for n in range(6)]
    assert sorted(returned) == [(f"LRN-{n}", None) for n in range(3, 6)]


def test_rows_with_an_array_column_are_stored_whole(database_url: str) -> None:
    """An array column's values stay one value a row (``unnest`` would flatten them into
    rows of their elements): such rows go by executemany."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no array columns")
    arrays = MetaData()
    table = Table("bulk_rows_arrays", arrays, Column("id", Integer, primary_key=True),
                  Column("seals", ARRAY(String(35))))
    with scratch_tables(database_url, arrays) as scratch, scratch.begin() as connection:
        insert_rows(connection, table, [{"seals": ["S1", "S2"]}, {"seals": ["S3"]}])
        returned = insert_returning(connection, table, [{"seals": ["S4"]}, {"seals": []}], (table.c.seals,))
        stored = connection.execute(select(table.c.seals).order_by(table.c.id)).scalars().all()
    assert stored == [["S1", "S2"], ["S3"], ["S4"], []]
    assert sorted(returned) == [([],), (["S4"],)]


def _lrns(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(select(probe.c.lrn).order_by(probe.c.id)).scalars())


def test_rows_held_back_are_stored_by_the_commit_in_order_and_seen_by_reads_before_it(engine: Engine) -> None:
    with engine.begin() as connection:
        hold_back_inserts(connection)
        insert_rows(connection, probe, _rows(0, 1))
        insert_rows(connection, probe, _rows(1, 2))
        seen = connection.execute(select(probe.c.lrn).order_by(probe.c.id)).scalars().all()
        insert_rows(connection, probe, _rows(3, 2))
        insert_rows(connection, probe, _rows(5, COPY_FROM_ROWS))  # COPY: after the rows held before it
        insert_rows(connection, probe, _rows(5 + COPY_FROM_ROWS, 2))
    assert seen == ["LRN-0000", "LRN-0001", "LRN-0002"]
    assert _lrns(engine) == [f"LRN-{n:04d}" for n in range(7 + COPY_FROM_ROWS)]


def test_a_held_back_row_that_breaks_a_constraint_fails_its_transaction_and_nothing_is_stored(
        engine: Engine) -> None:
    with pytest.raises(IntegrityError, match="bulk_rows_probe"), engine.begin() as connection:
        hold_back_inserts(connection)
        insert_rows(connection, probe, _rows(0, 2))
        insert_rows(connection, probe, _rows(1, 1))  # LRN-0001 again: the (party, lrn) key refuses it
    assert _lrns(engine) == []
    with engine.begin() as connection:  # the pool's connections still work
        insert_rows(connection, probe, _rows(7, 1))
    assert _lrns(engine) == ["LRN-0007"]


def test_rows_held_back_are_dropped_by_a_rollback_and_hold_back_ends_with_the_transaction(engine: Engine) -> None:
    with engine.connect() as connection:
        transaction = connection.begin()
        hold_back_inserts(connection)
        insert_rows(connection, probe, _rows(0, 2))
        transaction.rollback()
        with connection.begin():
            insert_rows(connection, probe, _rows(5, 2))
            assert connection.execute(select(probe.c.lrn).order_by(probe.c.id)).scalars().all() == [
                "LRN-0005", "LRN-0006"]
    assert _lrns(engine) == ["LRN-0005", "LRN-0006"]


def test_rows_differing_only_in_what_they_fill_share_one_prepared_statement(engine: Engine) -> None:
    """A table's few-rows insert is one statement on the server whatever its rows hold (an
    optional column empty or filled, small or large numbers): psycopg prepares a statement per
    text and parameter types, so arrays typed by their values were planned afresh for each."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's prepared statements")
    shapes = [
        lambda n: {"party": 1, "note": None, "flag": None},
        lambda n: {"party": 100_000 + n, "note": f"note {n}", "flag": True},
        lambda n: {"party": 7, "note": "貨物", "flag": None},
    ]
    with engine.begin() as connection:
        for turn in range(6):  # psycopg prepares a statement on its fifth use
            for number, shape in enumerate(shapes):
                rows = [{**row, **shape(turn)} for row in _rows(100 * number + 10 * turn, 2)]
                insert_rows(connection, probe, rows)
        prepared = connection.exec_driver_sql(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'INSERT INTO bulk_rows_probe%%'"
        ).scalar_one()
    assert prepared == 1
    assert len(_lrns(engine)) == 36


def test_rows_held_back_are_stored_as_given_by_one_prepared_statement(engine: Engine) -> None:
    """Held rows go numbered as the server's placeholders (``$1``...): values that look like
    placeholders stay values, bodies stay their bytes, and rows of different shapes still share
    one prepared statement."""
    notes = ["%t and %b", "$1, %% and %s", None]
    with engine.connect() as connection:
        for turn in range(6):  # psycopg prepares a statement on its fifth use
            with connection.begin():
                hold_back_inserts(connection)
                rows = _rows(10 * turn, 3, notes[turn % 3])
                rows[1]["party"] = 100_000 + turn
                insert_rows(connection, probe, rows)
        if engine.dialect.name == "postgresql":
            prepared = connection.exec_driver_sql(
                "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'INSERT INTO bulk_rows_probe%%'"
            ).scalar_one()
            assert prepared == 1
        stored = connection.execute(select(probe.c.lrn, probe.c.body, probe.c.note).order_by(probe.c.id)).all()
    expected = [(row["lrn"], row["body"], row["note"]) for turn in range(6)
                for row in _rows(10 * turn, 3, notes[turn % 3])]
    assert [tuple(row) for row in stored] == expected


def test_rows_with_json_and_doubles_are_held_back_and_stored_as_given(engine: Engine) -> None:
    """A risk assessment's reasons and score, a notification's detail: held back like any other
    few rows (not sent at once row by row), and read back as given, to the last bit of a double."""
    rows = [{"lrn": "LRN-0001", "detail": {"reasons": [{"code": "MODEL", "points": 9.8, "text": 'say "高" \\ {a,b}'}]},
             "score": 0.1 + 0.2},
            {"lrn": "LRN-0002", "detail": None, "score": 1e-300},
            {"lrn": "LRN-0003", "detail": [], "score": -2.5}]
    with engine.begin() as connection:
        hold_back_inserts(connection)
        insert_rows(connection, assessed, rows)
        ahead = connection.execute(select(assessed.c.lrn).execution_options(**{READS_NOTHING_HELD: True})).all()
    with engine.connect() as connection:
        stored = connection.execute(select(assessed.c.lrn, assessed.c.detail, assessed.c.score)
                                    .order_by(assessed.c.id)).all()
    assert [row._asdict() for row in stored] == rows
    assert len(ahead) == (0 if engine.dialect.name == "postgresql" else 3)  # elsewhere nothing is held back
def _statements_sent(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many statements each sending of the rows held back took."""
    sent: list[int] = []
    together = bulk._together

    def counted(held: list[object]) -> list[tuple[str, tuple[object, ...]]]:
        statements = together(held)  # type: ignore[arg-type]
        sent.append(len(statements))
        return statements

    monkeypatch.setattr(bulk, "_together", counted)
    return sent


def _sidecar_rows(first: int, count: int) -> list[dict[str, object]]:
    return [{"lrn": f"LRN-{n:04d}", "note": f"side {n}"} for n in range(first, first + count)]


def test_rows_held_back_into_several_tables_go_as_one_statement_and_each_tables_rows_keep_their_order(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A group's inserts into different tables are one statement with the commit; an insert into
    a table already written starts the next, so each table's ids follow the order held back."""
    sent = _statements_sent(monkeypatch)
    with engine.begin() as connection:
        hold_back_inserts(connection)
        insert_rows(connection, probe, _rows(0, 2))
        insert_rows(connection, sidecar, _sidecar_rows(0, 2))
        insert_rows(connection, probe, _rows(2, 2))  # the probe again: a second statement
        insert_rows(connection, sidecar, _sidecar_rows(2, 3))
    assert _lrns(engine) == [f"LRN-{n:04d}" for n in range(4)]
    with engine.connect() as connection:
        side = connection.execute(select(sidecar.c.lrn, sidecar.c.note).order_by(sidecar.c.id)).all()
    assert [tuple(row) for row in side] == [(f"LRN-{n:04d}", f"side {n}") for n in range(5)]
    assert sent == ([2] if engine.dialect.name == "postgresql" else [])  # elsewhere nothing is held back


def test_a_row_breaking_a_constraint_in_a_statement_of_several_inserts_stores_nothing(engine: Engine) -> None:
    with pytest.raises(IntegrityError, match="bulk_rows_sidecar"), engine.begin() as connection:
        hold_back_inserts(connection)
        insert_rows(connection, probe, _rows(0, 2))
        insert_rows(connection, sidecar, _sidecar_rows(0, 1) + _sidecar_rows(0, 1))  # LRN-0000 twice
    assert _lrns(engine) == []
    with engine.connect() as connection:
        assert connection.execute(select(sidecar.c.lrn)).all() == []


def test_a_read_marked_as_reading_nothing_held_goes_ahead_of_the_rows_held_back(engine: Engine) -> None:
    """For reads of tables the held rows never touch (lodging's look-up of subscriptions): no
    round trip is spent sending them first, and the commit still stores them."""
    with engine.begin() as connection:
        hold_back_inserts(connection)
        insert_rows(connection, probe, _rows(0, 2))
        ahead = connection.execute(select(probe.c.lrn).execution_options(**{READS_NOTHING_HELD: True})).all()
        after = connection.execute(select(probe.c.lrn)).all()
    held_back = engine.dialect.name == "postgresql"  # elsewhere nothing is held back
    assert (len(ahead), len(after)) == ((0, 2) if held_back else (2, 2))
    assert _lrns(engine) == ["LRN-0000", "LRN-0001"]


defaulted = Table("bulk_rows_defaulted", metadata, Column("id", Integer, primary_key=True),
                  Column("lrn", String(35)), Column("kind", String(20), default=lambda: "python-side"))


def test_rows_breaking_a_unique_key_fail_as_sqlalchemy_reports_it_and_nothing_is_stored(engine: Engine) -> None:
    with pytest.raises(IntegrityError), engine.begin() as connection:
        insert_rows(connection, probe, _rows(0, 2))
        insert_rows(connection, probe, _rows(1, 3))  # LRN-0001 again
    assert _lrns(engine) == []


def test_more_rows_than_one_statement_takes_are_all_stored_and_returned(engine: Engine,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's limit on a statement's parameters")
    monkeypatch.setattr(bulk, "_SQLITE_PARAMETERS", 20)  # three rows of six columns a statement
    seen: list[str] = []

    def record(_connection: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        with engine.begin() as connection:
            insert_rows(connection, probe, _rows(0, 7))
            returned = insert_returning(connection, probe, _rows(5, 4), (probe.c.lrn, probe.c.at),
                                        unless_taken=(probe.c.party, probe.c.lrn))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert _lrns(engine) == [f"LRN-{n:04d}" for n in range(9)]
    assert sorted(returned) == [(f"LRN-{n:04d}", MOMENT + timedelta(seconds=n)) for n in (7, 8)]
    rows_a_statement = [statement.count("(?, ?, ?, ?, ?, ?)") for statement in seen if statement.startswith("INSERT")]
    assert rows_a_statement == [3, 3, 1, 3, 1]


def test_a_column_left_to_its_python_side_default_gets_it(engine: Engine) -> None:
    with engine.begin() as connection:
        insert_rows(connection, defaulted, [{"lrn": "A"}, {"lrn": "B"}])
        insert_rows(connection, defaulted, [{"lrn": "C", "kind": "given"}])
        stored = connection.execute(select(defaulted.c.lrn, defaulted.c.kind).order_by(defaulted.c.lrn)).all()
    assert [tuple(row) for row in stored] == [("A", "python-side"), ("B", "python-side"), ("C", "given")]
