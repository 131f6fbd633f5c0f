"""Routed messages and kiosk answers as documents: XML in ``urn:csw:routing:v1``
(``schemas/routing/v1/routing.xsd``) or JSON with the same fields in snake_case.

Payloads are plain dicts in schema order; a list becomes a wrapper element with one child
per item (``consignments`` -> ``Consignments/Consignment``).
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from lxml import etree

ROUTING_NS = "urn:csw:routing:v1"
XML_CONTENT_TYPE = "application/xml"
JSON_CONTENT_TYPE = "application/json"

_WORDS = {"id": "ID", "ucr": "UCR", "datetime": "DateTime", "lrn": "LRN"}
ITEM_NAMES = {
    "consignments": "Consignment",
    "selected_consignments": "DeclarationID",
    "history": "Event",
    "notifications": "Notification",
}
ROOT_BY_TYPE = {
    "release_notice": "ReleaseNotice",
    "refusal_notice": "RefusalNotice",
    "cancellation_notice": "CancellationNotice",
    "manifest_decision": "ConveyanceManifest",
}


def xml_name(key: str) -> str:
    return "".join(_WORDS.get(word, word.capitalize()) for word in key.split("_"))


def iso(moment: datetime) -> str:
    """UTC ISO 8601 (SQLite hands back naive datetimes, UTC by construction)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return iso(value)
    return str(value)


def _fill(element: etree._Element, value: Any) -> None:
    if isinstance(value, etree._Element):
        element.append(value)
    elif isinstance(value, dict):
        for key, child in value.items():
            if child is None:
                continue
            if isinstance(child, list):
                wrapper = etree.SubElement(element, f"{{{ROUTING_NS}}}{xml_name(key)}")
                for item in child:
                    _fill(etree.SubElement(wrapper, f"{{{ROUTING_NS}}}{ITEM_NAMES[key]}"), item)
            else:
                _fill(etree.SubElement(element, f"{{{ROUTING_NS}}}{xml_name(key)}"), child)
    else:
        element.text = _text(value)


def to_xml(root: str, payload: dict[str, Any]) -> bytes:
    element = etree.Element(f"{{{ROUTING_NS}}}{root}", nsmap={None: ROUTING_NS})
    _fill(element, payload)
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    raise TypeError(type(value).__name__)


def _compact(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _compact(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_compact(v) for v in value]
    return value


def to_json(root: str | None, payload: dict[str, Any]) -> bytes:
    """JSON with the same fields; a routed message names its kind (``message``: the XML root)."""
    document = {"message": root, **_compact(payload)} if root else _compact(payload)
    return json.dumps(document, default=_json_default,
                      ensure_ascii=False, separators=(",", ":")).encode()


def render(message_type: str, payload: dict[str, Any], fmt: str) -> tuple[bytes, str]:
    """The body and content type of a routed message in the subscriber's format."""
    root = ROOT_BY_TYPE[message_type]
    if fmt == "json":
        return to_json(root, payload), JSON_CONTENT_TYPE
    return to_xml(root, payload), XML_CONTENT_TYPE
