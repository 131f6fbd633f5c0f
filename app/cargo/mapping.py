"""Schema-valid ``urn:csw:cargo:v1`` XML -> ``CargoInformation``. Only called after the schema
check: it reads, it does not validate (but for instants a service cannot record)."""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from decimal import Decimal

from lxml import etree

from app.domain.cargo import Address, CargoInformation, CargoParty, ReceivedCargo
from app.domain.problems import Problem, Rejection
from app.domain.time import HONG_KONG

CARGO_NS = "urn:csw:cargo:v1"
_Q = "{" + CARGO_NS + "}"


def _find(element: etree._Element, path: str) -> etree._Element | None:
    return element.find("/".join(_Q + step for step in path.split("/")))


def _text(element: etree._Element, path: str) -> str | None:
    found = _find(element, path)
    return found.text.strip() if found is not None and found.text is not None else None


def _required(element: etree._Element, path: str) -> str:
    value = _text(element, path)
    if value is None:
        raise KeyError(f"schema-valid cargo document lacks {path}")
    return value


def _child(element: etree._Element, path: str) -> etree._Element:
    found = _find(element, path)
    if found is None:
        raise KeyError(f"schema-valid cargo document lacks {path}")
    return found


def _party(element: etree._Element) -> CargoParty:
    return CargoParty(name=_required(element, "Name"), identifier=_text(element, "ID"), address=Address(
        line=_required(element, "Address/Line"), city=_required(element, "Address/CityName"),
        country=_required(element, "Address/CountryCode")))


def _crossing(consignment: etree._Element) -> datetime:
    """The expected crossing: without a zone it is Hong Kong time (a time at a control point)."""
    text = _required(consignment, "ExpectedCrossingDateTime")
    try:
        moment = datetime.fromisoformat(text)
        moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=HONG_KONG)
        return moment.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise Rejection("VALUE_OUT_OF_RANGE", "ExpectedCrossingDateTime is not a date this service can record", [
            Problem(message=f"{text!r} is outside years 1-9999 or uses hour 24",
                    path="/Cargo/Consignment/ExpectedCrossingDateTime", rule="date-range")]) from None


def cargo_from(tree: etree._ElementTree) -> CargoInformation:
    root = tree.getroot()
    consignment = _child(root, "Consignment")
    mass = _text(consignment, "GrossMassMeasure")
    return CargoInformation(
        function_code=_required(root, "FunctionCode"), lrn=_required(root, "FunctionalReferenceID"),
        submitter_id=_required(root, "Submitter/ID"), submitter_name=_required(root, "Submitter/Name"),
        direction=_required(consignment, "TypeCode"), control_point=_required(consignment, "ControlPointID"),
        expected_crossing_at=_crossing(consignment),
        consignor=_party(_child(consignment, "Consignor")), consignee=_party(_child(consignment, "Consignee")),
        package_count=int(_required(consignment, "TotalPackageQuantity")),
        package_type=_required(consignment, "Packaging/TypeCode"), marks=_text(consignment, "Packaging/MarksNumbers"),
        goods_description=" ".join(_required(consignment, "GoodsDescription").split()),
        gross_mass_kg=Decimal(mass) if mass else None, hs_code=_text(consignment, "CommodityCode"),
        origin_country=_text(consignment, "OriginCountryCode"))


def received(body: bytes, tree: etree._ElementTree) -> ReceivedCargo:
    return ReceivedCargo(body=body, sha256=hashlib.sha256(body).hexdigest(), namespace=CARGO_NS,
                         cargo=cargo_from(tree))
