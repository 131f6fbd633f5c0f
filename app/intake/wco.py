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

import xmlschema
from lxml import etree

from app.domain.declaration import IntakeNote
from app.domain.problems import Problem, Rejection
from app.intake.mapping_v2 import NS_V2
from app.platform.schemas import SchemaEntry, SchemaRegistry

METADATA_NS = "urn:wco:datamodel:WCO:DocumentMetaData-DMS:2"
DEC_NS = "urn:wco:datamodel:WCO:DEC-DMS:2"
NAMESPACES = frozenset({METADATA_NS, DEC_NS})
_XS = "{http://www.w3.org/2001/XMLSchema}"
_DEC = "{" + DEC_NS + "}"

#: Most notes reported for one document (a rich DEC-DMS declaration can carry hundreds of
#: elements the profile does not read); the rest are counted in the last.
MAX_NOTES = 50

PROFILE_RULE = "R950"
#: Where a DEC-DMS Declaration sits in the documents other administrations receive.
WCO_ROOT = "/MetaData"
PROFILE_MESSAGE_ZH = "不符合香港海關資料模型規格"


@dataclass(frozen=True, slots=True)
class Child:
    """An element the profile knows under its parent: its name in v2, its type (a complex type
    of the profile, ``xs:dateTime`` or a simple type) and its place in the parent's sequence."""

    local: str
    type_name: str
    position: int
    complex: bool
    date_time: bool


@dataclass(frozen=True, slots=True)
class Profile:
    """The v2 schema's element tree: for each complex type, its children by their DEC-DMS tag."""

    children: dict[str, dict[str, Child]]


@cache
def profile_of(xsd: Path) -> Profile:
    """The element tree of the v2 schema (named complex types with sequences of named elements),
    read once."""
    root = etree.parse(str(xsd)).getroot()
    sequences = {t.get("name", ""): [(e.get("name", ""), e.get("type", ""))
                                     for e in t.iterfind(f"{_XS}sequence/{_XS}element")]
                 for t in root.iterfind(f"{_XS}complexType")}
    children = {
        type_name: {_DEC + name: Child(name, child_type, position, bool(sequences.get(child_type)),
                                       child_type == "xs:dateTime")
                    for position, (name, child_type) in enumerate(elements)}
        for type_name, elements in sequences.items()}
    return Profile(children)


class _DerivedEntry(SchemaEntry):
    """The v2 schema with DEC-DMS's namespace: a WCO document brought into the profile is
    checked where it stands, without renaming every element."""

    source: str = ""

    @property
    def detailed(self) -> xmlschema.XMLSchema:
        with self._lock:
            if self._detailed is None:
                self._detailed = xmlschema.XMLSchema(self.source)
            return self._detailed


