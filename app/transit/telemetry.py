"""Telemetry batches from the e-lock/GPS gateway, XML (``schemas/elock/v1``) or JSON, read
into plain events. A batch that breaks the format is refused whole with every problem's
path; the per-event business outcome (unknown e-lock, closed journey ...) comes later."""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Protocol
from datetime import datetime, timezone

from lxml import etree

from app.domain.problems import Problem, Rejection
from app.domain.transit import ReadingKind

NAMESPACE = "urn:csw:elock-events:v1"
KIND = "elock-events"
MAX_EVENTS = 1000
EVENT_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z._:\-]{0,63}")
ELOCK_ID = re.compile(r"[0-9A-Z][0-9A-Z\-]{0,34}")
_ZONED = re.compile(r".+(Z|[+\-]\d{2}:\d{2})")
_JSON_KEYS = ("event_id", "elock_id", "type", "occurred_at", "latitude", "longitude")
_NS = "{%s}" % NAMESPACE


@dataclass(frozen=True, slots=True)
class GatewayEvent:
    event_id: str
    elock_id: str
    kind: ReadingKind
    at: datetime
    latitude: float
    longitude: float


def _instant(text: str) -> datetime | None:
    """The UTC instant of a zoned date-time, or None when Python cannot hold it: xs:dateTime
    and ISO 8601 allow hour 24, years beyond 9999 or before 1, and offsets that carry year 1
    or 9999 out of range, and those must be refused as bad input, not crash the request."""
    try:
        return datetime.fromisoformat(text).astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return None


class DocumentChecker(Protocol):
    """Parses untrusted bytes and validates them against the schema of a kind of document."""

    def check(self, body: bytes, kind: str) -> etree._ElementTree: ...


def read_xml(checker: DocumentChecker, body: bytes, max_problems: int = 25) -> list[GatewayEvent]:
    """A schema-valid ``ELockEventBatch`` as events (libxml2 validates; paths on failure)."""
    tree = checker.check(body, KIND)
    events = []
    problems: list[Problem] = []
    for index, element in enumerate(tree.getroot().iterchildren(_NS + "Event"), 1):
        position = element.find(_NS + "Position")
        assert position is not None  # the schema requires it
        occurred = element.findtext(_NS + "OccurrenceDateTime", "").strip()
        at = _instant(occurred)
        if at is None:
            problems.append(Problem(
                message=f"{occurred[:40]!r} is a valid xs:dateTime but not an instant the service can record "
                        "(years 0001-9999, hours 00-23)",
                path=f"/ELockEventBatch/Event[{index}]/OccurrenceDateTime", rule="date-time-range"))
            continue
        events.append(GatewayEvent(
            event_id=element.findtext(_NS + "EventID", "").strip(),
            elock_id=element.findtext(_NS + "ELockID", "").strip(),
            kind=ReadingKind(element.findtext(_NS + "TypeCode", "").strip()),
            at=at,
            latitude=float(position.findtext(_NS + "Latitude", "")),
            longitude=float(position.findtext(_NS + "Longitude", "")),
        ))
    if problems:
        raise Rejection("VALUE_OUT_OF_RANGE", "the batch holds values the service cannot record",
                        problems[:max_problems])
    return events


