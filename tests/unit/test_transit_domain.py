"""The journey fold (app.domain.transit): states, alerts and the release decision, on
hand-made readings (no geometry, no database)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from app.domain.transit import (
    AlertKind,
    JourneyState,
    Limits,
    Progress,
    Reading,
    ReadingKind,
    advance,
    decide,
    overdue_alerts,
    progress_from_json,
    progress_to_json,
    release_decision,
)

T0 = datetime(2026, 11, 12, 1, 0, tzinfo=timezone.utc)
LIMITS = Limits(origin="HKHKG", destination="CNSZX", partner_points=frozenset({"CNSZX", "CNDGG"}),
                max_journey=timedelta(hours=4), max_stop=timedelta(minutes=30), silence=timedelta(minutes=15),
                stop_radius_m=150)


def reading(n: int, kind: ReadingKind = ReadingKind.POSITION, minutes: float | None = None, x: float = 0.0,
            point: str | None = None, inside: bool = True) -> Reading:
    return Reading(f"E{n}", kind, T0 + timedelta(minutes=n * 2 if minutes is None else minutes), 114.0 + x / 1e5,
                   22.4, inside, point, x, 0.0)


def fold(readings: list[Reading], limits: Limits = LIMITS) -> tuple[Progress, list[str], list[AlertKind]]:
    progress = Progress()
    transitions, alerts = [], []
    for r in readings:
        step = advance(progress, r, limits)
        progress = step.progress
        transitions += [t.kind for t in step.transitions]
        alerts += [a.kind for a in step.alerts]
    return progress, transitions, alerts


def drive(count: int, start: int = 1, step_m: float = 1500.0) -> list[Reading]:
    """Positions every 2 minutes, 1.5 km apart (a moving truck)."""
    return [reading(n, x=n * step_m) for n in range(start, start + count)]


def test_a_clean_run_seals_departs_arrives_and_is_released_in_the_green_lane() -> None:
    readings = [reading(0, ReadingKind.SEAL, point="HKHKG"), *drive(10),
                reading(11, point="CNSZX", x=16_500), reading(12, ReadingKind.UNSEAL, point="CNSZX", x=16_500)]
    progress, transitions, alerts = fold(readings)
    assert transitions == ["sealed", "departed", "arrived", "unsealed"]
    assert alerts == [] and progress.state is JourneyState.ARRIVED and progress.seal_intact
    decided = decide(progress, LIMITS, "green", T0 + timedelta(hours=1))
    assert decided.progress.state is JourneyState.RELEASED
    assert "sealed at HKHKG" in (decided.transitions[0].note or "")


def test_a_stop_longer_than_allowed_outside_a_clearance_point_is_an_alert_with_both_ends() -> None:
    parked = [reading(n, x=15_000 + (n % 2) * 40) for n in range(10, 28)]  # 36 minutes within 40 m
    progress, _, alerts = fold([reading(0, ReadingKind.SEAL, point="HKHKG"), *drive(9), *parked])
    assert alerts == [AlertKind.LONG_STOP] and progress.state is JourneyState.EXCEPTION


def test_queueing_at_a_control_point_is_not_a_stop_alert() -> None:
    queue = [reading(n, x=15_000, point="HKLMC") for n in range(10, 40)]  # an hour at Lok Ma Chau
    _, _, alerts = fold([reading(0, ReadingKind.SEAL, point="HKHKG"), *drive(9), *queue])
    assert alerts == []


def test_a_gap_in_telemetry_is_a_silence_alert_naming_both_events() -> None:
    readings = [reading(0, ReadingKind.SEAL, point="HKHKG"), *drive(3), reading(4, minutes=40, x=9000)]
    progress = Progress()
    found = []
    for r in readings:
        step = advance(progress, r, LIMITS)
        progress = step.progress
        found += step.alerts
    [silence] = found
    assert silence.kind is AlertKind.TELEMETRY_SILENCE and silence.event_ids == ("E3", "E4")
    assert "34 minutes" in silence.message


def test_leaving_the_corridor_opening_and_unsealing_elsewhere_each_raise_once() -> None:
    readings = [reading(0, ReadingKind.SEAL, point="HKHKG"), *drive(2), reading(3, inside=False, x=4500),
                reading(4, inside=False, x=6000), reading(5, ReadingKind.OPEN, x=6000),
                reading(6, ReadingKind.UNSEAL, x=6000)]
    progress, _, alerts = fold(readings)
    assert alerts == [AlertKind.ROUTE_DEVIATION, AlertKind.LOCK_OPENED, AlertKind.UNSEAL_AWAY_FROM_DESTINATION]
    assert progress.state is JourneyState.EXCEPTION and not progress.seal_intact
    assert release_decision(progress, LIMITS, "green") is None  # not unsealed at the destination


def test_a_seal_away_from_the_origin_is_an_alert() -> None:
    _, _, alerts = fold([reading(0, ReadingKind.SEAL)])
    assert alerts == [AlertKind.SEAL_AWAY_FROM_ORIGIN]


def test_partner_seal_and_red_lane() -> None:
    limits = Limits(origin="CNDGG", destination="HKKCG", partner_points=frozenset({"CNDGG"}),
                    max_journey=timedelta(hours=8), max_stop=timedelta(minutes=45), silence=timedelta(minutes=15),
                    stop_radius_m=150)
    readings = [reading(0, ReadingKind.SEAL, point="CNDGG"), *drive(5), reading(6, ReadingKind.UNSEAL, point="HKKCG")]
    progress, _, _ = fold(readings, limits)
    assert progress.sealed_by == "partner"
    green = release_decision(progress, limits, None)
    assert green is not None and green.release and "mutual recognition" in green.note
    red = release_decision(progress, limits, "red")
    assert red is not None and not red.release and "red lane" in red.note


def test_overdue_and_silence_found_by_the_job() -> None:
    progress, _, _ = fold([reading(0, ReadingKind.SEAL, point="HKHKG"), *drive(3)])
    assert overdue_alerts(progress, LIMITS, T0 + timedelta(minutes=10)) == []
    kinds = [a.kind for a in overdue_alerts(progress, LIMITS, T0 + timedelta(hours=5))]
    assert kinds == [AlertKind.OVERDUE, AlertKind.TELEMETRY_SILENCE]


def test_the_snapshot_round_trips() -> None:
    parked = [reading(n, x=15_000) for n in range(10, 13)]
    progress, _, _ = fold([reading(0, ReadingKind.SEAL, point="HKHKG"), *drive(9), *parked,
                           reading(13, ReadingKind.TAMPER, x=15_000)])
    assert progress_from_json(progress_to_json(progress)) == progress
