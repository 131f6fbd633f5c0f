"""A single e-lock journey as plain data: its states, the readings of its e-lock, and the
rules that raise alerts (ITFS / Single E-lock Scheme, domain brief §4).

The journey is a fold over its e-lock's readings in time order: ``advance`` takes the
journey's progress and one reading and returns the new progress, the transitions and the
alerts. Geometry is decided before a reading gets here (``inside_corridor``, ``point``), so
this module needs no GIS library and no I/O; the same fold replays a journey when a
reading arrives late.
"""
from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta


class JourneyState(str, enum.Enum):
    REGISTERED = "registered"
    SEALED = "sealed"
    IN_TRANSIT = "in_transit"
    ARRIVED = "arrived"
    RELEASED = "released"
    EXCEPTION = "exception"
    CANCELLED = "cancelled"


CLOSED_STATES = frozenset({JourneyState.RELEASED, JourneyState.CANCELLED})
MOVING_STATES = frozenset({JourneyState.SEALED, JourneyState.IN_TRANSIT})


class ReadingKind(str, enum.Enum):
    """What the e-lock/GPS gateway reports."""

    SEAL = "seal"
    POSITION = "position"
    OPEN = "open"
    TAMPER = "tamper"
    LOW_BATTERY = "low_battery"
    UNSEAL = "unseal"


class AlertKind(str, enum.Enum):
    ROUTE_DEVIATION = "route_deviation"
    LOCK_OPENED = "lock_opened"
    LOCK_TAMPERED = "lock_tampered"
    SEAL_AWAY_FROM_ORIGIN = "seal_away_from_origin"
    UNSEAL_AWAY_FROM_DESTINATION = "unseal_away_from_destination"
    LONG_STOP = "long_stop"
    OVERDUE = "overdue"
    TELEMETRY_SILENCE = "telemetry_silence"


@dataclass(frozen=True, slots=True)
class Reading:
    """One e-lock event, placed: whether it lies in the route's corridor, the clearance point
    it lies in (if any), and its position in metres on a local plane (for stop distances)."""

    event_id: str
    kind: ReadingKind
    at: datetime
    longitude: float
    latitude: float
    inside_corridor: bool
    point: str | None
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class Limits:
    """The approved route's limits (``rules/transit``)."""

    origin: str
    destination: str
    partner_points: frozenset[str]
    max_journey: timedelta
    max_stop: timedelta
    silence: timedelta
    stop_radius_m: float


@dataclass(frozen=True, slots=True)
class Transition:
    """A timeline entry: what happened, the state before and after, which reading caused it."""

    kind: str
    state_from: JourneyState
    state_to: JourneyState
    at: datetime
    event_id: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class AlertDraft:
    kind: AlertKind
    at: datetime
    event_ids: tuple[str, ...]
    coordinates: tuple[tuple[float, float], ...]
    message: str


@dataclass(frozen=True, slots=True)
class StopAnchor:
    event_id: str
    at: datetime
    x: float
    y: float
    longitude: float
    latitude: float


@dataclass(frozen=True, slots=True)
class Progress:
    """Everything the rules need to know about a journey so far (stored as a snapshot)."""

    state: JourneyState = JourneyState.REGISTERED
    sealed_at: datetime | None = None
    sealed_point: str | None = None
    sealed_by: str | None = None  # "hk" or "partner"
    seal_intact: bool = True
    arrived_at: datetime | None = None
    unsealed_at: datetime | None = None
    unsealed_point: str | None = None
    last_at: datetime | None = None
    last_event_id: str | None = None
    last_position: tuple[float, float] | None = None
    stop: StopAnchor | None = None
    alerted: frozenset[AlertKind] = field(default_factory=frozenset)

    @property
    def lock_on(self) -> bool:
        return self.sealed_at is not None and self.unsealed_at is None


@dataclass(frozen=True, slots=True)
class Step:
    progress: Progress
    transitions: tuple[Transition, ...] = ()
    alerts: tuple[AlertDraft, ...] = ()


def _raise(progress: Progress, draft: AlertDraft, transitions: list[Transition],
           alerts: list[AlertDraft]) -> Progress:
    """One alert per kind per journey; the first puts a live journey in ``exception``."""
    if draft.kind in progress.alerted:
        return progress
    alerts.append(draft)
    before = progress.state
    after = JourneyState.EXCEPTION if before not in CLOSED_STATES else before
    transitions.append(Transition(f"alert:{draft.kind.value}", before, after, draft.at,
                                  draft.event_ids[-1] if draft.event_ids else None, draft.message))
    return replace(progress, state=after, alerted=progress.alerted | {draft.kind})