def _json_event(index: int, raw: object, problems: list[Problem]) -> GatewayEvent | None:
    where = f"events[{index}]"
    if not isinstance(raw, dict):
        problems.append(Problem(message="each event must be an object", path=where, rule="json:type"))
        return None
    before = len(problems)
    for key in sorted(set(raw) - set(_JSON_KEYS)):
        problems.append(Problem(message=f"unknown field {key[:40]!r}", path=f"{where}.{key[:40]}",
                                rule="json:additionalProperties"))
    missing = [key for key in _JSON_KEYS if key not in raw]
    for key in missing:
        problems.append(Problem(message=f"{key} is required", path=f"{where}.{key}", rule="json:required"))
    if missing:
        return None
    event_id, elock_id, kind, occurred = raw["event_id"], raw["elock_id"], raw["type"], raw["occurred_at"]
    if not isinstance(event_id, str) or not EVENT_ID.fullmatch(event_id):
        problems.append(Problem(message="event_id must be 1-64 of 0-9 A-Z a-z . _ : - (starting with a letter "
                                        "or digit)", path=f"{where}.event_id", rule="pattern"))
    if not isinstance(elock_id, str) or not ELOCK_ID.fullmatch(elock_id):
        problems.append(Problem(message="elock_id must be 1-35 of 0-9 A-Z and -", path=f"{where}.elock_id",
                                rule="pattern"))
    kinds = [k.value for k in ReadingKind]
    if kind not in kinds:
        problems.append(Problem(message=f"type must be one of {', '.join(kinds)}", path=f"{where}.type",
                                rule="enumeration"))
    at = _instant(occurred) if isinstance(occurred, str) and _ZONED.fullmatch(occurred) else None
    if at is None:
        problems.append(Problem(message="occurred_at must be an ISO 8601 date-time with its UTC offset",
                                path=f"{where}.occurred_at", rule="date-time"))
    coordinates = {}
    for key, limit in (("latitude", 90.0), ("longitude", 180.0)):
        value = raw[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or not -limit <= value <= limit:
            problems.append(Problem(message=f"{key} must be a number from -{limit:g} to {limit:g} (WGS84)",
                                    path=f"{where}.{key}", rule="range"))
        else:
            coordinates[key] = float(value)
    if len(problems) > before or at is None:
        return None
    return GatewayEvent(event_id, elock_id, ReadingKind(kind), at, coordinates["latitude"], coordinates["longitude"])


def read_json(body: bytes, max_problems: int = 25) -> list[GatewayEvent]:
    """``{"events": [...]}`` checked field by field, with the same limits as the XML schema."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deeply
        raise Rejection("INVALID_PARAMETER", "the body is not valid JSON",
                        [Problem(message='expected {"events": [...]}', path="$", rule="json")]) from None
    raw_events = data.get("events") if isinstance(data, dict) else None
    if not isinstance(raw_events, list) or not raw_events:
        raise Rejection("SCHEMA_INVALID", "a batch is an object with a non-empty list 'events'",
                        [Problem(message="events must be a non-empty list", path="events", rule="json:required")])
    if len(raw_events) > MAX_EVENTS:
        raise Rejection("SCHEMA_INVALID", f"a batch holds at most {MAX_EVENTS} events",
                        [Problem(message=f"{len(raw_events)} events", path="events", rule="maxItems")])
    problems: list[Problem] = []
    events = []
    for index, raw in enumerate(raw_events):
        event = _json_event(index, raw, problems)
        if event is not None:
            events.append(event)
    if problems:
        raise Rejection("SCHEMA_INVALID", "the batch does not conform to the e-lock event format",
                        problems[:max_problems])
    return events


def to_xml(events: list[GatewayEvent], gateway: str | None = None) -> bytes:
    """A batch as the gateway sends it (samples, tests and the benchmark)."""
    root = etree.Element(_NS + "ELockEventBatch", nsmap={None: NAMESPACE})
    if gateway:
        etree.SubElement(root, _NS + "GatewayID").text = gateway
    for event in events:
        element = etree.SubElement(root, _NS + "Event")
        etree.SubElement(element, _NS + "EventID").text = event.event_id
        etree.SubElement(element, _NS + "ELockID").text = event.elock_id
        etree.SubElement(element, _NS + "TypeCode").text = event.kind.value
        etree.SubElement(element, _NS + "OccurrenceDateTime").text = event.at.isoformat()
        position = etree.SubElement(element, _NS + "Position")
        etree.SubElement(position, _NS + "Latitude").text = f"{event.latitude:.6f}"
        etree.SubElement(position, _NS + "Longitude").text = f"{event.longitude:.6f}"
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def to_json(events: list[GatewayEvent]) -> bytes:
    return json.dumps({"events": [
        {"event_id": e.event_id, "elock_id": e.elock_id, "type": e.kind.value, "occurred_at": e.at.isoformat(),
         "latitude": e.latitude, "longitude": e.longitude} for e in events]}).encode()
