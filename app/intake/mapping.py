"""Schema-valid XML -> ``app.domain.declaration.Declaration``.

Only ever called after the schema check, so required elements are present and
well-typed; this module only reads, it does not validate.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import cache
from datetime import datetime, timezone, tzinfo
from decimal import Decimal

from lxml import etree

from app.domain.declaration import (
    AdditionalDocument,
    PreviousDocument,
    Declaration,
    DeclarationType,
    FunctionCode,
    GoodsItem,
    Party,
    PartyRole,
    Totals,
    TransportEquipment,
)
from app.domain.problems import Problem, Rejection
from app.domain.time import HONG_KONG
from app.intake.mapping_v2 import NS_V2, declaration_v2

NS_V1 = "urn:csw:declaration:v1"
_Q = "{" + NS_V1 + "}"


@cache
def _q(path: str) -> str:
    """``Commodity/Description`` -> Clark-notation path in the v1 namespace (computed once)."""
    return "/".join(_Q + step for step in path.split("/"))


@cache
def _steps(path: str) -> tuple[str, ...]:
    """``Address/Line`` -> the Clark-notation tag of each step (computed once)."""
    return tuple(_Q + step for step in path.split("/"))


def _find(element: etree._Element, path: str) -> etree._Element | None:
    """The first element at ``path``, found child by child: about twice as quick as
    ElementPath's ``find`` (which resolves the path on every call; a v1 declaration asks
    some 35 of them outside its goods items), and the same element in a schema-valid
    document, where every step but the last occurs at most once."""
    found = element
    for tag in _steps(path):
        child = next(found.iterchildren(tag), None)
        if child is None:
            return None
        found = child
    return found


def _text(element: etree._Element, path: str) -> str | None:
    found = _find(element, path)
    return None if found is None else (found.text or "").strip()


def _present(value: str | None, path: str) -> str:
    if value is None:
        raise KeyError(f"schema-valid document lacks {path}")
    return value


def _number(value: str | None) -> Decimal | None:
    return Decimal(value) if value else None


def _required(element: etree._Element, path: str) -> str:
    return _present(_text(element, path), path)


def _child(element: etree._Element, path: str) -> etree._Element:
    child = _find(element, path)
    if child is None:
        raise KeyError(f"schema-valid document lacks {path}")
    return child


def _content(element: etree._Element) -> str:
    """The stripped text of an element the schema requires to have some."""
    text = element.text
    if text is None:
        raise KeyError(f"schema-valid document lacks the value of {element.tag!r}")
    return text.strip()


def _attribute(element: etree._Element, name: str) -> str:
    value = element.get(name)
    if value is None:
        raise KeyError(f"schema-valid document lacks {name} on {element.tag!r}")
    return value


def _decimal(element: etree._Element, path: str) -> Decimal | None:
    return _number(_text(element, path))


_MASS_TO_KG = {"KGM": Decimal(1), "GRM": Decimal("0.001"), "TNE": Decimal(1000)}
_VOLUME_TO_LITRE = {"LTR": Decimal(1), "MLT": Decimal("0.001")}


def _mass(element: etree._Element) -> Decimal:
    text, unit = element.text, element.get("unitCode")  # narrowed inline: twice per goods item
    if text is None or unit is None:
        raise KeyError(f"schema-valid document lacks the value or unitCode of {element.tag!r}")
    return Decimal(text.strip()) * _MASS_TO_KG[unit]


def _datetime(element: etree._Element | None, name: str, path: str,
              local: tzinfo | None = HONG_KONG) -> datetime | None:
    """An xs:dateTime (``element``, named ``name``) as an aware datetime. Without a zone it is
    ``local`` time (Hong Kong time for a movement at a control point); with ``local=None`` a zone
    is required (the issue date-time is an instant, wherever the declarant issued it)."""
    if element is None:
        return None
    text = (element.text or "").strip()
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None and local is not None:
            moment = moment.replace(tzinfo=local)
        moment.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise Rejection(
            "VALUE_OUT_OF_RANGE",
            f"{name} is a valid xs:dateTime but not a date this service can record",
            [Problem(message=f"{text!r} is outside years 1-9999 (in UTC) or uses hour 24", path=path,
                     rule="date-range", line=element.sourceline)],
        ) from None
    if moment.tzinfo is None:
        raise Rejection(
            "VALUE_OUT_OF_RANGE",
            f"{name} must give its time zone (Z or an offset such as +08:00): it is an instant",
            [Problem(message=f"{text!r} has no time zone; send e.g. {text}+08:00 for Hong Kong time", path=path,
                     rule="date-zone", line=element.sourceline)],
        )
    return moment


def _party(element: etree._Element | None, role: PartyRole) -> Party | None:
    if element is None:
        return None
    fields = _Fields(element)  # a party's element names (its address's included) are unique
    return Party(
        role=role,
        identifier=fields.required("ID"),
        name=fields.required("Name"),
        aeo_id=fields.text("AEOCertificateID"),
        address_line=fields.text("Line"),
        city=fields.text("CityName"),
        country=fields.text("CountryCode"),
    )


_ADDITIONAL_DOCUMENT = _Q + "AdditionalDocument"


class _Fields:
    """The elements of one goods item (or party) by name, found in one pass over its subtree;
    or, with ``children``, the root's or the consignment's own children.

    Why: ``findtext`` resolves its path through lxml's ElementPath on every call (4-7 µs);
    a 999-item declaration asks about 15 of them per item, a third of its whole lodging time.
    In schema v1 every element name below a goods item occurs once before its additional
    documents, which come last and are read separately: the pass stops there, so a name
    alone (``Classification/ID`` is ``ID``) is unambiguous. Below a party every name occurs
    once too (``Address/Line`` is ``Line``). A declaration's other fields were found child by
    child, one iterator a step: reading each parent's children once took a fifth off its
    mapping outside the goods items (a 5-item declaration: 127 to 106 µs).
    """

    __slots__ = ("_found", "has_documents")

    def __init__(self, item: etree._Element) -> None:
        found: dict[object, etree._Element] = {}  # a comment's tag is the etree.Comment factory
        self.has_documents = False
        for element in item.iter():
            tag = element.tag
            if tag == _ADDITIONAL_DOCUMENT:
                self.has_documents = True
                break
            found[tag] = element
        self._found = found

    @classmethod
    def children(cls, parent: etree._Element) -> _Fields:
        """``parent``'s own children by name, the first of each (the root's and the
        consignment's: their names recur below them, as ``ID`` does)."""
        fields = cls.__new__(cls)
        found: dict[object, etree._Element] = {}
        for element in parent:
            found.setdefault(element.tag, element)
        fields._found, fields.has_documents = found, False
        return fields

    def element(self, name: str) -> etree._Element | None:
        return self._found.get(_q(name))

    def child(self, name: str) -> etree._Element:
        element = self._found.get(_q(name))
        if element is None:
            raise KeyError(f"schema-valid document lacks {name}")
        return element

    def text(self, name: str) -> str | None:
        """As ``_text``: the stripped text, "" for an empty element, None when absent."""
        element = self._found.get(_q(name))
        return None if element is None else (element.text or "").strip()

    def required(self, name: str) -> str:
        return _present(self.text(name), name)

    def decimal(self, name: str) -> Decimal | None:
        return _number(self.text(name))


