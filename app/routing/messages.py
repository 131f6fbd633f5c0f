"""Routed messages and kiosk answers as documents: XML in ``urn:csw:routing:v1``
(``schemas/routing/v1/routing.xsd``) or JSON with the same fields in snake_case.

Payloads are plain dicts in schema order; a list becomes a wrapper element with one child
per item (``consignments`` -> ``Consignments/Consignment``).
"""
from __future__ import annotations

from typing import Any

import app.documents as documents
from app.documents import XmlVocabulary

ROUTING_NS = "urn:csw:routing:v1"
XML_CONTENT_TYPE = "application/xml"
JSON_CONTENT_TYPE = "application/json"

ROUTING_XML = XmlVocabulary(ROUTING_NS, words={"id": "ID", "ucr": "UCR", "datetime": "DateTime", "lrn": "LRN"},
                            item_names={
                                "consignments": "Consignment",
                                "lines": "Line",
                                "containers": "ContainerID",
                                "selected_consignments": "DeclarationID",
                                "selected_cargo": "CargoReference",
                                "history": "Event",
                                "notifications": "Notification",
                            })
ROOT_BY_TYPE = {
    "release_notice": "ReleaseNotice",
    "refusal_notice": "RefusalNotice",
    "cancellation_notice": "CancellationNotice",
    "manifest_decision": "ConveyanceManifest",
    "cargo_manifest_decision": "CargoManifestDecision",
    "duty_demand_notice": "DutyDemandNotice",
    "duty_settled_notice": "DutySettledNotice",
    "duty_refund_notice": "DutyRefundNotice",
    "cargo_line_open_notice": "CargoLineOpenNotice",
}


def to_xml(root: str, payload: dict[str, Any]) -> bytes:
    return ROUTING_XML.to_xml(root, payload)


def to_json(root: str | None, payload: dict[str, Any]) -> bytes:
    """JSON with the same fields; a routed message names its kind (``message``: the XML root)."""
    return documents.to_json({"message": root, **payload} if root else payload, separators=(",", ":"))


def render(message_type: str, payload: dict[str, Any], fmt: str) -> tuple[bytes, str]:
    """The body and content type of a routed message in the subscriber's format."""
    root = ROOT_BY_TYPE[message_type]
    if fmt == "json":
        return to_json(root, payload), JSON_CONTENT_TYPE
    return to_xml(root, payload), XML_CONTENT_TYPE