@cache
def profile_schema(xsd: Path) -> SchemaEntry:
    """The profile (schema v2) in DEC-DMS's namespace, compiled once."""
    source = xsd.read_text(encoding="utf-8").replace(NS_V2, DEC_NS)
    entry = _DerivedEntry(namespace=DEC_NS, kind="declaration", version=2, path=xsd,
                          fast=etree.XMLSchema(etree.fromstring(source.encode())))
    entry.source = source
    return entry


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
    """Brings a DEC-DMS Declaration into the v2 profile in place (the parsed tree is intake's
    own; the document's bytes are stored as received)."""

    def __init__(self, profile: Profile, received_at: datetime) -> None:
        self.profile = profile
        self.notes: list[IntakeNote] = []
        self.dropped = 0
        self.received_at = received_at
        self.national_type_code: str | None = None

    def note(self, kind: str, path: str, **values: str) -> None:
        if len(self.notes) < MAX_NOTES:
            self.notes.append(IntakeNote(kind, path, tuple(values.items())))
        else:
            self.dropped += 1

    def convert(self, element: etree._Element, type_name: str, path: str) -> None:
        """The element's children: those the profile knows kept (in the profile's order), the
        others noted and left out."""
        known = self.profile.children[type_name]
        outside: list[etree._Element] = []
        last, ordered = -1, True
        classification_kept = False
        children = [(tag, child) for child in element if isinstance(tag := child.tag, str)]
        if len(children) != len(element):
            outside.extend(child for child in element if not isinstance(child.tag, str))  # comments
        counts: dict[str, int] = {}
        for child_tag, _ in children:
            counts[child_tag] = counts.get(child_tag, 0) + 1
        seen: dict[str, int] = {}
        for child_tag, child in children:
            found = known.get(child_tag)
            local = found.local if found is not None else etree.QName(child).localname
            if counts[child_tag] > 1:
                seen[child_tag] = position = seen.get(child_tag, 0) + 1
                child_path = f"{path}/{local}[{position}]"
            else:
                child_path = f"{path}/{local}"
            if found is None:
                self.note("outside-profile", child_path, element=local)
                outside.append(child)
                continue
            if local == "Classification":
                if classification_kept or not self._national_code(child):
                    self.note("outside-profile", child_path, element="Classification")
                    outside.append(child)
                    continue
                classification_kept = True
            if found.date_time:
                moment = _date_time(child, zone=found.local == "IssueDateTime")
                child.text = moment or (child.text or "").strip()
                for part in list(child):
                    child.remove(part)
            elif found.complex:
                self.convert(child, found.type_name, child_path)
            else:
                if type_name == "DeclarationType" and local == "TypeCode":
                    self._declaration_type(child, child_path)
                elif type_name == "ClassificationType" and local == "ID":
                    self._commodity_code(child, child_path)
                names = child.keys()  # languageID and the like: the profile reads none
                for name in names:
                    if name not in ("unitCode", "currencyID"):
                        del child.attrib[name]
            if found.position < last:
                ordered = False
            last = found.position
        for child in outside:
            element.remove(child)
        if not ordered:
            element[:] = sorted(element, key=lambda child: known[str(child.tag)].position)

    @staticmethod
    def _national_code(classification: etree._Element) -> bool:
        """Whether a Classification carries the goods' commodity code (not an additional
        national code: TARIC TRC, national additional TSP 4-digit ...): 6 to 10 digits."""
        code = (classification.findtext(f"{_DEC}ID") or "").strip()
        kind = (classification.findtext(f"{_DEC}IdentificationTypeCode") or "").strip()
        return code.isdigit() and 6 <= len(code) <= 10 and kind in ("", "TSP", "CN", "HS", "GN")

    def _declaration_type(self, element: etree._Element, path: str) -> None:
        code = (element.text or "").strip()
        mapped = _type_code(code)
        if mapped is not None and mapped != code:
            self.national_type_code = code
            self.note("type-code", path, code=code, mapped=mapped)
            element.text = mapped

    def _commodity_code(self, element: etree._Element, path: str) -> None:
        code = (element.text or "").strip()
        if code.isdigit() and len(code) != 8:
            reduced = (code + "00")[:8]
            self.note("commodity-code", path, code=code, reduced=reduced, hs6=code[:6])
            element.text = reduced

    def complete(self, declaration: etree._Element, acceptance: str | None) -> None:
        """What the profile needs and a DEC-DMS document says elsewhere: the issue date (the
        acceptance date, else the time of receipt) and an item's value (its invoice line)."""
        if declaration.find(f"{_DEC}IssueDateTime") is None:
            issued = etree.Element(_DEC + "IssueDateTime")
            issued.text = acceptance or self.received_at.isoformat()
            self._insert(declaration, issued, "DeclarationType")
            if len(self.notes) < MAX_NOTES:
                self.notes.append(IntakeNote("issue-date", "/Declaration/IssueDateTime",
                                             (("used", "AcceptanceDateTime" if acceptance else "receipt"),)))
        for item in declaration.iterfind(f"{_DEC}GoodsShipment/{_DEC}GovernmentAgencyGoodsItem"):
            if item.find(f"{_DEC}CustomsValueAmount") is None:
                charge = item.find(f"{_DEC}Commodity/{_DEC}InvoiceLine/{_DEC}ItemChargeAmount")
                if charge is not None:
                    value = copy.deepcopy(charge)
                    value.tag = _DEC + "CustomsValueAmount"
                    self._insert(item, value, "GovernmentAgencyGoodsItemType")

    def _insert(self, parent: etree._Element, element: etree._Element, type_name: str) -> None:
        order = {tag: info.position for tag, info in self.profile.children[type_name].items()}
        position = order[str(element.tag)]
        later = (index for index, child in enumerate(parent) if order.get(str(child.tag), 0) > position)
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
    Declaration has above it (``/MetaData``); or a refusal naming WCO paths. Works on ``tree``
    itself: intake parsed it for this alone."""
    entry = profile_schema(registry.entries[NS_V2].path)
    declaration, root = _declaration_element(tree)
    acceptance_element = declaration.find(f"{_DEC}AcceptanceDateTime")
    acceptance = _date_time(acceptance_element, zone=True) if acceptance_element is not None else None
    converter = _Converter(profile_of(entry.path), received_at)
    converter.convert(declaration, "DeclarationType", f"{root}/Declaration")
    converter.complete(declaration, acceptance if acceptance and "formatCode" not in acceptance else None)
    if converter.dropped:
        converter.notes.append(IntakeNote("outside-profile", f"{root}/Declaration",
                                          (("element", f"{converter.dropped} more elements"),)))
    parent = declaration.getparent()
    if parent is not None:
        parent.remove(declaration)
    converted_tree = etree.ElementTree(declaration)
    if not entry.fast.validate(converted_tree):
        problems = registry.explain(entry, converted_tree, max_problems)
        raise Rejection(
            "RULES_REJECTED",
            f"the WCO declaration does not meet the Hong Kong profile in {len(problems)} "
            f"place{'s' if len(problems) > 1 else ''}",
            [Problem(message=f"{p.message} (Hong Kong profile of the WCO Data Model, {p.rule})",
                     message_zh=f"{PROFILE_MESSAGE_ZH}：{p.message}",
                     path=_path_in_document(p.path, root), rule=PROFILE_RULE, severity="reject", line=p.line)
             for p in problems],
        )
    notes = tuple(IntakeNote(n.kind, n.path if n.path.startswith(root + "/") or not root else f"{root}{n.path}",
                             n.values) for n in converter.notes)
    return Converted(converted_tree, notes, converter.national_type_code), root
