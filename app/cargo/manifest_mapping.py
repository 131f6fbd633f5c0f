"""Schema-valid ``urn:csw:manifest:v1`` XML -> ``Manifest``. Only called after the schema check:
it reads, it does not validate (but for instants a service cannot record)."""
from __future__ import annotations

import hashlib
from datetime import date, datetime, timezone
from decimal import Decimal

from lxml import etree

from app.domain.cargo import Address, CargoParty
from app.domain.manifests import (
    Conveyance,
    Equipment,
    Manifest,
    ManifestConsignment,
    ReceivedManifest,
    TransportDocument,
)
from app.domain.problems import Problem, Rejection
from app.domain.time import HONG_KONG

MANIFEST_NS = "urn:csw:manifest:v1"
_Q = "{" + MANIFEST_NS + "}"


def _find(element: etree._Element, path: str) -> etree._Element | None:
    return element.find("/".join(_Q + step for step in path.split("/")))


def _all(element: etree._Element, name: str) -> list[etree._Element]:
    return element.findall(_Q + name)


def _text(element: etree._Element, path: str) -> str | None:
    found = _find(element, path)
    return found.text.strip() if found is not None and found.text is not None else None


def _required(element: etree._Element, path: str) -> str:
    value = _text(element, path)
    if value is None:
        raise KeyError(f"schema-valid manifest lacks {path}")
    return value


def _child(element: etree._Element, path: str) -> etree._Element:
    found = _find(element, path)
    if found is None:
        raise KeyError(f"schema-valid manifest lacks {path}")
    return found


def _party(element: etree._Element) -> CargoParty:
    return CargoParty(name=_required(element, "Name"), identifier=_text(element, "ID"), address=Address(
        line=_required(element, "Address/Line"), city=_required(element, "Address/CityName"),
        country=_required(element, "Address/CountryCode")))


def _scheduled(root: etree._Element) -> datetime:
    """Scheduled arrival or departure: without a zone it is Hong Kong time."""
    text = _required(root, "ScheduledDateTime")
    try:
        moment = datetime.fromisoformat(text)
        moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=HONG_KONG)
        return moment.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise Rejection("VALUE_OUT_OF_RANGE", "ScheduledDateTime is not a date this service can record", [
            Problem(message=f"{text!r} is outside years 1-9999 or uses hour 24", path="/Manifest/ScheduledDateTime",
                    rule="date-range")]) from None


def _conveyance(means: etree._Element) -> Conveyance:
    text = _text(means, "FlightDate")
    try:
        flight_date = date.fromisoformat(text[:10]) if text else None
    except ValueError:
        raise Rejection("VALUE_OUT_OF_RANGE", "FlightDate is not a date this service can record", [
            Problem(message=f"{text!r} is outside years 1-9999", path="/Manifest/BorderTransportMeans/FlightDate",
                    rule="date-range")]) from None
    return Conveyance(imo_number=_text(means, "IMOID"), vessel_name=_text(means, "Name"),
                      voyage=_text(means, "JourneyID"), flight_number=_text(means, "FlightID"),
                      flight_date=flight_date)


def _consignment(element: etree._Element) -> ManifestConsignment:
    return ManifestConsignment(
        sequence=int(_required(element, "SequenceNumeric")),
        consignor=_party(_child(element, "Consignor")), consignee=_party(_child(element, "Consignee")),
        package_count=int(_required(element, "TotalPackageQuantity")),
        package_type=_required(element, "Packaging/TypeCode"), marks=_text(element, "Packaging/MarksNumbers"),
        goods_description=" ".join(_required(element, "GoodsDescription").split()),
        gross_mass_kg=Decimal(_required(element, "GrossMassMeasure")), hs_code=_text(element, "CommodityCode"),
        origin_country=_text(element, "OriginCountryCode"),
        equipment=tuple(Equipment(_required(box, "ID"), tuple(_required(seal, "ID") for seal in _all(box, "Seal")))
                        for box in _all(element, "TransportEquipment")))


def _document(element: etree._Element) -> TransportDocument:
    return TransportDocument(kind=_required(element, "TypeCode"), number=_required(element, "ID"),
                             transhipment=_text(element, "TranshipmentIndicator") in ("true", "1"),
                             consignments=tuple(_consignment(c) for c in _all(element, "Consignment")))


def manifest_from(tree: etree._ElementTree) -> Manifest:
    root = tree.getroot()
    return Manifest(
        function_code=_required(root, "FunctionCode"), lrn=_required(root, "FunctionalReferenceID"),
        submitter_id=_required(root, "Submitter/ID"), submitter_name=_required(root, "Submitter/Name"),
        direction=_required(root, "TypeCode"), mode=_required(root, "ModeCode"),
        control_point=_required(root, "ControlPointID"),
        conveyance=_conveyance(_child(root, "BorderTransportMeans")),
        loading_location=_required(root, "LoadingLocationID"),
        unloading_location=_required(root, "UnloadingLocationID"),
        scheduled_at=_scheduled(root), documents=tuple(_document(d) for d in _all(root, "TransportDocument")))


def received(body: bytes, tree: etree._ElementTree) -> ReceivedManifest:
    return ReceivedManifest(body=body, sha256=hashlib.sha256(body).hexdigest(), namespace=MANIFEST_NS,
                            manifest=manifest_from(tree))