def _goods_item(item: etree._Element) -> GoodsItem:
    fields = _Fields(item)
    quantity = fields.child("TariffQuantity")
    value = fields.child("CustomsValueAmount")
    volume = fields.element("VolumeMeasure")
    sticks = fields.text("StickQuantity")
    packages = fields.text("QuantityQuantity")
    return GoodsItem(
        sequence=int(fields.required("SequenceNumeric")),
        description=fields.required("Description"),
        hs_code=fields.required("ID"),
        origin_country=fields.required("CountryCode"),
        quantity=Decimal(_content(quantity)),
        quantity_unit=_attribute(quantity, "unitCode"),
        net_mass=_mass(fields.child("NetMassMeasure")),
        gross_mass=_mass(fields.child("GrossMassMeasure")),
        mass_unit="KGM",
        value=Decimal(_content(value)),
        currency=_attribute(value, "currencyID"),
        alcohol_strength=fields.decimal("AlcoholStrengthPercent"),
        volume_litres=(
            Decimal(_content(volume)) * _VOLUME_TO_LITRE[_attribute(volume, "unitCode")]
            if volume is not None else None
        ),
        stick_count=int(sticks) if sticks else None,
        length_mm=fields.decimal("LengthMeasure"),
        package_type=fields.text("TypeCode"),
        package_count=int(packages) if packages else None,
        documents=tuple(
            AdditionalDocument(type_code=_required(doc, "TypeCode"), identifier=_required(doc, "ID"))
            for doc in item.iterfind(_q("AdditionalDocument"))
        ) if fields.has_documents else (),
    )


