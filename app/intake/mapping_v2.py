"""Schema-valid ``urn:csw:declaration:v2`` XML (the Hong Kong profile of the WCO Data Model)
-> ``app.domain.declaration.Declaration``.

A WCO DEC-DMS document is first brought into this profile (``app.intake.wco``) and then read
here too, so both give one declaration; v1 keeps its own, faster mapper.
"""
from __future__ import annotations

from functools import cache
from datetime import datetime
from decimal import Decimal

from lxml import etree

from app.domain.declaration import (
    AdditionalDocument,
    AdditionalInformation,
    Declaration,
    DeclarationType,
    FunctionCode,
    GoodsItem,
    IntakeNote,
    Particulars,
    Party,
    PartyRole,
    PreviousDocument,
    RepresentationStatus,
    Totals,
    TransportEquipment,
)
from app.domain.problems import Problem, Rejection
from app.domain.time import HONG_KONG

NS_V2 = "urn:csw:declaration:v2"

_MASS_TO_KG = {"KGM": Decimal(1), "GRM": Decimal("0.001"), "TNE": Decimal(1000)}
_VOLUME_TO_LITRE = {"LTR": Decimal(1), "MLT": Decimal("0.001")}

#: WCO / UN/EDIFACT 1001 document codes of the transport documents CSW writes cargo off against,
#: read as CSW's own codes (CRN road cargo reference, BL, AWB, MNL manifest line).
PREVIOUS_DOCUMENT_CODES = {
    "705": "BL", "N705": "BL", "Z705": "BL", "714": "BL", "N714": "BL", "Z714": "BL",
    "740": "AWB", "N740": "AWB", "Z740": "AWB", "741": "AWB", "N741": "AWB", "Z741": "AWB",
    "785": "MNL", "N785": "MNL", "Z785": "MNL", "CRN": "CRN", "BL": "BL", "AWB": "AWB", "MNL": "MNL",
}

#: Equipment types that are not ISO 6346 containers (truck body, swap body, trailer, semi-trailer).
NOT_CONTAINERS = frozenset({"TB", "SB", "TR", "ST", "TE"})
_CONTAINER_SHAPE = frozenset("0123456789")


def _looks_like_container(identifier: str) -> bool:
    return (len(identifier) == 11 and identifier[:3].isalpha() and identifier[3] in "UJZ"
            and all(ch in _CONTAINER_SHAPE for ch in identifier[4:]))


@cache
def _steps(prefix: str, path: str) -> tuple[str, ...]:
    return tuple(prefix + step for step in path.split("/"))


class _Reader:
    """Reads one v2 tree. Each element's children are indexed by tag the first time it is
    read from (one pass), so the ~150 look-ups of a 5-item declaration are dictionary look-ups,
    not ElementPath searches (which cost v2's mapping four times v1's)."""

    def __init__(self, namespace: str) -> None:
        self.prefix = "{" + namespace + "}"
        self._children: dict[etree._Element, dict[object, list[etree._Element]]] = {}

    def _index(self, element: etree._Element) -> dict[object, list[etree._Element]]:
        index = self._children.get(element)
        if index is None:
            index = {}
            for child in element:
                found = index.get(child.tag)
                if found is None:
                    index[child.tag] = [child]
                else:
                    found.append(child)
            self._children[element] = index
        return index

    def find(self, element: etree._Element | None, path: str) -> etree._Element | None:
        for step in _steps(self.prefix, path):
            if element is None:
                return None
            found = self._index(element).get(step)
            element = found[0] if found else None
        return element

    def text(self, element: etree._Element | None, path: str) -> str | None:
        found = self.find(element, path)
        return None if found is None else (found.text or "").strip()

    def required(self, element: etree._Element, path: str) -> str:
        value = self.text(element, path)
        if value is None:
            raise KeyError(f"schema-valid document lacks {path}")
        return value

    def child(self, element: etree._Element, path: str) -> etree._Element:
        found = self.find(element, path)
        if found is None:
            raise KeyError(f"schema-valid document lacks {path}")
        return found

    def all(self, element: etree._Element | None, path: str) -> list[etree._Element]:
        """Every element at ``path``'s last step under the first of its earlier steps."""
        parent, _, last = path.rpartition("/")
        holder = self.find(element, parent) if parent else element
        if holder is None:
            return []
        return self._index(holder).get(self.prefix + last, [])


