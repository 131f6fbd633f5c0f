"""Schema-valid ``urn:csw:manifest:v1`` XML -> ``Manifest``. Only called after the schema check:
it reads, it does not validate (but for instants a service cannot record)."""
from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal

from lxml import etree

from app.cargo.mapping import DocumentReader
from app.domain.manifests import (
    Conveyance,
    Equipment,
    Manifest,
    ManifestConsignment,
    ReceivedManifest,
    TransportDocument,
)
from app.domain.problems import Problem, Rejection

MANIFEST_NS = "urn:csw:manifest:v1"


_read = DocumentReader(MANIFEST_NS, "manifest")


def _conveyance(means: etree._Element) -> Conveyance:
    text = _read.text(means, "FlightDate")
    try:
        flight_date = date.fromisoformat(text[:10]) if text else None
    except ValueError:
        raise Rejection("VALUE_OUT_OF_RANGE", "FlightDate is not a date this service can record", [
            Problem(message=f"{text!r} is outside years 1-9999", path="/Manifest/BorderTransportMeans/FlightDate",
                    rule="date-range")]) from None
    return Conveyance(imo_number=_read.text(means, "IMOID"), vessel_name=_read.text(means, "Name"),
                      voyage=_read.text(means, "JourneyID"), flight_number=_read.text(means, "FlightID"),
                      flight_date=flight_date)


def _consignment(element: etree._Element) -> ManifestConsignment:
    return ManifestConsignment(
        sequence=int(_read.required(element, "SequenceNumeric")),
        gross_mass_kg=Decimal(_read.required(element, "GrossMassMeasure")),
        **_read.goods(element),
        equipment=tuple(Equipment(_read.required(box, "ID"),
                                  tuple(_read.required(seal, "ID") for seal in _read.all(box, "Seal")))
                        for box in _read.all(element, "TransportEquipment")))


def _document(element: etree._Element) -> TransportDocument:
    return TransportDocument(kind=_read.required(element, "TypeCode"), number=_read.required(element, "ID"),
                             transhipment=_read.text(element, "TranshipmentIndicator") in ("true", "1"),
                             consignments=tuple(_consignment(c) for c in _read.all(element, "Consignment")))


def manifest_from(tree: etree._ElementTree) -> Manifest:
    root = tree.getroot()
    return Manifest(
        function_code=_read.required(root, "FunctionCode"), lrn=_read.required(root, "FunctionalReferenceID"),
        submitter_id=_read.required(root, "Submitter/ID"), submitter_name=_read.required(root, "Submitter/Name"),
        direction=_read.required(root, "TypeCode"), mode=_read.required(root, "ModeCode"),
        control_point=_read.required(root, "ControlPointID"),
        conveyance=_conveyance(_read.child(root, "BorderTransportMeans")),
        loading_location=_read.required(root, "LoadingLocationID"),
        unloading_location=_read.required(root, "UnloadingLocationID"),
        scheduled_at=_read.local_moment(root, "ScheduledDateTime", "/Manifest/ScheduledDateTime"),
        documents=tuple(_document(d) for d in _read.all(root, "TransportDocument")))


def received(body: bytes, tree: etree._ElementTree) -> ReceivedManifest:
    return ReceivedManifest(body=body, sha256=hashlib.sha256(body).hexdigest(), namespace=MANIFEST_NS,
                            manifest=manifest_from(tree))