def _move(progress: Progress, to: JourneyState, kind: str, reading: Reading, transitions: list[Transition],
          note: str | None = None) -> Progress:
    """A state change, unless the journey is already in ``exception`` (then only recorded)."""
    before = progress.state
    after = before if before is JourneyState.EXCEPTION else to
    transitions.append(Transition(kind, before, after, reading.at, reading.event_id, note))
    return replace(progress, state=after)


def _where(reading: Reading) -> tuple[tuple[float, float], ...]:
    return ((reading.longitude, reading.latitude),)


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


def advance(progress: Progress, reading: Reading, limits: Limits) -> Step:
    """Apply one reading (readings must come in time order)."""
    transitions: list[Transition] = []
    alerts: list[AlertDraft] = []
    p = progress
    if p.state in CLOSED_STATES:
        return Step(p)
    if p.lock_on and p.last_at is not None and reading.at - p.last_at > limits.silence:
        gap = reading.at - p.last_at
        p = _raise(p, AlertDraft(
            AlertKind.TELEMETRY_SILENCE, reading.at, tuple(e for e in (p.last_event_id, reading.event_id) if e),
            tuple(c for c in (p.last_position, (reading.longitude, reading.latitude)) if c),
            f"no telemetry for {_minutes(gap)} minutes (limit {_minutes(limits.silence)})"), transitions, alerts)
    if (p.lock_on and p.arrived_at is None and p.sealed_at is not None
            and reading.at - p.sealed_at > limits.max_journey):
        p = _raise(p, AlertDraft(
            AlertKind.OVERDUE, reading.at, (reading.event_id,), _where(reading),
            f"not arrived {_minutes(reading.at - p.sealed_at)} minutes after sealing "
            f"(limit {_minutes(limits.max_journey)})"), transitions, alerts)

    kind = reading.kind
    if kind is ReadingKind.SEAL:
        p = _seal(p, reading, limits, transitions, alerts)
    elif kind is ReadingKind.POSITION:
        p = _position(p, reading, limits, transitions, alerts)
    elif kind in (ReadingKind.OPEN, ReadingKind.TAMPER):
        p = _opened(p, reading, transitions, alerts)
    elif kind is ReadingKind.UNSEAL:
        p = _unseal(p, reading, limits, transitions, alerts)
    elif kind is ReadingKind.LOW_BATTERY:
        transitions.append(Transition("low_battery", p.state, p.state, reading.at, reading.event_id,
                                      "the e-lock reports a low battery"))
    p = replace(p, last_at=reading.at, last_event_id=reading.event_id,
                last_position=(reading.longitude, reading.latitude))
    return Step(p, tuple(transitions), tuple(alerts))


def _seal(p: Progress, reading: Reading, limits: Limits, transitions: list[Transition],
          alerts: list[AlertDraft]) -> Progress:
    if p.sealed_at is not None:
        transitions.append(Transition("seal_repeated", p.state, p.state, reading.at, reading.event_id,
                                      "seal reported again; the first seal stands"))
        return p
    side = "partner" if reading.point in limits.partner_points else "hk"
    p = replace(p, sealed_at=reading.at, sealed_point=reading.point, sealed_by=side, seal_intact=True)
    where = reading.point or "outside any clearance point"
    p = _move(p, JourneyState.SEALED, "sealed", reading, transitions,
              f"sealed at {where}" + (" by partner customs" if side == "partner" else ""))
    if reading.point != limits.origin:
        p = _raise(p, AlertDraft(
            AlertKind.SEAL_AWAY_FROM_ORIGIN, reading.at, (reading.event_id,), _where(reading),
            f"sealed at {where}, not at the origin {limits.origin}"), transitions, alerts)
    return p


def _position(p: Progress, reading: Reading, limits: Limits, transitions: list[Transition],
              alerts: list[AlertDraft]) -> Progress:
    if not p.lock_on:
        return p
    if p.state is JourneyState.SEALED and reading.point != p.sealed_point:
        p = _move(p, JourneyState.IN_TRANSIT, "departed", reading, transitions)
    if not reading.inside_corridor and reading.point is None:
        p = _raise(p, AlertDraft(
            AlertKind.ROUTE_DEVIATION, reading.at, (reading.event_id,), _where(reading),
            f"position {reading.latitude:.5f},{reading.longitude:.5f} is outside the approved route's corridor"),
            transitions, alerts)
    if reading.point == limits.destination and p.arrived_at is None:
        p = replace(p, arrived_at=reading.at)
        p = _move(p, JourneyState.ARRIVED, "arrived", reading, transitions, f"arrived at {limits.destination}")
    return _stop(p, reading, limits, transitions, alerts)