def _amount(element: etree._Element) -> tuple[Decimal, str]:
    return Decimal((element.text or "").strip()), element.get("currencyID") or ""


def _mass(element: etree._Element) -> Decimal:
    return Decimal((element.text or "").strip()) * _MASS_TO_KG[element.get("unitCode") or "KGM"]


def _moment(read: _Reader, parent: etree._Element, name: str, path: str, zone_required: bool) -> datetime | None:
    text = read.text(parent, name)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is not None and moment.tzinfo is None:
        if zone_required:
            raise Rejection("VALUE_OUT_OF_RANGE", f"{name} must give its time zone (Z or an offset such as +08:00)",
                            [Problem(message=f"{text!r} has no time zone", path=path, rule="date-zone")])
        moment = moment.replace(tzinfo=HONG_KONG)
    if moment is None or moment.year < 2 or moment.year > 9998:
        raise Rejection("VALUE_OUT_OF_RANGE", f"{name} is not a date this service can record",
                        [Problem(message=f"{text!r} is outside years 2-9998", path=path, rule="date-range")])
    return moment


def _party(read: _Reader, element: etree._Element | None, role: PartyRole) -> Party | None:
    if element is None:
        return None
    return Party(
        role=role,
        identifier=read.text(element, "ID") or "",
        name=read.text(element, "Name") or "",
        aeo_id=read.text(element, "AEOCertificateID"),
        address_line=read.text(element, "Address/Line"),
        city=read.text(element, "Address/CityName"),
        country=read.text(element, "Address/CountryCode"),
    )


def _information(read: _Reader, parent: etree._Element) -> tuple[AdditionalInformation, ...]:
    return tuple(AdditionalInformation(read.text(e, "StatementCode"), read.text(e, "StatementDescription"))
                 for e in read.all(parent, "AdditionalInformation"))


def _previous(read: _Reader, element: etree._Element) -> PreviousDocument:
    type_code = read.required(element, "TypeCode")
    line = read.text(element, "LineNumeric")
    packages = read.text(element, "QuantityQuantity")
    mass = read.find(element, "GrossMassMeasure")
    return PreviousDocument(
        type_code=PREVIOUS_DOCUMENT_CODES.get(type_code, type_code),
        identifier=read.required(element, "ID"),
        line=int(line) if line else None,
        package_count=int(packages) if packages else None,
        gross_mass=_mass(mass) if mass is not None else None,
    )


