"""The trader form's data <-> the declaration v2 document (a stored v1 document is read too),
and schema/rule paths -> form fields.

Pure functions on plain data (the form's ``data`` dict: strings, nested dicts and lists), so
the builder is tested without a web server and the portal submits exactly the XML that a
trader's system would post: the form calls the API's one intake pipeline with these bytes.

The document is canonical: elements in schema order, values stripped, optional elements
omitted when empty, two-space indentation, UTF-8 with an XML declaration. Building from
``form_data_from_xml`` of a canonical document gives back the same bytes.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from lxml import etree

from app.domain.time import HONG_KONG
from app.platform.xml import parse_untrusted

NAMESPACE = "urn:csw:declaration:v2"
NAMESPACE_V1 = "urn:csw:declaration:v1"
HONG_KONG_OFFSET = "+08:00"
PARTY_ROLES = ("importer", "exporter", "carrier")
PARTY_FIELDS = ("name", "identifier", "aeo_id", "address_line", "city", "country")
EQUIPMENT_FIELDS = ("container_id", "seals", "elock_id")
#: The optional v2 sections: agent and representation, delivery terms, invoice, previous document.
AGENT_FIELDS = ("agent_name", "agent_id", "representation")
TERMS_FIELDS = ("delivery_terms", "delivery_place")
INVOICE_FIELDS = ("invoice_amount", "invoice_currency", "exchange_rate")
PREVIOUS_FIELDS = ("previous_type", "previous_id", "previous_packages")  # of each row of ``previous``
_LOCODE = re.compile(r"[A-Z]{2}[A-Z2-9]{3}")
ITEM_FIELDS = ("description", "hs_code", "origin_country", "quantity", "quantity_unit", "net_mass", "gross_mass",
               "gross_mass_unit", "net_mass_unit", "value", "currency", "package_type", "package_count",
               "alcohol_strength", "volume", "volume_unit", "stick_count", "length_mm", "documents")
ITEM_DEFAULTS = {"net_mass_unit": "KGM", "gross_mass_unit": "KGM", "volume_unit": "LTR", "quantity_unit": "H87",
                 "currency": "HKD"}

_SEALS = re.compile(r"[\s,;]+")


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _xml_datetime(value: object) -> str:
    """A ``datetime-local`` value (Hong Kong time, no zone) as an xs:dateTime with +08:00;
    anything else is passed through for the schema to judge."""
    text = _text(value)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", text):
        return f"{text}:00{HONG_KONG_OFFSET}"
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", text):
        return f"{text}{HONG_KONG_OFFSET}"
    return text


def _local_datetime(value: str) -> str:
    """An xs:dateTime as the form's Hong Kong ``datetime-local`` value (minutes)."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(HONG_KONG)
    if moment.second:
        return moment.strftime("%Y-%m-%dT%H:%M:%S")
    return moment.strftime("%Y-%m-%dT%H:%M")


def seal_ids(value: object) -> list[str]:
    return [s for s in _SEALS.split(_text(value)) if s]


def documents(value: object) -> list[tuple[str, str]]:
    """Supporting documents written one per line as "TYPE NUMBER" (e.g. "DC DC-2026-000123")."""
    pairs = []
    for line in _text(value).splitlines():
        type_code, _, identifier = line.strip().partition(" ")
        if type_code:
            pairs.append((type_code.strip(), identifier.strip()))
    return pairs


