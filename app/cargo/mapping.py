"""Schema-valid ``urn:csw:cargo:v1`` XML -> ``CargoInformation``. Only called after the schema
check: it reads, it does not validate (but for instants a service cannot record)."""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from lxml import etree

from app.domain.cargo import Address, CargoInformation, CargoParty, ReceivedCargo
from app.domain.problems import Problem, Rejection
from app.domain.time import HONG_KONG

CARGO_NS = "urn:csw:cargo:v1"


class DocumentReader:
    """Reads a schema-valid document of one namespace (cargo information, manifests): it
    reads, it does not validate. ``document`` names it when an element the schema requires is
    missing (a defect, not bad input)."""

    def __init__(self, namespace: str, document: str) -> None:
        self.q = "{" + namespace + "}"
        self.document = document

    def find(self, element: etree._Element, path: str) -> etree._Element | None:
        return element.find("/".join(self.q + step for step in path.split("/")))

    def all(self, element: etree._Element, name: str) -> list[etree._Element]:
        return element.findall(self.q + name)

    def text(self, element: etree._Element, path: str) -> str | None:
        found = self.find(element, path)
        return found.text.strip() if found is not None and found.text is not None else None

    def required(self, element: etree._Element, path: str) -> str:
        value = self.text(element, path)
        if value is None:
            raise KeyError(f"schema-valid {self.document} lacks {path}")
        return value

    def child(self, element: etree._Element, path: str) -> etree._Element:
        found = self.find(element, path)
        if found is None:
            raise KeyError(f"schema-valid {self.document} lacks {path}")
        return found

    def party(self, element: etree._Element) -> CargoParty:
        return CargoParty(name=self.required(element, "Name"), identifier=self.text(element, "ID"), address=Address(
            line=self.required(element, "Address/Line"), city=self.required(element, "Address/CityName"),
            country=self.required(element, "Address/CountryCode")))

    def goods(self, consignment: etree._Element) -> dict[str, Any]:
        """What a consignment's goods are, stated alike in cargo information and in a manifest
        (the fields ``CargoInformation`` and ``ManifestConsignment`` share)."""
        return {
            "consignor": self.party(self.child(consignment, "Consignor")),
            "consignee": self.party(self.child(consignment, "Consignee")),
            "package_count": int(self.required(consignment, "TotalPackageQuantity")),
            "package_type": self.required(consignment, "Packaging/TypeCode"),
            "marks": self.text(consignment, "Packaging/MarksNumbers"),
            "goods_description": " ".join(self.required(consignment, "GoodsDescription").split()),
            "hs_code": self.text(consignment, "CommodityCode"),
            "origin_country": self.text(consignment, "OriginCountryCode")}

    def local_moment(self, element: etree._Element, name: str, path: str) -> datetime:
        """An instant at a place in Hong Kong (a crossing, an arrival): without a zone it is
        Hong Kong time; one a service cannot record is refused naming ``path``."""
        text = self.required(element, name)
        try:
            moment = datetime.fromisoformat(text)
            moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=HONG_KONG)
            return moment.astimezone(timezone.utc)
        except (ValueError, OverflowError):
            raise Rejection("VALUE_OUT_OF_RANGE", f"{name} is not a date this service can record", [
                Problem(message=f"{text!r} is outside years 1-9999 or uses hour 24", path=path,
                        rule="date-range")]) from None


_read = DocumentReader(CARGO_NS, "cargo document")


def cargo_from(tree: etree._ElementTree) -> CargoInformation:
    root = tree.getroot()
    consignment = _read.child(root, "Consignment")
    mass = _read.text(consignment, "GrossMassMeasure")
    return CargoInformation(
        function_code=_read.required(root, "FunctionCode"), lrn=_read.required(root, "FunctionalReferenceID"),
        submitter_id=_read.required(root, "Submitter/ID"), submitter_name=_read.required(root, "Submitter/Name"),
        direction=_read.required(consignment, "TypeCode"), control_point=_read.required(consignment, "ControlPointID"),
        expected_crossing_at=_read.local_moment(consignment, "ExpectedCrossingDateTime",
                                                "/Cargo/Consignment/ExpectedCrossingDateTime"),
        gross_mass_kg=Decimal(mass) if mass else None, **_read.goods(consignment))


def received(body: bytes, tree: etree._ElementTree) -> ReceivedCargo:
    return ReceivedCargo(body=body, sha256=hashlib.sha256(body).hexdigest(), namespace=CARGO_NS,
                         cargo=cargo_from(tree))