def _stop(p: Progress, reading: Reading, limits: Limits, transitions: list[Transition],
          alerts: list[AlertDraft]) -> Progress:
    """A stop is a run of positions within ``stop_radius_m`` of its first; stops at clearance
    points (queues at the boundary, the destination) are expected."""
    if reading.point is not None or p.arrived_at is not None:
        return replace(p, stop=None)
    anchor = p.stop
    if anchor is None or math.hypot(reading.x - anchor.x, reading.y - anchor.y) > limits.stop_radius_m:
        return replace(p, stop=StopAnchor(reading.event_id, reading.at, reading.x, reading.y,
                                          reading.longitude, reading.latitude))
    stopped = reading.at - anchor.at
    if stopped > limits.max_stop:
        p = _raise(p, AlertDraft(
            AlertKind.LONG_STOP, reading.at, (anchor.event_id, reading.event_id),
            ((anchor.longitude, anchor.latitude), (reading.longitude, reading.latitude)),
            f"stopped {_minutes(stopped)} minutes outside a clearance point (limit {_minutes(limits.max_stop)})"),
            transitions, alerts)
    return p


def _opened(p: Progress, reading: Reading, transitions: list[Transition], alerts: list[AlertDraft]) -> Progress:
    tampered = reading.kind is ReadingKind.TAMPER
    word = "tampered with" if tampered else "opened"
    if not p.lock_on:
        transitions.append(Transition(reading.kind.value, p.state, p.state, reading.at, reading.event_id,
                                      f"lock {word} while not sealed"))
        return p
    p = replace(p, seal_intact=False)
    if reading.point is not None:
        transitions.append(Transition(reading.kind.value, p.state, p.state, reading.at, reading.event_id,
                                      f"lock {word} at clearance point {reading.point}"))
        return p
    kind = AlertKind.LOCK_TAMPERED if tampered else AlertKind.LOCK_OPENED
    return _raise(p, AlertDraft(kind, reading.at, (reading.event_id,), _where(reading),
                                f"lock {word} outside any clearance point"), transitions, alerts)


def _unseal(p: Progress, reading: Reading, limits: Limits, transitions: list[Transition],
            alerts: list[AlertDraft]) -> Progress:
    if not p.lock_on:
        transitions.append(Transition("unseal_ignored", p.state, p.state, reading.at, reading.event_id,
                                      "unseal reported for a lock that is not sealed"))
        return p
    if reading.point == limits.destination and p.arrived_at is None:
        p = replace(p, arrived_at=reading.at)
        p = _move(p, JourneyState.ARRIVED, "arrived", reading, transitions, f"arrived at {limits.destination}")
    p = replace(p, unsealed_at=reading.at, unsealed_point=reading.point, stop=None)
    transitions.append(Transition("unsealed", p.state, p.state, reading.at, reading.event_id,
                                  f"unsealed at {reading.point or 'outside any clearance point'}"))
    if reading.point != limits.destination:
        p = _raise(p, AlertDraft(
            AlertKind.UNSEAL_AWAY_FROM_DESTINATION, reading.at, (reading.event_id,), _where(reading),
            f"unsealed at {reading.point or 'a place that is no clearance point'}, "
            f"not at the destination {limits.destination}"), transitions, alerts)
    return p


def external_alert(progress: Progress, draft: AlertDraft) -> Step:
    """An alert found outside the readings (the overdue / silence job)."""
    transitions: list[Transition] = []
    alerts: list[AlertDraft] = []
    p = _raise(progress, draft, transitions, alerts)
    return Step(p, tuple(transitions), tuple(alerts))


def overdue_alerts(progress: Progress, limits: Limits, now: datetime) -> list[AlertDraft]:
    """What the every-minute job finds on a live journey: overdue, or silent too long."""
    found: list[AlertDraft] = []
    if not progress.lock_on or progress.state in CLOSED_STATES:
        return found
    where = (progress.last_position,) if progress.last_position else ()
    last_ids = (progress.last_event_id,) if progress.last_event_id else ()
    if (progress.arrived_at is None and progress.sealed_at is not None
            and now - progress.sealed_at > limits.max_journey and AlertKind.OVERDUE not in progress.alerted):
        found.append(AlertDraft(AlertKind.OVERDUE, now, last_ids, where,
                                f"not arrived {_minutes(now - progress.sealed_at)} minutes after sealing "
                                f"(limit {_minutes(limits.max_journey)})"))
    if (progress.last_at is not None and now - progress.last_at > limits.silence
            and AlertKind.TELEMETRY_SILENCE not in progress.alerted):
        found.append(AlertDraft(AlertKind.TELEMETRY_SILENCE, now, last_ids, where,
                                f"no telemetry for {_minutes(now - progress.last_at)} minutes "
                                f"(limit {_minutes(limits.silence)})"))
    return found


