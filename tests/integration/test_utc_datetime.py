"""``UtcDateTime``: every timestamp column stores a UTC instant and hands it back aware, in UTC,
on SQLite and PostgreSQL alike, so no code repairs naive datetimes; a naive one is refused."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, Table, select
from sqlalchemy.exc import StatementError

from app.db.bulk import COPY_FROM_ROWS, _copy_stores_as_executemany, insert_rows
from app.db.models import UtcDateTime
from tests.conftest import scratch_tables

HONG_KONG = timezone(timedelta(hours=8))
MOMENT = datetime(2026, 11, 21, 8, 30, 15, 123456, tzinfo=HONG_KONG)  # 00:30:15.123456 UTC

metadata = MetaData()
probe = Table("utc_datetime_probe", metadata, Column("id", Integer, primary_key=True, autoincrement=False),
              Column("at", UtcDateTime), Column("maybe", UtcDateTime, nullable=True))


@pytest.fixture()
def engine(database_url: str) -> Iterator[Engine]:
    """The migrated database with this module's scratch tables."""
    with scratch_tables(database_url, metadata) as scratch:
        yield scratch


def _assert_utc(value: datetime, expected: datetime) -> None:
    assert value == expected
    assert value.tzinfo is not None and value.utcoffset() == timedelta(0)
    assert value.replace(tzinfo=None) == expected.astimezone(timezone.utc).replace(tzinfo=None)


def test_an_aware_moment_comes_back_as_the_same_instant_in_utc(engine: Engine) -> None:
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":  # the session's zone must not leak into results
            connection.exec_driver_sql("SET TIME ZONE 'Asia/Hong_Kong'")
        connection.execute(probe.insert(), [{"id": 1, "at": MOMENT, "maybe": None}])
        row = connection.execute(select(probe.c.at, probe.c.maybe).where(probe.c.id == 1)).one()
        _assert_utc(row.at, MOMENT)
        assert row.maybe is None
        # a comparison binds through the type too: a +08:00 bound finds the UTC-stored row
        assert connection.scalar(select(probe.c.id).where(probe.c.at >= MOMENT)) == 1
        assert connection.scalar(select(probe.c.id).where(probe.c.at > MOMENT)) is None
        _assert_utc(connection.scalar(select(probe.c.at).where(probe.c.at < MOMENT + timedelta(seconds=1))), MOMENT)


def test_a_naive_datetime_is_refused(engine: Engine) -> None:
    naive = datetime(2026, 11, 21, 8, 30)
    with pytest.raises(ValueError, match="naive"):
        UtcDateTime().process_bind_param(naive, engine.dialect)
    with engine.connect() as connection:
        with pytest.raises(StatementError) as refused:
            connection.execute(probe.insert(), [{"id": 2, "at": naive, "maybe": None}])
        assert isinstance(refused.value.orig, ValueError)
        with pytest.raises(StatementError):
            connection.execute(select(probe.c.id).where(probe.c.at >= naive))


def test_bulk_inserts_store_utc_on_either_path(engine: Engine) -> None:
    """executemany for a few rows; COPY (PostgreSQL) for many, through the same bind processor."""
    rows = [{"id": n, "at": MOMENT + timedelta(minutes=n), "maybe": MOMENT} for n in range(1, COPY_FROM_ROWS + 2)]
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            assert _copy_stores_as_executemany(connection, probe, rows[0])
        insert_rows(connection, probe, rows[:2])
        insert_rows(connection, probe, rows[2:])
        stored = connection.execute(select(probe.c.id, probe.c.at, probe.c.maybe).order_by(probe.c.id)).all()
    assert len(stored) == len(rows)
    for row, (_id, at, maybe) in zip(rows, stored, strict=True):
        _assert_utc(at, row["at"])
        _assert_utc(maybe, MOMENT)
    with engine.connect() as connection, pytest.raises((ValueError, StatementError), match="naive"):
        insert_rows(connection, probe, [{**rows[0], "id": 999, "at": datetime(2026, 1, 1)}] * COPY_FROM_ROWS)