def _equipment(element: etree._Element) -> TransportEquipment:
    return TransportEquipment(
        sequence=int(_required(element, "SequenceNumeric")),
        container_id=_required(element, "ID"),
        seal_ids=tuple(_content(seal) for seal in element.iterfind(_q("Seal/ID"))),
        elock_id=_text(element, "ELockID"),
    )


def _previous_document(element: etree._Element) -> PreviousDocument:
    line, packages, mass = _text(element, "LineNumeric"), _text(element, "QuantityQuantity"), \
        _find(element, "GrossMassMeasure")
    return PreviousDocument(type_code=_required(element, "TypeCode"), identifier=_required(element, "ID"),
                            line=int(line) if line else None, package_count=int(packages) if packages else None,
                            gross_mass=_mass(mass) if mass is not None else None)


def _declaration_v1(tree: etree._ElementTree) -> Declaration:
    root = _Fields.children(tree.getroot())
    roles = (
        ("Declarant", PartyRole.DECLARANT),
        ("Importer", PartyRole.IMPORTER),
        ("Exporter", PartyRole.EXPORTER),
        ("Carrier", PartyRole.CARRIER),
    )
    parties = tuple(
        party for tag, role in roles if (party := _party(root.element(tag), role)) is not None
    )
    shipment = root.child("GoodsShipment")
    consignment_element = _child(shipment, "Consignment")
    consignment = _Fields.children(consignment_element)
    issued = _datetime(root.element("IssueDateTime"), "IssueDateTime", "/Declaration/IssueDateTime", local=None)
    if issued is None:
        raise KeyError("schema-valid document lacks IssueDateTime")
    totals = root.element("Totals")
    return Declaration(
        function_code=FunctionCode(root.required("FunctionCode")),
        lrn=root.required("FunctionalReferenceID"),
        type=DeclarationType(root.required("TypeCode")),
        form_code=root.text("FormCode"),
        issued_at=issued,
        ucr=root.text("UCRID"),
        parties=parties,
        transport_mode=consignment.required("TransportModeCode"),
        conveyance_id=consignment.text("ConveyanceID"),
        control_point=consignment.text("ControlPointID"),
        departure_location=consignment.text("DepartureLocationID"),
        destination_location=consignment.text("DestinationLocationID"),
        movement_at=_datetime(consignment.element("MovementDateTime"), "MovementDateTime",
                              "/Declaration/GoodsShipment/Consignment/MovementDateTime"),
        equipment=tuple(_equipment(e) for e in consignment_element.iterfind(_q("TransportEquipment"))),
        previous_documents=tuple(_previous_document(d)
                                 for d in consignment_element.iterfind(_q("PreviousDocument"))),
        goods_items=tuple(_goods_item(i) for i in shipment.iterfind(_q("GovernmentAgencyGoodsItem"))),
        totals=None if totals is None else Totals(
            goods_item_count=int(_required(totals, "GoodsItemQuantity")),
            gross_mass=_mass(_child(totals, "GrossMassMeasure")),
            value=Decimal(_required(totals, "CustomsValueAmount")),
            currency=_attribute(_child(totals, "CustomsValueAmount"), "currencyID"),
        ),
    )


MAPPERS: dict[str, Callable[[etree._ElementTree], Declaration]] = {NS_V1: _declaration_v1, NS_V2: declaration_v2}
