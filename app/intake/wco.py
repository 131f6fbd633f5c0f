"""WCO DEC-DMS documents as another administration receives them, read through CSW's Hong Kong
profile (schema v2).

A ``MetaData`` envelope (``urn:wco:datamodel:WCO:DocumentMetaData-DMS:2``) around a
``Declaration`` (``urn:wco:datamodel:WCO:DEC-DMS:2``), or the ``Declaration`` alone, is brought
into the profile: elements the profile does not know are left out (they stay in the stored
document, the exact bytes received, and each is reported as an info finding), ``DateTimeString``
(formatCode 102 or 304) becomes an xs:dateTime, a national type code (``IMA``, ``EXD`` ...) and a
national commodity code (10 digits) become CSW's, and what the profile requires is then checked by
the v2 schema. Every problem is named by its path in the document as sent
(``/MetaData/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[2]/...``) and refused as a rule
finding (R950), never as an unknown schema.

A cancellation (``TypeCode INV``) is read as one; an amendment (``FunctionCode 13``, the declaration
it changes in ``ID``, what changed in ``Amendment/Pointer``) is a full declaration like any other.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path

from lxml import etree

from app.domain.declaration import IntakeNote
from app.domain.problems import Problem, Rejection
from app.intake.mapping_v2 import NS_V2
from app.platform.schemas import ElementPaths, SchemaEntry, SchemaRegistry

METADATA_NS = "urn:wco:datamodel:WCO:DocumentMetaData-DMS:2"
DEC_NS = "urn:wco:datamodel:WCO:DEC-DMS:2"
NAMESPACES = frozenset({METADATA_NS, DEC_NS})
_XS = "{http://www.w3.org/2001/XMLSchema}"
_V2 = "{" + NS_V2 + "}"
_DEC = "{" + DEC_NS + "}"

#: Most notes reported for one document (a rich DEC-DMS declaration can carry hundreds of
#: elements the profile does not read); the rest are counted in the last.
MAX_NOTES = 50

PROFILE_RULE = "R950"
#: Where a DEC-DMS Declaration sits in the documents other administrations receive.
WCO_ROOT = "/MetaData"
PROFILE_MESSAGE_ZH = "不符合香港海關資料模型規格"


@dataclass(frozen=True, slots=True)
class Profile:
    """The v2 schema's element tree: for each complex type, its children in order and their
    types; ``dates``: the types of xs:dateTime elements."""

    children: dict[str, dict[str, str]]

    def child_type(self, type_name: str, name: str) -> str | None:
        return self.children.get(type_name, {}).get(name)

    def order(self, type_name: str) -> dict[str, int]:
        return {name: index for index, name in enumerate(self.children.get(type_name, {}))}


@cache
def profile_of(xsd: Path) -> Profile:
    """The element tree of the v2 schema (named complex types with sequences of named elements)."""
    root = etree.parse(str(xsd)).getroot()
    children: dict[str, dict[str, str]] = {}
    for complex_type in root.iterfind(f"{_XS}complexType"):
        elements = {e.get("name", ""): e.get("type", "") for e in complex_type.iterfind(f"{_XS}sequence/{_XS}element")}
        children[complex_type.get("name", "")] = elements
    return Profile(children)


@dataclass(frozen=True, slots=True)
class WcoCancellation:
    """A DEC-DMS cancellation request (TypeCode INV): the declaration and why."""

    reference: str
    reason: str
    lrn: str | None
    path_root: str = ""


@dataclass(frozen=True, slots=True)
class Converted:
    """A DEC-DMS declaration brought into the v2 profile."""

    tree: etree._ElementTree
    notes: tuple[IntakeNote, ...]
    national_type_code: str | None


def is_wco(tree: etree._ElementTree) -> bool:
    return etree.QName(tree.getroot()).namespace in NAMESPACES


def _declaration_element(tree: etree._ElementTree) -> tuple[etree._Element, str]:
    root = tree.getroot()
    if root.tag == f"{_DEC}Declaration":
        return root, ""
    found = root.find(f"{_DEC}Declaration") if root.tag == "{" + METADATA_NS + "}MetaData" else None
    if found is None:
        raise Rejection("RULES_REJECTED", "a WCO document for this service is a MetaData envelope around a DEC-DMS "
                        "Declaration, or the Declaration alone",
                        [Problem(message=f"no Declaration in {DEC_NS}", message_zh=f"找不到 {DEC_NS} 的 Declaration",
                                 path="/" + etree.QName(root).localname, rule=PROFILE_RULE, severity="reject")])
    return found, "/" + etree.QName(root).localname


def _type_code(code: str) -> str | None:
    """CSW's declaration type for a national one: IMA, IMZ ... are imports, EXA, EXD ...
    exports; CSW's own IM, EX and TS stand as they are."""
    if code in ("IM", "EX", "TS"):
        return code
    if code.startswith("IM"):
        return "IM"
    if code.startswith(("EX", "CO")):
        return "EX"
    if code.startswith(("TS", "TR")):
        return "TS"
    return None