def _goods_item(read: _Reader, item: etree._Element) -> GoodsItem:
    commodity = read.child(item, "Commodity")
    measure = read.child(commodity, "GoodsMeasure")
    net = _mass(read.child(measure, "NetNetWeightMeasure"))
    quantity_element = read.find(measure, "TariffQuantity")
    if quantity_element is not None and quantity_element.get("unitCode"):
        quantity, unit = Decimal((quantity_element.text or "").strip()), quantity_element.get("unitCode") or ""
    else:
        quantity, unit = net, "KGM"
    value, currency = _amount(read.child(item, "CustomsValueAmount"))
    dutiable = read.find(commodity, "DutiableDetails")
    volume = read.find(dutiable, "VolumeMeasure")
    sticks = read.text(dutiable, "StickQuantity")
    length = read.text(dutiable, "LengthMeasure")
    strength = read.text(dutiable, "AlcoholStrengthPercent")
    packaging = read.find(item, "Packaging")
    packages = read.text(packaging, "QuantityQuantity")
    procedure = read.find(item, "GovernmentProcedure")
    return GoodsItem(
        sequence=int(read.required(item, "SequenceNumeric")),
        description=read.required(commodity, "Description"),
        hs_code=read.required(commodity, "Classification/ID"),
        origin_country=read.required(item, "Origin/CountryCode"),
        quantity=quantity,
        quantity_unit=unit,
        net_mass=net,
        gross_mass=_mass(read.child(measure, "GrossMassMeasure")),
        mass_unit="KGM",
        value=value,
        currency=currency,
        alcohol_strength=Decimal(strength) if strength else None,
        volume_litres=(Decimal((volume.text or "").strip()) * _VOLUME_TO_LITRE[volume.get("unitCode") or "LTR"]
                       if volume is not None else None),
        stick_count=int(sticks) if sticks else None,
        length_mm=Decimal(length) if length else None,
        package_type=read.text(packaging, "TypeCode"),
        package_count=int(packages) if packages else None,
        documents=tuple(
            AdditionalDocument(type_code=(read.text(doc, "CategoryCode") or "") + read.required(doc, "TypeCode"),
                               identifier=read.required(doc, "ID"))
            for doc in read.all(item, "AdditionalDocument")),
        marks_numbers=read.text(packaging, "MarksNumbersID"),
        valuation_method=read.text(item, "CustomsValuation/MethodCode"),
        procedure_code=read.text(procedure, "CurrentCode"),
        previous_procedure_code=read.text(procedure, "PreviousCode"),
        additional_information=_information(read, item),
    )


def _equipment(read: _Reader, element: etree._Element) -> TransportEquipment:
    identifier = read.required(element, "ID")
    type_code = read.text(element, "CharacteristicCode")
    return TransportEquipment(
        sequence=int(read.required(element, "SequenceNumeric")),
        container_id=identifier,
        seal_ids=tuple(read.required(seal, "ID") for seal in read.all(element, "Seal")),
        elock_id=read.text(element, "ELockID"),
        is_container=type_code not in NOT_CONTAINERS and _looks_like_container(identifier),
        type_code=type_code,
    )


