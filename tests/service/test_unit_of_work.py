"""The unit of work commits whatever it holds, and runs no commit when it holds nothing (a
single post whose group another post's unit of work stored and committed)."""
from __future__ import annotations

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.db import models
from app.platform.clock import utcnow
from tests.service.conftest import World


def test_a_row_only_added_is_committed(world: World) -> None:
    with world.uow() as uow:
        uow.session.add(models.Party(identifier="12345678-000", name="Added Only Limited", created_at=utcnow()))
        uow.commit()
    with world.session() as session:
        assert session.scalar(select(models.Party.name).where(models.Party.identifier == "12345678-000")) \
            == "Added Only Limited"


def test_a_unit_of_work_holding_nothing_runs_no_commit(world: World) -> None:
    committing: list[Session] = []
    with world.uow() as uow:
        event.listen(uow.session, "before_commit", committing.append)
        uow.commit()
        assert committing == []
        uow.session.scalar(select(models.Party.id).limit(1))
        uow.commit()
    assert committing == [uow.session]