def _date_time(element: etree._Element, zone: bool) -> str | None:
    """A ``DateTimeString`` (formatCode 304 ``CCYYMMDDHHMMSS±ZZ`` or 102 ``CCYYMMDD``) as an
    xs:dateTime; 102 and 304 without an offset are Hong Kong time where an instant is needed."""
    string = next((child for child in element if isinstance(child.tag, str)
                   and etree.QName(child).localname == "DateTimeString"), None)
    if string is None:
        return None
    text = (string.text or "").strip()
    code = string.get("formatCode", "304")
    try:
        if code == "102" and len(text) == 8:
            moment = datetime.strptime(text, "%Y%m%d")
            return moment.isoformat() + ("+08:00" if zone else "")
        if code == "304" and len(text) >= 14:
            moment = datetime.strptime(text[:14], "%Y%m%d%H%M%S")
            offset = text[14:]
            if offset:
                sign = -1 if offset[0] == "-" else 1
                digits = offset.lstrip("+-")
                hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
                aware = moment.replace(tzinfo=timezone(sign * timedelta(hours=hours, minutes=minutes)))
                return aware.isoformat()
            return moment.isoformat() + ("+08:00" if zone else "")
    except (ValueError, IndexError):
        pass
    return f"{text} (formatCode {code})"


class _Converter:
    def __init__(self, profile: Profile, paths: ElementPaths, received_at: datetime) -> None:
        self.profile = profile
        self.paths = paths
        self.notes: list[IntakeNote] = []
        self.dropped = 0
        self.received_at = received_at
        self.national_type_code: str | None = None

    def note(self, kind: str, at: etree._Element, **values: str) -> None:
        if len(self.notes) < MAX_NOTES:
            self.notes.append(IntakeNote(kind, self.paths.of(at), tuple(values.items())))
        else:
            self.dropped += 1

    def convert(self, source: etree._Element, type_name: str) -> etree._Element:
        """The element (in v2's namespace) with its children in the profile, in its order."""
        target = etree.Element(_V2 + etree.QName(source).localname, nsmap={None: NS_V2})
        target.text, target.tail = source.text, None
        for name, value in source.attrib.items():
            if name in ("unitCode", "currencyID"):
                target.set(name, value)
        target.sourceline = source.sourceline  # type: ignore[misc]  # lxml lets it be set: problems keep the line sent
        kept: list[tuple[int, etree._Element]] = []
        order = self.profile.order(type_name)
        classification_kept = False
        for child in source:
            if not isinstance(child.tag, str):
                continue
            qname = etree.QName(child)
            child_type = self.profile.child_type(type_name, qname.localname) if qname.namespace == DEC_NS else None
            if child_type is None:
                self.note("outside-profile", child, element=qname.localname)
                continue
            if qname.localname == "Classification":
                if classification_kept or not self._national_code(child):
                    self.note("outside-profile", child, element="Classification")
                    continue
                classification_kept = True
            if child_type == "xs:dateTime":
                converted = etree.Element(_V2 + qname.localname)
                moment = _date_time(child, zone=qname.localname == "IssueDateTime")
                converted.text = moment or (child.text or "").strip()
                converted.sourceline = child.sourceline  # type: ignore[misc]  # lxml lets it be set: problems keep the line sent
            elif child_type in self.profile.children and self.profile.children[child_type]:
                converted = self.convert(child, child_type)
            else:
                converted = etree.Element(_V2 + qname.localname)
                converted.text = (child.text or "").strip()
                for name, value in child.attrib.items():
                    if name in ("unitCode", "currencyID"):
                        converted.set(name, value)
                converted.sourceline = child.sourceline  # type: ignore[misc]  # lxml lets it be set: problems keep the line sent
                if type_name == "DeclarationType" and qname.localname == "TypeCode":
                    self._declaration_type(child, converted)
                elif type_name == "ClassificationType" and qname.localname == "ID":
                    self._commodity_code(child, converted)
            kept.append((order[qname.localname], converted))
        kept.sort(key=lambda pair: pair[0])
        for _, element in kept:
            target.append(element)
        return target

    @staticmethod
    def _national_code(classification: etree._Element) -> bool:
        """Whether a Classification carries the goods' commodity code (not an additional
        national code: TARIC TRC, national additional TSP 4-digit ...): 6 to 10 digits."""
        code = (classification.findtext(f"{_DEC}ID") or "").strip()
        kind = (classification.findtext(f"{_DEC}IdentificationTypeCode") or "").strip()
        return code.isdigit() and 6 <= len(code) <= 10 and kind in ("", "TSP", "CN", "HS", "GN")

    def _declaration_type(self, source: etree._Element, converted: etree._Element) -> None:
        code = (source.text or "").strip()
        mapped = _type_code(code)
        if mapped is not None and mapped != code:
            self.national_type_code = code
            converted.text = mapped
            self.note("type-code", source, code=code, mapped=mapped)

    def _commodity_code(self, source: etree._Element, converted: etree._Element) -> None:
        code = (source.text or "").strip()
        if code.isdigit() and len(code) != 8:
            reduced = (code + "00")[:8]
            converted.text = reduced
            self.note("commodity-code", source, code=code, reduced=reduced, hs6=code[:6])

    def complete(self, declaration: etree._Element, source: etree._Element) -> None:
        """What the profile needs and a DEC-DMS document says elsewhere: the issue date (the
        acceptance date, else the time of receipt) and an item's value (its invoice line)."""
        if declaration.find(f"{_V2}IssueDateTime") is None:
            acceptance = source.find(f"{_DEC}AcceptanceDateTime")
            moment = _date_time(acceptance, zone=True) if acceptance is not None else None
            issued = etree.Element(_V2 + "IssueDateTime")
            issued.text = moment or self.received_at.isoformat()
            self._insert(declaration, issued, "DeclarationType")
            if len(self.notes) < MAX_NOTES:
                self.notes.append(IntakeNote("issue-date", "/Declaration/IssueDateTime",
                                             (("used", "AcceptanceDateTime" if moment else "receipt"),)))
        for item in declaration.iterfind(f"{_V2}GoodsShipment/{_V2}GovernmentAgencyGoodsItem"):
            if item.find(f"{_V2}CustomsValueAmount") is None:
                charge = item.find(f"{_V2}Commodity/{_V2}InvoiceLine/{_V2}ItemChargeAmount")
                if charge is not None:
                    value = copy.deepcopy(charge)
                    value.tag = _V2 + "CustomsValueAmount"
                    self._insert(item, value, "GovernmentAgencyGoodsItemType")

    def _insert(self, parent: etree._Element, element: etree._Element, type_name: str) -> None:
        order = self.profile.order(type_name)
        position = order[etree.QName(element).localname]
        later = (index for index, child in enumerate(parent)
                 if order.get(etree.QName(child).localname, 0) > position)
        parent.insert(next(later, len(parent)), element)


