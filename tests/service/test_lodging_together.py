"""Group commit of single posts, against a real database: new declarations of concurrent posts
in one process stored by one commit, each answered as if it had been stored alone (its own
caller, conversation, reference, replay or refusal)."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace

import pytest
from sqlalchemy import select, text

from app.db import models
from app.db.transit_models import Journey
from app.declarations import pipeline
from app.declarations import service as declarations
from app.declarations.metrics import GROUP_SIZE
from app.domain.actors import Caller
from app.domain.declaration import ReceivedDeclaration
from app.domain.problems import Rejection
from app.platform.clock import utcnow
from app.platform.together import R, StoreGroup, T, Together
from tests.conftest import OTHER_BRN
from tests.factories import declaration_xml
from tests.service.conftest import World, every_score, sample


class Gathering(Together[T, R]):
    """Together, except that its first leader waits for ``size`` posts to queue behind it, so the
    next group is known to hold them all (the test's threads would otherwise race)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size
        self.gathered = False
        self.leading = threading.Event()

    def store(self, item: T, store: StoreGroup[T, R]) -> R:
        if not self.gathered:
            self.gathered = True
            self.leading.set()
            deadline = time.monotonic() + 10
            inner = store

            def store(group, inner=inner):  # type: ignore[no-untyped-def]
                while self.waiting < self.size and time.monotonic() < deadline:
                    time.sleep(0.002)
                return inner(group)
        return super().store(item, store)


def _together(world: World, monkeypatch: pytest.MonkeyPatch, size: int) -> None:
    monkeypatch.setattr(world.runtime, "lodging", replace(world.runtime.lodging, together=Gathering(size)))


def _post_at_once(world: World, posts: list[tuple[bytes, Caller, str]], read: pipeline.Receive | None = None
                  ) -> list[declarations.Outcome | Exception]:
    """Lodge each body as its own request would, on its own thread and unit of work (read with
    ``read``, intake's by default); the first leads alone and the rest queue behind it, then are
    stored together."""
    answers: list[declarations.Outcome | Exception | None] = [None] * len(posts)

    def lodge(index: int) -> None:
        body, caller, conversation = posts[index]
        try:
            with world.uow() as uow:
                answers[index] = pipeline.lodge(uow, world.runtime.lodging, body,
                                                pipeline.submission(caller, conversation), read=read).outcome
                uow.commit()
        except Exception as failure:  # noqa: BLE001 (the test reads each post's answer)
            answers[index] = failure

    first = threading.Thread(target=lodge, args=(0,))
    first.start()
    together = world.runtime.lodging.together
    if isinstance(together, Gathering):
        assert together.leading.wait(30)  # the first leads; the others queue behind it
    others = [threading.Thread(target=lodge, args=(n,)) for n in range(1, len(posts))]
    for thread in others:
        thread.start()
    for thread in [first, *others]:
        thread.join(30)
    assert all(answer is not None for answer in answers)
    return [answer for answer in answers if answer is not None]


def _groups() -> Callable[[], float]:
    before = GROUP_SIZE.collect()[0].samples
    count = next(s.value for s in before if s.name.endswith("_count"))
    return lambda: next(s.value for s in GROUP_SIZE.collect()[0].samples if s.name.endswith("_count")) - count


def test_concurrent_posts_are_stored_by_one_commit_each_with_its_own_caller_and_conversation(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    every_score(world, "red")
    _together(world, monkeypatch, 3)
    commits = _groups()
    answers = _post_at_once(world, [
        (declaration_xml(lrn="TOGETHER-0"), world.trader, "conversation-0"),
        (declaration_xml(lrn="TOGETHER-1"), world.trader, "conversation-1"),
        (declaration_xml(lrn="TOGETHER-2", declarant=OTHER_BRN), world.carrier, "conversation-2"),
        (declaration_xml(lrn="TOGETHER-3"), world.trader, "conversation-3")])
    assert commits() == 2  # the first alone, the three that queued behind it together
    outcomes = [answer for answer in answers if isinstance(answer, declarations.Outcome)]
    assert len(outcomes) == 4 and len({o.receipt.id for o in outcomes}) == 4
    assert [o.receipt.lrn for o in outcomes] == [f"TOGETHER-{n}" for n in range(4)]
    assert not any(o.replay for o in outcomes)
    with world.session() as session:
        stored = {row.lrn: (row.declarant_party_id, row.conversation_id)
                  for row in session.scalars(select(models.Declaration))}
        events = {event.declaration_id: (event.actor, event.conversation_id)
                  for event in session.scalars(select(models.DeclarationEvent))}
    assert stored == {"TOGETHER-0": (world.trader.party_id, "conversation-0"),
                      "TOGETHER-1": (world.trader.party_id, "conversation-1"),
                      "TOGETHER-2": (world.carrier.party_id, "conversation-2"),
                      "TOGETHER-3": (world.trader.party_id, "conversation-3")}
    assert events[outcomes[2].receipt.id] == (world.carrier.actor, "conversation-2")
    assert events[outcomes[3].receipt.id] == (world.trader.actor, "conversation-3")


def test_in_one_group_a_re_send_is_a_replay_and_a_refusal_is_its_posts_alone(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    every_score(world, "red")
    _together(world, monkeypatch, 3)
    body = declaration_xml(lrn="TWICE-1")
    answers = _post_at_once(world, [
        (declaration_xml(lrn="LEADER-1"), world.trader, "c0"),
        (body, world.trader, "c1"),
        (body, world.trader, "c2"),  # the same document sent twice at once
        (declaration_xml(lrn="NOT-MINE-1"), world.carrier, "c3")])  # the trader's declaration, sent by the carrier
    first, second = answers[1], answers[2]
    assert isinstance(first, declarations.Outcome) and isinstance(second, declarations.Outcome)
    assert first.receipt.id == second.receipt.id and [first.replay, second.replay].count(True) == 1
    assert isinstance(answers[3], Rejection) and answers[3].code == "DECLARANT_MISMATCH"
    with world.session() as session:
        assert sorted(session.scalars(select(models.Declaration.lrn))) == ["LEADER-1", "TWICE-1"]


def test_a_declaration_a_handler_refuses_in_a_group_is_refused_alone(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """A transhipment whose e-lock is not registered is refused when its journey would open (a
    handler): the group is stored again one by one, and only that post is refused."""
    every_score(world, "red")
    _together(world, monkeypatch, 3)
    transhipment = sample("valid/transhipment-elock.xml")
    answers = _post_at_once(world, [
        (declaration_xml(lrn="HANDLED-0"), world.trader, "c0"),
        (declaration_xml(lrn="HANDLED-1"), world.trader, "c1"),
        (transhipment.replace(b"EL-000123", b"EL-777777").replace(b"DTC-TS-2026-000301", b"HANDLED-TS-1"),
         world.trader, "c2"),
        (transhipment, world.trader, "c3")])
    assert isinstance(answers[2], Rejection) and answers[2].code == "TRANSIT_REJECTED"
    assert all(isinstance(answers[n], declarations.Outcome) for n in (0, 1, 3))
    with world.session() as session:
        journeys = session.scalars(select(Journey.declaration_id)).all()
        assert len(session.scalars(select(models.Declaration.id)).all()) == 3
    assert journeys == [answers[3].receipt.id]  # type: ignore[union-attr]


def test_a_post_the_rules_refuse_in_a_group_is_refused_alone_and_the_others_are_stored_together(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The group's leader runs every post's rules: a reject finding is that post's answer, with
    every finding listed, and the rest of the group is stored by one commit."""
    every_score(world, "red")
    _together(world, monkeypatch, 3)
    commits = _groups()
    answers = _post_at_once(world, [
        (declaration_xml(lrn="RULED-0"), world.trader, "c0"),
        (declaration_xml(lrn="RULED-1"), world.trader, "c1"),
        (declaration_xml(lrn="RULED-2", hs_code="00000000"), world.trader, "c2"),  # no such commodity code
        (declaration_xml(lrn="RULED-3"), world.trader, "c3")])
    refused = answers[2]
    assert isinstance(refused, Rejection) and refused.code == "RULES_REJECTED"
    assert any(problem.severity == "reject" and "Commodity" in (problem.path or "") for problem in refused.problems)
    assert [o.receipt.lrn for o in answers if isinstance(o, declarations.Outcome)] == ["RULED-0", "RULED-1", "RULED-3"]
    assert commits() == 2  # the first alone, the two the rules let through together
    with world.session() as session:
        assert sorted(session.scalars(select(models.Declaration.lrn))) == ["RULED-0", "RULED-1", "RULED-3"]


def test_documents_the_group_reads_are_refused_each_alone_and_the_others_stored_together(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The group's leader reads the documents of its posts: one intake refuses (not well formed,
    not schema-valid) is that post's answer, with its line, and the rest of the group is stored
    by one commit."""
    every_score(world, "red")
    _together(world, monkeypatch, 3)
    commits = _groups()
    answers = _post_at_once(world, [
        (declaration_xml(lrn="READ-0"), world.trader, "c0"),
        (declaration_xml(lrn="READ-1")[:-40], world.trader, "c1"),  # cut short
        (declaration_xml(lrn="READ-2").replace(b"<TypeCode>IM</TypeCode>", b"<TypeCode>ZZ</TypeCode>", 1),
         world.trader, "c2"),
        (declaration_xml(lrn="READ-3"), world.trader, "c3")])
    malformed, invalid = answers[1], answers[2]
    assert isinstance(malformed, Rejection) and malformed.code == "XML_MALFORMED"
    assert malformed.problems and malformed.problems[0].line is not None
    assert isinstance(invalid, Rejection) and invalid.code == "SCHEMA_INVALID"
    assert [o.receipt.lrn for o in answers if isinstance(o, declarations.Outcome)] == ["READ-0", "READ-3"]
    assert commits() == 2
    with world.session() as session:
        assert sorted(session.scalars(select(models.Declaration.lrn))) == ["READ-0", "READ-3"]


def test_a_document_its_read_hands_back_is_that_posts_answer_alone(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """A read may find that a document asks for more than a new declaration (``NotNew``: the API's
    for an amendment or a cancellation): its post gets it back to lodge on its own, untouched by
    the group, and the others are stored."""
    every_score(world, "red")
    _together(world, monkeypatch, 2)
    receive = world.runtime.lodging.receive
    asked = pipeline.Request(None, "CSWX", "a reason")

    def read(body: bytes) -> ReceivedDeclaration:
        if b"HANDED-1" in body:
            raise pipeline.NotNew(asked)
        return receive(body)

    answers = _post_at_once(world, [(declaration_xml(lrn=f"HANDED-{n}"), world.trader, f"c{n}") for n in range(3)],
                            read)
    handed = answers[1]
    assert isinstance(handed, pipeline.NotNew) and handed.request is asked
    assert all(isinstance(answers[n], declarations.Outcome) for n in (0, 2))
    with world.session() as session:
        assert sorted(session.scalars(select(models.Declaration.lrn))) == ["HANDED-0", "HANDED-2"]


def test_a_group_whose_every_post_is_refused_stores_nothing_and_hands_the_lead_on(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    every_score(world, "red")
    _together(world, monkeypatch, 2)
    commits = _groups()
    answers = _post_at_once(world, [
        (declaration_xml(lrn="REFUSED-0"), world.trader, "c0"),
        (declaration_xml(lrn="REFUSED-1", hs_code="00000000"), world.trader, "c1"),
        (declaration_xml(lrn="REFUSED-2"), world.carrier, "c2")])  # the trader's declaration, sent by the carrier
    assert isinstance(answers[0], declarations.Outcome)
    assert [answer.code for answer in answers[1:] if isinstance(answer, Rejection)] == [
        "RULES_REJECTED", "DECLARANT_MISMATCH"]
    assert commits() == 1
    later = world.lodge(declaration_xml(lrn="REFUSED-3"))  # the lead was handed on
    with world.session() as session:
        assert sorted(session.scalars(select(models.Declaration.lrn))) == ["REFUSED-0", "REFUSED-3"]
    assert later.receipt.lrn == "REFUSED-3"


def test_a_group_that_cannot_be_stored_fails_every_post_of_it_and_stores_nothing(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    every_score(world, "red")
    _together(world, monkeypatch, 2)
    real = declarations.submit_many

    def failing(session, submissions):  # type: ignore[no-untyped-def]
        if len(submissions) > 1:
            raise RuntimeError("the database went away")
        return real(session, submissions)

    monkeypatch.setattr(declarations, "submit_many", failing)
    answers = _post_at_once(world, [(declaration_xml(lrn="FIRST-1"), world.trader, "c0"),
                                    (declaration_xml(lrn="LOST-1"), world.trader, "c1"),
                                    (declaration_xml(lrn="LOST-2"), world.trader, "c2")])
    assert isinstance(answers[0], declarations.Outcome)
    assert [str(answer) for answer in answers[1:]] == ["the database went away"] * 2
    with world.session() as session:
        assert session.scalars(select(models.Declaration.lrn)).all() == ["FIRST-1"]
    later = world.lodge(declaration_xml(lrn="LATER-1"))  # the lead was given back
    assert later.receipt.lrn == "LATER-1"


def test_a_long_document_is_lodged_on_its_own_while_a_group_gathers(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """A declaration longer than ``alone_above`` (some hundred goods items) is not put in a
    group, where the posts around it would wait for its read, rules and risk: it is stored by
    its own commit while a group is still gathering, with every row a declaration has."""
    small, long = declaration_xml(lrn="SMALL-1"), declaration_xml(lrn="LONG-1", items=40)
    gathering = Gathering[pipeline.Arrival, pipeline.Lodged](1)
    monkeypatch.setattr(world.runtime, "lodging", replace(world.runtime.lodging, together=gathering,
                                                          alone_above=len(small) + 1024))
    assert len(long) > world.runtime.lodging.alone_above
    commits = _groups()
    answers: dict[str, declarations.Outcome] = {}
    leader = threading.Thread(target=lambda: answers.update({"SMALL-1": world.lodge(small)}))
    leader.start()
    assert gathering.leading.wait(30)  # the leader waits until a post queues behind it
    stored = world.lodge(long)
    assert leader.is_alive() and gathering.waiting == 0  # stored without joining the gathering group
    assert stored.receipt.lrn == "LONG-1" and commits() == 0
    follower = threading.Thread(target=lambda: answers.update({"SMALL-2": world.lodge(
        declaration_xml(lrn="SMALL-2"))}))
    follower.start()
    for thread in (leader, follower):
        thread.join(30)
    assert sorted(answers) == ["SMALL-1", "SMALL-2"] and commits() == 2  # the leader alone, then SMALL-2
    rows = _stored_rows(world, stored.receipt.id)
    assert rows["goods_items"] == 40 and rows["declaration_events"] and rows["risk_assessments"] == 1


def test_a_post_alone_is_stored_at_once_as_before(world: World) -> None:
    commits = _groups()
    assert isinstance(world.runtime.lodging.together, Together)
    world.lodge(declaration_xml(lrn="ALONE-1"))
    world.lodge(declaration_xml(lrn="ALONE-2"))
    assert commits() == 2





_ROWS_OF_A_DECLARATION = ("declaration_documents", "declaration_parties", "goods_items", "transport_equipment",
                          "declaration_findings", "declaration_events", "risk_assessments", "lifecycle_notifications")


def _stored_rows(world: World, declaration_id: str) -> dict[str, object]:
    with world.session() as session:
        counts = {table: session.scalar(text(f"SELECT count(*) FROM {table} WHERE declaration_id = :id"),
                                        {"id": declaration_id}) for table in _ROWS_OF_A_DECLARATION}
        counts["seals"] = session.scalar(text(
            "SELECT count(*) FROM seals JOIN transport_equipment ON transport_equipment.id = seals.equipment_id "
            "WHERE transport_equipment.declaration_id = :id"), {"id": declaration_id})
        sealed = session.execute(text(
            "SELECT transport_equipment.sequence, transport_equipment.container_id, seals.seal_id FROM seals "
            "JOIN transport_equipment ON transport_equipment.id = seals.equipment_id "
            "WHERE transport_equipment.declaration_id = :id ORDER BY seals.id"), {"id": declaration_id}).all()
    return {**counts, "sealed": [tuple(row) for row in sealed]}


def test_a_group_stores_every_row_a_declaration_stored_alone_has(world: World, monkeypatch: pytest.MonkeyPatch
                                                                 ) -> None:
    """On PostgreSQL the rows that need no answer are held back and go with the group's commit:
    none may be missing (the lifecycle feed and the risk assessment are the last to be queued)."""
    every_score(world, "green", release_green=True)
    body = sample("valid/import-5-items.xml")
    alone = world.lodge(body.replace(b"DTC-IM-2026-000101", b"ROWS-ALONE"))
    _together(world, monkeypatch, 2)
    answers = _post_at_once(world, [(body.replace(b"DTC-IM-2026-000101", f"ROWS-{n}".encode()), world.trader,
                                     f"conversation-{n}") for n in range(3)])
    expected = _stored_rows(world, alone.receipt.id)
    assert expected["sealed"] == [(1, "CSQU3054383", "CSL4821907")]
    assert expected["lifecycle_notifications"] == 2 and expected["risk_assessments"] == 1
    for answer in answers:
        assert isinstance(answer, declarations.Outcome)
        assert _stored_rows(world, answer.receipt.id) == expected


def _drawing(monkeypatch: pytest.MonkeyPatch, *first: str) -> None:
    """References are drawn as ``first`` says, then as ever."""
    queue, real, lock = list(first), declarations.new_declaration_reference, threading.Lock()

    def draw(now):  # type: ignore[no-untyped-def]
        with lock:
            return queue.pop(0) if queue else real(now)

    monkeypatch.setattr(declarations, "new_declaration_reference", draw)


def _reference_of(world: World, lrn: str) -> tuple[str, int, int]:
    """The declaration stored for ``lrn``: its reference, and how many documents and events name it."""
    with world.session() as session:
        reference = session.scalar(select(models.Declaration.id).where(models.Declaration.lrn == lrn))
        assert reference is not None
        documents = session.scalars(select(models.DeclarationDocument.id).where(
            models.DeclarationDocument.declaration_id == reference)).all()
        events = session.scalars(select(models.DeclarationEvent.id).where(
            models.DeclarationEvent.declaration_id == reference)).all()
    return reference, len(documents), len(events)


def test_a_declaration_drawing_a_reference_already_held_is_given_a_fresh_one(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """References are partly time, partly chance (``app.domain.reference``): two may be drawn
    alike. The second declaration is stored under a reference of its own, and the first is
    untouched."""
    every_score(world, "red")
    held = declarations.new_declaration_reference(utcnow())
    _drawing(monkeypatch, held, held)
    first = world.lodge(declaration_xml(lrn="HELD-1"))
    second = world.lodge(declaration_xml(lrn="DRAWN-AGAIN-1"))
    assert first.receipt.id == held and second.receipt.id not in ("", held) and not second.replay
    assert _reference_of(world, "HELD-1") == (held, 1, 1)
    assert _reference_of(world, "DRAWN-AGAIN-1") == (second.receipt.id, 1, 1)


def test_in_one_group_two_posts_drawing_one_reference_are_each_stored_under_their_own(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    every_score(world, "red")
    _together(world, monkeypatch, 3)
    alike, held = (declarations.new_declaration_reference(utcnow()) for _ in range(2))
    _drawing(monkeypatch, held, alike, alike, held)  # the leader alone; then three drawing two references
    answers = _post_at_once(world, [(declaration_xml(lrn=f"ALIKE-{n}"), world.trader, f"c{n}") for n in range(4)])
    outcomes = [answer for answer in answers if isinstance(answer, declarations.Outcome)]
    assert len(outcomes) == 4 and len({outcome.receipt.id for outcome in outcomes}) == 4
    for n, outcome in enumerate(outcomes):
        assert _reference_of(world, f"ALIKE-{n}") == (outcome.receipt.id, 1, 1)


def test_a_declaration_that_keeps_drawing_held_references_is_refused_with_nothing_stored(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    every_score(world, "red")
    held = declarations.new_declaration_reference(utcnow())
    _drawing(monkeypatch, *[held] * (2 + declarations.REFERENCE_DRAWS))
    world.lodge(declaration_xml(lrn="HELD-2"))
    with pytest.raises(Rejection) as refused:
        world.lodge(declaration_xml(lrn="UNLUCKY-1"))
    assert refused.value.code == "DATABASE_UNAVAILABLE"
    with world.session() as session:
        assert session.scalars(select(models.Declaration.lrn)).all() == ["HELD-2"]