# Characters XML 1.0 cannot carry (C0 controls other than tab/newline/CR, surrogates, U+FFFE/F).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def fields_with_invalid_characters(data: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Form field ids (``items-0-description``) whose text XML cannot carry: they are refused
    at their field instead of failing when the document is built."""
    found = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            found += fields_with_invalid_characters(value, f"{name}-")
        elif isinstance(value, list):
            for index, row in enumerate(value):
                if isinstance(row, Mapping):
                    found += fields_with_invalid_characters(row, f"{name}-{index}-")
        elif isinstance(value, str) and _NOT_XML.search(value):
            found.append(name)
    return found


def without_invalid_characters(data: Any) -> Any:
    """``data`` with the characters XML cannot carry removed from every text (the form kept as
    a draft: a database's JSON cannot hold some of them either)."""
    if isinstance(data, Mapping):
        return {key: without_invalid_characters(value) for key, value in data.items()}
    if isinstance(data, list):
        return [without_invalid_characters(value) for value in data]
    return _NOT_XML.sub("", data) if isinstance(data, str) else data


def party_present(party: Mapping[str, Any] | None) -> bool:
    if not party:
        return False
    return any(_text(party.get(f)) for f in PARTY_FIELDS)


def item_present(item: Mapping[str, Any]) -> bool:
    """A goods item row the trader started to fill (unit defaults alone do not count)."""
    return any(_text(item.get(f)) for f in ITEM_FIELDS if f not in ITEM_DEFAULTS)


def equipment_present(row: Mapping[str, Any]) -> bool:
    return any(_text(row.get(f)) for f in EQUIPMENT_FIELDS)


def previous_rows(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The previous documents the trader filled in (an empty row of the form does not count)."""
    return [row for row in data.get("previous") or [] if any(_text(row.get(f)) for f in PREVIOUS_FIELDS)]


class _Builder:
    def __init__(self) -> None:
        self.maker = lambda tag: etree.Element(f"{{{NAMESPACE}}}{tag}", nsmap={None: NAMESPACE})

    @staticmethod
    def child(parent: etree._Element, tag: str, text: str | None = None, **attributes: str) -> etree._Element:
        element = etree.SubElement(parent, f"{{{NAMESPACE}}}{tag}", attributes)
        if text is not None:
            element.text = text
        return element

    def optional(self, parent: etree._Element, tag: str, value: object) -> None:
        text = _text(value)
        if text:
            self.child(parent, tag, text)


def _party(builder: _Builder, parent: etree._Element, tag: str, party: Mapping[str, Any]) -> None:
    element = builder.child(parent, tag)
    builder.child(element, "Name", _text(party.get("name")))
    builder.child(element, "ID", _text(party.get("identifier")))
    builder.optional(element, "AEOCertificateID", party.get("aeo_id"))
    if any(_text(party.get(f)) for f in ("address_line", "city", "country")):
        address = builder.child(element, "Address")
        builder.optional(address, "CityName", party.get("city"))
        builder.child(address, "CountryCode", _text(party.get("country")))
        builder.child(address, "Line", _text(party.get("address_line")))


def _goods_item(builder: _Builder, parent: etree._Element, sequence: int, item: Mapping[str, Any]) -> None:
    element = builder.child(parent, "GovernmentAgencyGoodsItem")
    builder.child(element, "SequenceNumeric", str(sequence))
    builder.child(element, "CustomsValueAmount", _text(item.get("value")), currencyID=_text(item.get("currency")))
    for type_code, identifier in documents(item.get("documents")):
        document = builder.child(element, "AdditionalDocument")
        builder.child(document, "ID", identifier)
        builder.child(document, "TypeCode", type_code)
    commodity = builder.child(element, "Commodity")
    builder.child(commodity, "Description", _text(item.get("description")))
    builder.child(builder.child(commodity, "Classification"), "ID", _text(item.get("hs_code")))
    dutiable = [(tag, field) for tag, field in (("AlcoholStrengthPercent", "alcohol_strength"),
                                                ("VolumeMeasure", "volume"), ("StickQuantity", "stick_count"),
                                                ("LengthMeasure", "length_mm")) if _text(item.get(field))]
    if dutiable:
        details = builder.child(commodity, "DutiableDetails")
        for tag, field in dutiable:
            attributes = {}
            if tag == "VolumeMeasure":
                attributes = {"unitCode": _text(item.get("volume_unit")) or "LTR"}
            elif tag == "LengthMeasure":
                attributes = {"unitCode": "MMT"}
            builder.child(details, tag, _text(item.get(field)), **attributes)
    measure = builder.child(commodity, "GoodsMeasure")
    builder.child(measure, "GrossMassMeasure", _text(item.get("gross_mass")),
                  unitCode=_text(item.get("gross_mass_unit")) or "KGM")
    builder.child(measure, "NetNetWeightMeasure", _text(item.get("net_mass")),
                  unitCode=_text(item.get("net_mass_unit")) or "KGM")
    builder.child(measure, "TariffQuantity", _text(item.get("quantity")), unitCode=_text(item.get("quantity_unit")))
    builder.child(builder.child(element, "Origin"), "CountryCode", _text(item.get("origin_country")))
    if _text(item.get("package_type")) or _text(item.get("package_count")):
        packaging = builder.child(element, "Packaging")
        builder.child(packaging, "QuantityQuantity", _text(item.get("package_count")))
        builder.child(packaging, "TypeCode", _text(item.get("package_type")))


def _present(data: Mapping[str, Any], fields: tuple[str, ...]) -> bool:
    return any(_text(data.get(f)) for f in fields)


def build_declaration(data: Mapping[str, Any], declarant_id: str, declarant_name: str,
                      function_code: str = "9") -> bytes:
    """The declaration v2 document for the form's data, declared by the signed-in trader's
    party. Required elements are always written (empty when not filled in) so that the
    schema reports each missing value at its own path, which maps back to its field; an
    optional section is written when any of its fields is filled in."""
    builder = _Builder()
    root = builder.maker("Declaration")
    builder.child(root, "FunctionCode", function_code)
    builder.child(root, "FunctionalReferenceID", _text(data.get("lrn")))
    builder.child(root, "IssueDateTime", _xml_datetime(data.get("issued_at")))
    builder.child(root, "TypeCode", _text(data.get("type_code")))
    builder.optional(root, "FormCode", data.get("form_code"))
    if _text(data.get("invoice_amount")) or _text(data.get("invoice_currency")):
        builder.child(root, "InvoiceAmount", _text(data.get("invoice_amount")),
                      currencyID=_text(data.get("invoice_currency")))
    if _present(data, AGENT_FIELDS):
        agent = builder.child(root, "Agent")
        builder.optional(agent, "Name", data.get("agent_name"))
        builder.optional(agent, "ID", data.get("agent_id"))
        builder.optional(agent, "FunctionCode", data.get("representation"))
    border = builder.child(root, "BorderTransportMeans")
    builder.optional(border, "ID", data.get("conveyance_id"))
    builder.child(border, "ModeCode", _text(data.get("transport_mode")))
    carrier = data.get("carrier") or {}
    if party_present(carrier):
        _party(builder, builder.child(root, "Consignment"), "Carrier", carrier)
    if _text(data.get("exchange_rate")):
        exchange = builder.child(root, "CurrencyExchange")
        builder.optional(exchange, "CurrencyTypeCode", data.get("invoice_currency"))
        builder.child(exchange, "RateNumeric", _text(data.get("exchange_rate")))
    declarant = builder.child(root, "Declarant")
    builder.child(declarant, "Name", declarant_name)
    builder.child(declarant, "ID", declarant_id)
    builder.optional(declarant, "AEOCertificateID", data.get("declarant_aeo_id"))
    exporter = data.get("exporter") or {}
    if party_present(exporter):
        _party(builder, root, "Exporter", exporter)
    shipment = builder.child(root, "GoodsShipment")
    consignment = builder.child(shipment, "Consignment")
    if _text(data.get("movement_at")):
        builder.child(consignment, "MovementDateTime", _xml_datetime(data.get("movement_at")))
    for tag, field in (("GoodsLocation", "control_point"), ("LoadingLocation", "departure_location")):
        if _text(data.get(field)):
            builder.child(builder.child(consignment, tag), "ID", _text(data.get(field)))
    equipment_rows = [row for row in data.get("equipment") or [] if equipment_present(row)]
    for sequence, row in enumerate(equipment_rows, start=1):
        equipment = builder.child(consignment, "TransportEquipment")
        builder.child(equipment, "SequenceNumeric", str(sequence))
        builder.child(equipment, "ID", _text(row.get("container_id")))
        for seal in seal_ids(row.get("seals")):
            builder.child(builder.child(equipment, "Seal"), "ID", seal)
        builder.optional(equipment, "ELockID", row.get("elock_id"))
    if _text(data.get("destination_location")):
        builder.child(builder.child(consignment, "UnloadingLocation"), "ID", _text(data.get("destination_location")))
    items = [item for item in data.get("items") or [] if item_present(item)] or [{}]
    for sequence, item in enumerate(items, start=1):
        _goods_item(builder, shipment, sequence, item)
    importer = data.get("importer") or {}
    if party_present(importer):
        _party(builder, shipment, "Importer", importer)
    for row in previous_rows(data):
        previous = builder.child(shipment, "PreviousDocument")
        builder.child(previous, "ID", _text(row.get("previous_id")))
        builder.child(previous, "TypeCode", _text(row.get("previous_type")))
        builder.optional(previous, "QuantityQuantity", row.get("previous_packages"))
    if _present(data, TERMS_FIELDS):
        terms = builder.child(shipment, "TradeTerms")
        builder.child(terms, "ConditionCode", _text(data.get("delivery_terms")))
        place = _text(data.get("delivery_place"))
        if place:
            builder.child(terms, "LocationID" if _LOCODE.fullmatch(place) else "LocationName", place)
    if _text(data.get("ucr")):
        builder.child(builder.child(shipment, "UCR"), "ID", _text(data.get("ucr")))
    etree.indent(root, space="  ")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _find(element: etree._Element | None, path: str, namespace: str = NAMESPACE_V1) -> str:
    if element is None:
        return ""
    found = element.find(path, {"d": namespace})
    return (found.text or "").strip() if found is not None else ""


def _attribute(element: etree._Element | None, path: str, name: str, namespace: str = NAMESPACE_V1) -> str:
    if element is None:
        return ""
    found = element.find(path, {"d": namespace})
    return found.get(name, "") if found is not None else ""


def form_data_from_xml(body: bytes) -> dict[str, Any]:
    """The form's data for a stored (schema-valid) declaration document, v2 or v1: what an
    amendment starts from. Totals are not part of the form (the rules add the items up)."""
    root = parse_untrusted(body).getroot()
    if etree.QName(root).namespace == NAMESPACE:
        return _form_data_v2(root)
    return _form_data_v1(root)


def _form_data_v1(root: etree._Element) -> dict[str, Any]:
    namespace = NAMESPACE_V1
    consignment = root.find("d:GoodsShipment/d:Consignment", {"d": namespace})
    data: dict[str, Any] = {
        "type_code": _find(root, "d:TypeCode"),
        "form_code": _find(root, "d:FormCode"),
        "lrn": _find(root, "d:FunctionalReferenceID"),
        "ucr": _find(root, "d:UCRID"),
        "issued_at": _local_datetime(_find(root, "d:IssueDateTime")),
        "declarant_aeo_id": _find(root, "d:Declarant/d:AEOCertificateID"),
        "transport_mode": _find(consignment, "d:TransportModeCode"),
        "conveyance_id": _find(consignment, "d:ConveyanceID"),
        "control_point": _find(consignment, "d:ControlPointID"),
        "departure_location": _find(consignment, "d:DepartureLocationID"),
        "destination_location": _find(consignment, "d:DestinationLocationID"),
        "movement_at": _local_datetime(_find(consignment, "d:MovementDateTime")),
    }
    data["previous"] = _previous_rows(
        consignment.findall("d:PreviousDocument", {"d": namespace}) if consignment is not None else [], namespace)
    for role in PARTY_ROLES:
        data[role] = _party_row(root.find(f"d:{role.capitalize()}", {"d": namespace}), namespace)
    data["equipment"] = _equipment_rows(consignment, namespace)
    data["items"] = [
        {
            "description": _find(g, "d:Commodity/d:Description"),
            "hs_code": _find(g, "d:Commodity/d:Classification/d:ID"),
            "origin_country": _find(g, "d:Origin/d:CountryCode"),
            "quantity": _find(g, "d:GoodsMeasure/d:TariffQuantity"),
            "quantity_unit": _attribute(g, "d:GoodsMeasure/d:TariffQuantity", "unitCode"),
            "net_mass": _find(g, "d:GoodsMeasure/d:NetMassMeasure"),
            "gross_mass": _find(g, "d:GoodsMeasure/d:GrossMassMeasure"),
            "net_mass_unit": _attribute(g, "d:GoodsMeasure/d:NetMassMeasure", "unitCode"),
            "gross_mass_unit": _attribute(g, "d:GoodsMeasure/d:GrossMassMeasure", "unitCode"),
            "value": _find(g, "d:CustomsValueAmount"),
            "currency": _attribute(g, "d:CustomsValueAmount", "currencyID"),
            "package_type": _find(g, "d:Packaging/d:TypeCode"),
            "package_count": _find(g, "d:Packaging/d:QuantityQuantity"),
            "alcohol_strength": _find(g, "d:Commodity/d:DutiableDetails/d:AlcoholStrengthPercent"),
            "volume": _find(g, "d:Commodity/d:DutiableDetails/d:VolumeMeasure"),
            "volume_unit": _attribute(g, "d:Commodity/d:DutiableDetails/d:VolumeMeasure", "unitCode") or "LTR",
            "stick_count": _find(g, "d:Commodity/d:DutiableDetails/d:StickQuantity"),
            "length_mm": _find(g, "d:Commodity/d:DutiableDetails/d:LengthMeasure"),
            "documents": "\n".join(f"{_find(a, 'd:TypeCode')} {_find(a, 'd:ID')}"
                                   for a in g.findall("d:AdditionalDocument", {"d": namespace})),
        }
        for g in root.findall("d:GoodsShipment/d:GovernmentAgencyGoodsItem", {"d": namespace})
    ]
    return data

def _party_row(party: etree._Element | None, namespace: str) -> dict[str, str]:
    """A party's fields of the form, read alike from v1 and v2 (the party's place differs)."""
    return {
        "name": _find(party, "d:Name", namespace), "identifier": _find(party, "d:ID", namespace),
        "aeo_id": _find(party, "d:AEOCertificateID", namespace),
        "address_line": _find(party, "d:Address/d:Line", namespace),
        "city": _find(party, "d:Address/d:CityName", namespace),
        "country": _find(party, "d:Address/d:CountryCode", namespace),
    }


def _equipment_rows(consignment: etree._Element | None, namespace: str) -> list[dict[str, str]]:
    """One row of the form per container of the consignment, read alike from v1 and v2."""
    if consignment is None:
        return []
    return [{"container_id": _find(e, "d:ID", namespace),
             "seals": " ".join((s.text or "").strip() for s in e.findall("d:Seal/d:ID", {"d": namespace})),
             "elock_id": _find(e, "d:ELockID", namespace)}
            for e in consignment.findall("d:TransportEquipment", {"d": namespace})]


def _previous_rows(documents: list[etree._Element], namespace: str) -> list[dict[str, str]]:
    """Every previous document the stored declaration names, one row of the form each (an
    amendment keeps them all); one empty row when it names none."""
    return [{"previous_type": _find(d, "d:TypeCode", namespace), "previous_id": _find(d, "d:ID", namespace),
             "previous_packages": _find(d, "d:QuantityQuantity", namespace)} for d in documents] or [{}]


def _form_data_v2(root: etree._Element) -> dict[str, Any]:
    ns = {"d": NAMESPACE}

    def find(element: etree._Element | None, path: str) -> str:
        return _find(element, path, NAMESPACE)

    def attribute(element: etree._Element | None, path: str, name: str) -> str:
        return _attribute(element, path, name, NAMESPACE)

    shipment = root.find("d:GoodsShipment", ns)
    consignment = root.find("d:GoodsShipment/d:Consignment", ns)
    data: dict[str, Any] = {
        "type_code": find(root, "d:TypeCode"),
        "form_code": find(root, "d:FormCode"),
        "lrn": find(root, "d:FunctionalReferenceID"),
        "ucr": find(shipment, "d:UCR/d:ID"),
        "issued_at": _local_datetime(find(root, "d:IssueDateTime")),
        "declarant_aeo_id": find(root, "d:Declarant/d:AEOCertificateID"),
        "transport_mode": find(root, "d:BorderTransportMeans/d:ModeCode"),
        "conveyance_id": find(root, "d:BorderTransportMeans/d:ID"),
        "control_point": find(consignment, "d:GoodsLocation/d:ID"),
        "departure_location": find(consignment, "d:LoadingLocation/d:ID"),
        "destination_location": find(consignment, "d:UnloadingLocation/d:ID"),
        "movement_at": _local_datetime(find(consignment, "d:MovementDateTime")),
        "agent_name": find(root, "d:Agent/d:Name"),
        "agent_id": find(root, "d:Agent/d:ID"),
        "representation": find(root, "d:Agent/d:FunctionCode"),
        "delivery_terms": find(shipment, "d:TradeTerms/d:ConditionCode"),
        "delivery_place": (find(shipment, "d:TradeTerms/d:LocationID")
                           or find(shipment, "d:TradeTerms/d:LocationName")),
        "invoice_amount": find(root, "d:InvoiceAmount"),
        "invoice_currency": (attribute(root, "d:InvoiceAmount", "currencyID")
                             or find(root, "d:CurrencyExchange/d:CurrencyTypeCode")),
        "exchange_rate": find(root, "d:CurrencyExchange/d:RateNumeric"),
        "previous": _previous_rows(root.findall("d:GoodsShipment/d:PreviousDocument", ns), NAMESPACE),
    }
    holders = {"importer": (shipment, "d:Importer"), "exporter": (root, "d:Exporter"),
               "carrier": (root, "d:Consignment/d:Carrier")}
    for role, (holder, path) in holders.items():
        data[role] = _party_row(holder.find(path, ns) if holder is not None else None, NAMESPACE)
    data["equipment"] = _equipment_rows(consignment, NAMESPACE)
    measure = "d:Commodity/d:GoodsMeasure"
    dutiable = "d:Commodity/d:DutiableDetails"
    data["items"] = [
        {
            "description": find(g, "d:Commodity/d:Description"),
            "hs_code": find(g, "d:Commodity/d:Classification/d:ID"),
            "origin_country": find(g, "d:Origin/d:CountryCode"),
            "quantity": find(g, f"{measure}/d:TariffQuantity"),
            "quantity_unit": attribute(g, f"{measure}/d:TariffQuantity", "unitCode"),
            "net_mass": find(g, f"{measure}/d:NetNetWeightMeasure"),
            "gross_mass": find(g, f"{measure}/d:GrossMassMeasure"),
            "net_mass_unit": attribute(g, f"{measure}/d:NetNetWeightMeasure", "unitCode"),
            "gross_mass_unit": attribute(g, f"{measure}/d:GrossMassMeasure", "unitCode"),
            "value": find(g, "d:CustomsValueAmount"),
            "currency": attribute(g, "d:CustomsValueAmount", "currencyID"),
            "package_type": find(g, "d:Packaging/d:TypeCode"),
            "package_count": find(g, "d:Packaging/d:QuantityQuantity"),
            "alcohol_strength": find(g, f"{dutiable}/d:AlcoholStrengthPercent"),
            "volume": find(g, f"{dutiable}/d:VolumeMeasure"),
            "volume_unit": attribute(g, f"{dutiable}/d:VolumeMeasure", "unitCode") or "LTR",
            "stick_count": find(g, f"{dutiable}/d:StickQuantity"),
            "length_mm": find(g, f"{dutiable}/d:LengthMeasure"),
            "documents": "\n".join(f"{find(a, 'd:TypeCode')} {find(a, 'd:ID')}"
                                   for a in g.findall("d:AdditionalDocument", ns)),
        }
        for g in (shipment.findall("d:GovernmentAgencyGoodsItem", ns) if shipment is not None else [])
    ]
    return data


# --- paths of schema and rule problems -> the form's fields ------------------------------

_HEADER_PATHS = {
    "FunctionalReferenceID": "lrn", "TypeCode": "type_code", "FormCode": "form_code",
    "IssueDateTime": "issued_at", "UCRID": "ucr", "Totals": "items",
    "GoodsItemQuantity": "items", "TotalGrossMassMeasure": "items", "TotalPackageQuantity": "items",
}
#: Schema v2's places for the form's fields (v1's are kept: an uploaded v1 file maps too).
_V2_HEADER_PATHS = {
    "InvoiceAmount@currencyID": "invoice_currency", "InvoiceAmount": "invoice_amount",
    "Agent/Name": "agent_name", "Agent/ID": "agent_id", "Agent/FunctionCode": "representation", "Agent": "agent_name",
    "BorderTransportMeans/ID": "conveyance_id", "BorderTransportMeans": "transport_mode",
    "CurrencyExchange/CurrencyTypeCode": "invoice_currency", "CurrencyExchange": "exchange_rate",
}
_PREVIOUS_PATHS = {"ID": "previous_id", "TypeCode": "previous_type", "QuantityQuantity": "previous_packages"}
_V2_SHIPMENT_PATHS = {
    "TradeTerms/LocationID": "delivery_place", "TradeTerms/LocationName": "delivery_place",
    "TradeTerms": "delivery_terms", "UCR": "ucr",
}
_PARTY_PATHS = {
    "Name": "name", "ID": "identifier", "AEOCertificateID": "aeo_id", "Address/Line": "address_line",
    "Address/CityName": "city", "Address/CountryCode": "country", "Address": "address_line",
}
_CONSIGNMENT_PATHS = {
    "TransportModeCode": "transport_mode", "ConveyanceID": "conveyance_id", "ControlPointID": "control_point",
    "DepartureLocationID": "departure_location", "DestinationLocationID": "destination_location",
    "MovementDateTime": "movement_at",
    "GoodsLocation": "control_point", "LoadingLocation": "departure_location",
    "UnloadingLocation": "destination_location",
}
_EQUIPMENT_PATHS = {"ID": "container_id", "Seal": "seals", "ELockID": "elock_id", "SequenceNumeric": "container_id"}
_ITEM_PATHS = {
    "Commodity/Description": "description", "Commodity/Classification": "hs_code",
    "Commodity/DutiableDetails/AlcoholStrengthPercent": "alcohol_strength",
    "Commodity/DutiableDetails/VolumeMeasure@unitCode": "volume_unit",
    "Commodity/DutiableDetails/VolumeMeasure": "volume",
    "Commodity/DutiableDetails/StickQuantity": "stick_count",
    "Commodity/DutiableDetails/LengthMeasure": "length_mm",
    "Commodity/DutiableDetails": "alcohol_strength",
    "Commodity": "description",
    "Origin": "origin_country",
    "Packaging/TypeCode": "package_type", "Packaging/QuantityQuantity": "package_count", "Packaging": "package_type",
    "GoodsMeasure/TariffQuantity@unitCode": "quantity_unit", "GoodsMeasure/TariffQuantity": "quantity",
    "GoodsMeasure/NetMassMeasure@unitCode": "net_mass_unit", "GoodsMeasure/NetMassMeasure": "net_mass",
    "GoodsMeasure/GrossMassMeasure@unitCode": "gross_mass_unit", "GoodsMeasure/GrossMassMeasure": "gross_mass",
    "GoodsMeasure": "quantity",
    "CustomsValueAmount@currencyID": "currency", "CustomsValueAmount": "value",
    "AdditionalDocument": "documents",
    "SequenceNumeric": "description",
    "Commodity/GoodsMeasure/TariffQuantity@unitCode": "quantity_unit",
    "Commodity/GoodsMeasure/TariffQuantity": "quantity",
    "Commodity/GoodsMeasure/NetNetWeightMeasure@unitCode": "net_mass_unit",
    "Commodity/GoodsMeasure/NetNetWeightMeasure": "net_mass",
    "Commodity/GoodsMeasure/GrossMassMeasure@unitCode": "gross_mass_unit",
    "Commodity/GoodsMeasure/GrossMassMeasure": "gross_mass",
    "Commodity/GoodsMeasure": "quantity",
}
_STEP = re.compile(r"^([A-Za-z]+)(?:\[(\d+)\])?$")


def _steps(path: str) -> list[tuple[str, int]]:
    """``/Declaration/A[2]/B/@c`` -> [("A", 2), ("B", 1), ("@c", 1)] (namespace prefixes dropped)."""
    steps = []
    for raw in path.strip("/").split("/"):
        raw = raw.split(":")[-1]
        if raw.startswith("@"):
            steps.append((raw, 1))
            continue
        match = _STEP.match(raw)
        if match is None:
            continue
        steps.append((match.group(1), int(match.group(2) or 1)))
    if steps and steps[0][0] == "Declaration":
        steps = steps[1:]
    return steps


def _lookup(table: Mapping[str, str], names: list[str], attribute: str | None) -> str | None:
    """The longest key of ``table`` that is a prefix of the element path ``names``."""
    for length in range(len(names), 0, -1):
        key = "/".join(names[:length])
        if attribute and length == len(names) and f"{key}@{attribute}" in table:
            return table[f"{key}@{attribute}"]
        if key in table:
            return table[key]
    return None


def _previous_field(position: int, names: list[str]) -> str:
    """``PreviousDocument[2]/ID`` -> ``previous-1-previous_id`` (the document as a whole: its number)."""
    return f"previous-{position - 1}-{_PREVIOUS_PATHS.get(names[0], 'previous_id') if names else 'previous_id'}"


def field_for_path(path: str | None) -> str | None:
    """The form field (WTForms id, e.g. ``items-2-hs_code``) a problem at ``path`` is about,
    or None when it concerns the declaration as a whole."""
    if not path or not path.startswith("/"):
        return None
    steps = _steps(path)
    attribute = next((name[1:] for name, _ in steps if name.startswith("@")), None)
    steps = [(name, index) for name, index in steps if not name.startswith("@")]
    if not steps:
        return None
    head, head_index = steps[0]
    if head in _HEADER_PATHS:
        return _HEADER_PATHS[head]
    names = [n for n, _ in steps]
    if head in ("InvoiceAmount", "Agent", "BorderTransportMeans", "CurrencyExchange"):
        return _lookup(_V2_HEADER_PATHS, names, attribute)
    if head == "Consignment" and len(steps) > 1 and steps[1][0] == "Carrier":
        return f"carrier-{_lookup(_PARTY_PATHS, names[2:], attribute) or 'name'}"
    if head == "Declarant":
        return "declarant_aeo_id" if len(steps) > 1 and steps[1][0] == "AEOCertificateID" else "declarant"
    if head.lower() in PARTY_ROLES:
        field = _lookup(_PARTY_PATHS, [n for n, _ in steps[1:]], attribute) or "name"
        return f"{head.lower()}-{field}"
    if head != "GoodsShipment" or len(steps) < 2:
        return None
    second, second_index = steps[1]
    if second == "Importer":
        return f"importer-{_lookup(_PARTY_PATHS, names[2:], attribute) or 'name'}"
    if second == "PreviousDocument":
        return _previous_field(second_index, names[2:])
    if second in ("TradeTerms", "UCR"):
        return _lookup(_V2_SHIPMENT_PATHS, names[1:], attribute)
    if second == "Consignment":
        rest = steps[2:]
        if not rest:
            return "transport_mode"
        if rest[0][0] == "PreviousDocument":  # v1 (an uploaded file) names them in its consignment
            return _previous_field(rest[0][1], [n for n, _ in rest[1:]])
        if rest[0][0] == "TransportEquipment":
            field = _lookup(_EQUIPMENT_PATHS, [n for n, _ in rest[1:]], attribute) or "container_id"
            return f"equipment-{rest[0][1] - 1}-{field}"
        return _CONSIGNMENT_PATHS.get(rest[0][0])
    if second == "GovernmentAgencyGoodsItem":
        names = [n for n, _ in steps[2:]]
        if not names:
            return f"items-{second_index - 1}"
        field = _lookup(_ITEM_PATHS, names, attribute) or "description"
        return f"items-{second_index - 1}-{field}"
    return None