def _path_in_document(path: str | None, root: str) -> str | None:
    return f"{root}{path}" if path else root or None


def cancellation(tree: etree._ElementTree) -> WcoCancellation | None:
    """The cancellation a DEC-DMS document asks for (TypeCode INV), or None."""
    declaration, root = _declaration_element(tree)
    if (declaration.findtext(f"{_DEC}TypeCode") or "").strip() != "INV":
        return None
    reference = (declaration.findtext(f"{_DEC}ID") or "").strip()
    if not reference:
        raise Rejection("RULES_REJECTED", "a cancellation (TypeCode INV) names the declaration it cancels in ID",
                        [Problem(message="ID (the declaration's reference) is missing",
                                 message_zh="欠缺 ID（擬取消報關單的編號）", path=f"{root}/Declaration/ID",
                                 rule=PROFILE_RULE, severity="reject")])
    statements = declaration.iterfind(f"{_DEC}AdditionalInformation/{_DEC}StatementDescription")
    texts = [(e.text or "").strip() for e in statements]
    reason = next((text for text in texts if text), "")
    if not reason:
        code = (declaration.findtext(f"{_DEC}Amendment/{_DEC}ChangeReasonCode") or "").strip()
        reason = f"cancelled by the declarant (WCO change reason {code})" if code else "cancelled by the declarant"
    lrn = (declaration.findtext(f"{_DEC}FunctionalReferenceID") or "").strip() or None
    return WcoCancellation(reference=reference, reason=reason[:500], lrn=lrn, path_root=root)


def convert(tree: etree._ElementTree, registry: SchemaRegistry, received_at: datetime,
            max_problems: int = 25) -> tuple[Converted, str]:
    """The DEC-DMS declaration in the v2 profile, schema-valid, and the path its document's
    Declaration has above it (``/MetaData``); or a refusal naming WCO paths."""
    entry: SchemaEntry = registry.entries[NS_V2]
    declaration, root = _declaration_element(tree)
    converter = _Converter(profile_of(entry.path), ElementPaths(), received_at)
    converted = converter.convert(declaration, "DeclarationType")
    converter.complete(converted, declaration)
    if converter.dropped:
        converter.notes.append(IntakeNote("outside-profile", f"{root}/Declaration",
                                          (("element", f"{converter.dropped} more elements"),)))
    converted_tree = etree.ElementTree(converted)
    if not entry.fast.validate(converted_tree):
        problems = registry.explain(entry, converted_tree, max_problems)
        raise Rejection(
            "RULES_REJECTED",
            f"the WCO declaration does not meet the Hong Kong profile in {len(problems)} "
            f"place{'s' if len(problems) > 1 else ''}",
            [Problem(message=f"{p.message} (Hong Kong profile of the WCO Data Model, {p.rule})",
                     message_zh=f"{PROFILE_MESSAGE_ZH}：{p.message}",
                     path=_path_in_document(p.path, root), rule=PROFILE_RULE, severity="reject")
             for p in problems],
        )
    notes = tuple(IntakeNote(n.kind, n.path if n.path.startswith(root + "/") or not root else f"{root}{n.path}",
                             n.values) for n in converter.notes)
    return Converted(converted_tree, notes, converter.national_type_code), root
