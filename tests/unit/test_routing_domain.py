"""Pure routing logic: manifest decision, linking cut-off, route matching, back-off, signatures."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from app.domain.routing import (
    DeliveryResult,
    MessageFacts,
    MessageType,
    RecipientRole,
    RetryPolicy,
    Route,
    backoff_seconds,
    classify_status,
    recipients_for,
    routing_key,
    sign,
    verify,
)
from app.domain.trips import (
    ConsignmentState,
    ManifestDecision,
    SelectionPolicy,
    is_valid_trip_reference,
    late_linking_reason,
    manifest_decision,
    new_trip_reference,
)

POLICY = SelectionPolicy(selected_lanes=frozenset({"red", "yellow"}),
                         selected_statuses=frozenset({"refused", "cancelled"}))
NOW = datetime(2026, 11, 22, 2, 0, tzinfo=timezone.utc)


def state(ref: str, status: str, lane: str | None = None) -> ConsignmentState:
    return ConsignmentState(ref, status, lane)


def test_every_consignment_released_clears_the_manifest() -> None:
    verdict = manifest_decision([state("A", "released", "green"), state("B", "released", "red")], POLICY)
    assert verdict.decision is ManifestDecision.CLEARED and verdict.selected == ()


def test_one_selected_consignment_sends_the_truck_to_inspection_and_is_named() -> None:
    verdict = manifest_decision([state("A", "released"), state("C", "under_review", "red"),
                                 state("B", "accepted", "green")], POLICY)
    assert verdict.decision is ManifestDecision.INSPECTION and verdict.selected == ("C",)


def test_refused_or_cancelled_consignments_are_selected() -> None:
    verdict = manifest_decision([state("A", "refused"), state("B", "cancelled"), state("C", "released")], POLICY)
    assert verdict.decision is ManifestDecision.INSPECTION and verdict.selected == ("A", "B")


@pytest.mark.parametrize("items", [[], [ConsignmentState("A", "accepted", None)],
                                   [ConsignmentState("A", "released", None),
                                    ConsignmentState("B", "accepted", "green")]])
def test_anything_else_is_pending(items: list[ConsignmentState]) -> None:
    assert manifest_decision(items, POLICY).decision is ManifestDecision.PENDING


def test_linking_closes_the_configured_minutes_before_crossing() -> None:
    crossing = NOW + timedelta(minutes=30)
    assert late_linking_reason(NOW, crossing, 30) is None
    reason = late_linking_reason(NOW + timedelta(seconds=1), crossing, 30)
    assert reason is not None and "30 minutes" in reason
    assert late_linking_reason(NOW + timedelta(minutes=20), crossing, 10) is None


def test_trip_references_carry_a_check_character() -> None:
    reference = new_trip_reference(NOW)
    assert reference.startswith("HK26T") and len(reference) == 16 and is_valid_trip_reference(reference)
    wrong = reference[:-1] + ("0" if reference[-1] != "0" else "1")
    assert not is_valid_trip_reference(wrong)


ROUTES = (
    Route("release", frozenset({MessageType.RELEASE_NOTICE}), (RecipientRole.DECLARANT, RecipientRole.CARRIER)),
    Route("road", frozenset({MessageType.RELEASE_NOTICE}), (RecipientRole.CONTROL_POINT, RecipientRole.CARRIER),
          transport_modes=frozenset({"3"})),
    Route("partner", frozenset({MessageType.MANIFEST_DECISION}), (RecipientRole.PARTNER_CUSTOMS,),
          decisions=frozenset({"cleared"}), cross_boundary=True),
    Route("lmc only", frozenset({MessageType.MANIFEST_DECISION}), (RecipientRole.TERMINAL,),
          control_points=frozenset({"HKLMC"}), declaration_types=frozenset({"IM"})),
)


def test_recipients_of_every_matching_route_once_each_in_order() -> None:
    facts = MessageFacts(MessageType.RELEASE_NOTICE, control_point="HKLMC", transport_mode="3")
    assert recipients_for(ROUTES, facts) == (RecipientRole.DECLARANT, RecipientRole.CARRIER,
                                             RecipientRole.CONTROL_POINT)
    air = MessageFacts(MessageType.RELEASE_NOTICE, control_point="HKHKG", transport_mode="4")
    assert recipients_for(ROUTES, air) == (RecipientRole.DECLARANT, RecipientRole.CARRIER)


def test_conditions_on_decision_boundary_control_point_and_type() -> None:
    cleared = MessageFacts(MessageType.MANIFEST_DECISION, control_point="HKSZB", decision="cleared",
                           cross_boundary=True)
    assert recipients_for(ROUTES, cleared) == (RecipientRole.PARTNER_CUSTOMS,)
    assert recipients_for(ROUTES, MessageFacts(MessageType.MANIFEST_DECISION, decision="inspection",
                                               cross_boundary=True)) == ()
    assert recipients_for(ROUTES, MessageFacts(MessageType.MANIFEST_DECISION, decision="cleared")) == ()
    assert recipients_for(ROUTES, MessageFacts(MessageType.MANIFEST_DECISION, control_point="HKLMC",
                                               declaration_type="EX")) == ()
    assert recipients_for(ROUTES, MessageFacts(MessageType.CANCELLATION_NOTICE)) == ()


def test_backoff_grows_exponentially_within_jitter_and_is_capped() -> None:
    policy = RetryPolicy(base_seconds=1, cap_seconds=60)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 1), (2, 2), (3, 4), (6, 32), (7, 60), (30, 60)]:
        delays = [backoff_seconds(attempt, policy, rng) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1  # jittered


@pytest.mark.parametrize(("status", "result"), [
    (200, DeliveryResult.DELIVERED), (204, DeliveryResult.DELIVERED), (400, DeliveryResult.REFUSED),
    (404, DeliveryResult.REFUSED), (422, DeliveryResult.REFUSED), (429, DeliveryResult.UNAVAILABLE),
    (408, DeliveryResult.UNAVAILABLE), (500, DeliveryResult.UNAVAILABLE), (503, DeliveryResult.UNAVAILABLE),
    (302, DeliveryResult.UNAVAILABLE)])
def test_status_classification(status: int, result: DeliveryResult) -> None:
    assert classify_status(status) is result


def test_signature_covers_timestamp_and_body() -> None:
    signature = sign("s3cret", "1700000000", b"<x/>")
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert verify("s3cret", "1700000000", b"<x/>", signature)
    assert not verify("s3cret", "1700000001", b"<x/>", signature)
    assert not verify("s3cret", "1700000000", b"<y/>", signature)
    assert not verify("other", "1700000000", b"<x/>", signature)


def test_routing_keys_name_type_and_control_point() -> None:
    assert routing_key("release_notice", "HKLMC") == "release_notice.HKLMC"
    assert routing_key("manifest_decision", None) == "manifest_decision.none"