def declaration_v2(tree: etree._ElementTree, namespace: str = NS_V2, profile: str = "v2",
                   notes: tuple[IntakeNote, ...] = (), path_root: str = "",
                   national_type_code: str | None = None) -> Declaration:
    """The declaration a schema-valid v2 tree states (``namespace``: the tree's; a WCO
    document's converted tree is in v2's namespace too). ``notes``: what intake changed or left
    out on the way, for the rules to report; ``path_root``: what the document's own paths start
    with above ``/Declaration`` (``/MetaData`` for a DEC-DMS document)."""
    read = _Reader(namespace)
    root = tree.getroot()
    shipment = read.child(root, "GoodsShipment")
    consignment = read.child(shipment, "Consignment")
    border = read.child(root, "BorderTransportMeans")
    issued = _moment(read, root, "IssueDateTime", f"{path_root}/Declaration/IssueDateTime", zone_required=True)
    if issued is None:
        raise KeyError("schema-valid document lacks IssueDateTime")
    roles = (
        (root, "Declarant", PartyRole.DECLARANT), (shipment, "Importer", PartyRole.IMPORTER),
        (root, "Exporter", PartyRole.EXPORTER), (root, "Consignment/Carrier", PartyRole.CARRIER),
        (root, "Agent", PartyRole.AGENT), (shipment, "Buyer", PartyRole.BUYER),
        (shipment, "Seller", PartyRole.SELLER), (consignment, "Consignor", PartyRole.CONSIGNOR),
        (shipment, "Consignee", PartyRole.CONSIGNEE),
    )
    parties = tuple(party for parent, tag, role in roles
                    if (party := _party(read, read.find(parent, tag), role)) is not None)
    items = tuple(_goods_item(read, i) for i in read.all(shipment, "GovernmentAgencyGoodsItem"))
    previous = [_previous(read, e) for e in read.all(shipment, "PreviousDocument")]
    for item in read.all(shipment, "GovernmentAgencyGoodsItem"):
        previous.extend(_previous(read, e) for e in read.all(item, "PreviousDocument"))
    invoice = read.find(root, "InvoiceAmount")
    invoice_amount, invoice_currency = _amount(invoice) if invoice is not None else (None, None)
    exchange = read.find(root, "CurrencyExchange")
    rate = read.text(exchange, "RateNumeric")
    total_mass = read.find(root, "TotalGrossMassMeasure")
    item_count = read.text(root, "GoodsItemQuantity")
    packages = read.text(root, "TotalPackageQuantity")
    terms = read.find(shipment, "TradeTerms")
    agent_code = read.text(root, "Agent/FunctionCode")
    currencies = {item.currency for item in items}
    totals = None
    if total_mass is not None and item_count and len(currencies) == 1:
        totals = Totals(goods_item_count=int(item_count), gross_mass=_mass(total_mass),
                        value=sum((item.value for item in items), Decimal(0)), currency=next(iter(currencies)))
    return Declaration(
        function_code=FunctionCode(read.required(root, "FunctionCode")),
        lrn=read.required(root, "FunctionalReferenceID"),
        type=DeclarationType(read.required(root, "TypeCode")),
        form_code=read.text(root, "FormCode"),
        issued_at=issued,
        ucr=read.text(shipment, "UCR/ID"),
        parties=parties,
        transport_mode=read.required(border, "ModeCode"),
        conveyance_id=read.text(border, "ID"),
        control_point=read.text(consignment, "GoodsLocation/ID"),
        departure_location=read.text(consignment, "LoadingLocation/ID"),
        destination_location=read.text(consignment, "UnloadingLocation/ID"),
        movement_at=_moment(read, consignment, "MovementDateTime",
                            f"{path_root}/Declaration/GoodsShipment/Consignment/MovementDateTime", zone_required=False),
        equipment=tuple(_equipment(read, e) for e in read.all(consignment, "TransportEquipment")),
        goods_items=items,
        totals=totals,
        previous_documents=tuple(previous),
        particulars=Particulars(
            profile=profile,
            path_root=path_root,
            reference=read.text(root, "ID"),
            representation_status=RepresentationStatus(agent_code) if agent_code else None,
            delivery_terms=read.text(terms, "ConditionCode"),
            delivery_place=read.text(terms, "LocationID") or read.text(terms, "LocationName"),
            invoice_amount=invoice_amount,
            invoice_currency=invoice_currency,
            exchange_rate=Decimal(rate) if rate else None,
            exchange_currency=read.text(exchange, "CurrencyTypeCode"),
            total_packages=int(packages) if packages else None,
            goods_location=read.text(consignment, "GoodsLocation/ID") or read.text(consignment, "GoodsLocation/Name"),
            dispatch_country=read.text(shipment, "ExportCountry/ID"),
            destination_country=read.text(shipment, "Destination/CountryCode"),
            routing_countries=tuple(read.required(e, "RoutingCountryCode")
                                    for e in read.all(root, "Consignment/Itinerary")),
            inland_transport_mode=(read.text(consignment, "ArrivalTransportMeans/ModeCode")
                                   or read.text(consignment, "DepartureTransportMeans/ModeCode")),
            transport_means_type=read.text(border, "TypeCode"),
            transport_means_nationality=read.text(border, "RegistrationNationalityCode"),
            transport_means_name=read.text(border, "Name"),
            supervising_office=read.text(root, "SupervisingOffice/ID"),
            exit_office=read.text(root, "ExitOffice/ID"),
            additional_information=_information(read, root),
            national_type_code=national_type_code,
            notes=notes,
        ),
    )