@dataclass(frozen=True, slots=True)
class Decision:
    release: bool
    note: str


def release_decision(progress: Progress, limits: Limits, lane: str | None) -> Decision | None:
    """Once the lock is taken off at the destination: release without re-inspection when the
    seal stayed intact and nothing was alerted, unless risk put the declaration in the red
    lane. None while the journey is not at that point yet."""
    if progress.unsealed_at is None or progress.unsealed_point != limits.destination:
        return None
    if progress.state in CLOSED_STATES:
        return None
    reasons = []
    if not progress.seal_intact:
        reasons.append("the seal was opened or tampered with en route")
    if progress.alerted or progress.state is JourneyState.EXCEPTION:
        kinds = ", ".join(sorted(k.value for k in progress.alerted)) or "recorded alerts"
        reasons.append(f"the journey raised alerts ({kinds})")
    if lane == "red":
        reasons.append("risk scoring put the declaration in the red lane")
    if reasons:
        return Decision(False, "held for officers: " + "; ".join(reasons))
    if progress.sealed_by == "partner":
        note = (f"released without re-inspection under mutual recognition (Single E-lock Scheme): sealed by "
                f"partner customs at {progress.sealed_point}, arrived at {limits.destination} with the seal "
                f"intact and no alerts; lane {lane or 'not assessed'}")
    else:
        note = (f"released: sealed at {progress.sealed_point}, arrived at {limits.destination} with the seal "
                f"intact and no alerts; lane {lane or 'not assessed'}")
    return Decision(True, note)


def decide(progress: Progress, limits: Limits, lane: str | None, at: datetime) -> Step:
    """Apply ``release_decision``: ``arrived`` -> ``released``, or a ``held`` entry."""
    decision = release_decision(progress, limits, lane)
    if decision is None:
        return Step(progress)
    if decision.release:
        transition = Transition("released", progress.state, JourneyState.RELEASED, at, None, decision.note)
        return Step(replace(progress, state=JourneyState.RELEASED), (transition,))
    return Step(progress, (Transition("held", progress.state, progress.state, at, None, decision.note),))


# --- snapshot (JSON) ----------------------------------------------------------------------

def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _time(raw: object) -> datetime | None:
    return datetime.fromisoformat(raw) if isinstance(raw, str) else None


def _opt_str(raw: object) -> str | None:
    return None if raw is None else str(raw)


def progress_to_json(p: Progress) -> dict[str, object]:
    return {
        "state": p.state.value, "sealed_at": _iso(p.sealed_at), "sealed_point": p.sealed_point,
        "sealed_by": p.sealed_by, "seal_intact": p.seal_intact, "arrived_at": _iso(p.arrived_at),
        "unsealed_at": _iso(p.unsealed_at), "unsealed_point": p.unsealed_point, "last_at": _iso(p.last_at),
        "last_event_id": p.last_event_id,
        "last_position": list(p.last_position) if p.last_position else None,
        "stop": None if p.stop is None else {
            "event_id": p.stop.event_id, "at": _iso(p.stop.at), "x": p.stop.x, "y": p.stop.y,
            "longitude": p.stop.longitude, "latitude": p.stop.latitude},
        "alerted": sorted(k.value for k in p.alerted),
    }


def progress_from_json(raw: dict[str, object] | None) -> Progress:
    if not raw:
        return Progress()
    stop = raw.get("stop")
    position = raw.get("last_position")
    alerted = raw.get("alerted", [])
    return Progress(
        state=JourneyState(str(raw["state"])),
        sealed_at=_time(raw.get("sealed_at")),
        sealed_point=_opt_str(raw.get("sealed_point")),
        sealed_by=_opt_str(raw.get("sealed_by")),
        seal_intact=bool(raw.get("seal_intact", True)),
        arrived_at=_time(raw.get("arrived_at")),
        unsealed_at=_time(raw.get("unsealed_at")),
        unsealed_point=_opt_str(raw.get("unsealed_point")),
        last_at=_time(raw.get("last_at")),
        last_event_id=_opt_str(raw.get("last_event_id")),
        last_position=(float(position[0]), float(position[1])) if isinstance(position, list) else None,
        stop=None if not isinstance(stop, dict) else StopAnchor(
            str(stop["event_id"]), datetime.fromisoformat(str(stop["at"])), float(stop["x"]), float(stop["y"]),
            float(stop["longitude"]), float(stop["latitude"])),
        alerted=frozenset(AlertKind(k) for k in alerted) if isinstance(alerted, list) else frozenset(),
    )
