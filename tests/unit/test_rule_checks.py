"""Every business rule of ``rules/packs/core.toml`` against the real rule set.

For each rule code: a clean declaration of every type the rule applies to yields no finding
of that code, and one crafted declaration yields exactly the expected findings (severity,
path, English message naming the offending value, filled-in Chinese message). The detail
classes below then pin each check's edges (check digits, tolerances, penalty bands, ...).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum import iso6346

from app.config import PROJECT_ROOT
from app.domain.declaration import (
    AdditionalDocument,
    Declaration,
    DeclarationType,
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
from app.domain.findings import Finding, Severity
from app.intake.service import Intake
from app.rules.assessment import RuleSet, assess
from app.rules.checks import container_number_valid
from tests.factories import declaration_xml
from tests.fuzzing import fuzz_settings

HKT = timezone(timedelta(hours=8), "HKT")
RECEIVED = datetime(2026, 11, 21, 10, 0, tzinfo=HKT)
ON_TIME = datetime(2026, 11, 18, 8, 0, tzinfo=HKT)

IM, EX, TS = DeclarationType.IMPORT, DeclarationType.EXPORT, DeclarationType.TRANSHIPMENT
ITEM = "/Declaration/GoodsShipment/GovernmentAgencyGoodsItem"
CONSIGNMENT = "/Declaration/GoodsShipment/Consignment"
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
CJK = re.compile(r"[\u4e00-\u9fff]")


# --- the real rule set and clean declarations ---------------------------------------------

@pytest.fixture(scope="module")
def rule_set() -> RuleSet:
    return RuleSet.load(PROJECT_ROOT / "rules")


@pytest.fixture(scope="module")
def mapped() -> Declaration:
    """The factory's valid two-item import, mapped to the domain by the real intake."""
    body = declaration_xml(items=2)
    return Intake(PROJECT_ROOT / "schemas").receive_declaration(body).declaration


def _clean(mapped: Declaration, kind: DeclarationType) -> Declaration:
    """A declaration of ``kind`` that exercises every rule without breaking any: coded
    values on their lists, a mandatory-licence good with a well-formed licence, liquor
    with strength and volume, two valid containers, matching totals, lodged on time."""
    phones, second = mapped.goods_items
    phones = replace(phones, package_type="CT", package_count=2)
    whisky = replace(
        second, description="Scotch whisky, 0.7 L bottles", hs_code="22083000", origin_country="GB",
        quantity=Decimal("12"), quantity_unit="C62", net_mass=Decimal("8.4"), gross_mass=Decimal("15.6"),
        value=Decimal("3672.00"), alcohol_strength=Decimal("40"), volume_litres=Decimal("8.4"),
        package_type="CS", package_count=1, documents=(AdditionalDocument("DC", "DC-2026-000123"),))
    declarant = Party(PartyRole.DECLARANT, "12345678", "Demo Trading Company Limited",
                      "1 Harbour Road", "Hong Kong", "HK")
    carrier = Party(PartyRole.CARRIER, "SG12345678", "Lion City Shipping Pte Ltd", "1 Marina Way", "Singapore", "SG")
    parties = {
        IM: (declarant, Party(PartyRole.IMPORTER, "87654321", "Harbour Imports Limited", None, None, "HK"), carrier),
        EX: (declarant, Party(PartyRole.EXPORTER, "87654321", "Harbour Exports Limited", None, None, "HK"), carrier),
        TS: (declarant, carrier),
    }[kind]
    route = {IM: ("HKKCG", "SGSIN", "HKKCG"), EX: ("HKLMC", "HKLMC", "CNSZX"), TS: ("HKKCG", "HKKCG", "CNSZX")}[kind]
    elocks = ("EL-000001", "EL-000002") if kind is TS else (None, None)
    return replace(
        mapped, type=kind, form_code={IM: "1", EX: "2", TS: None}[kind], parties=parties,
        control_point=route[0], departure_location=route[1], destination_location=route[2],
        movement_at=ON_TIME, goods_items=(phones, whisky),
        equipment=(TransportEquipment(1, "CSQU3054383", ("SL0001",), elocks[0]),
                   TransportEquipment(2, "MWCU6059784", ("SL0002",), elocks[1])),
        totals=Totals(2, Decimal("18.6"), Decimal("4872.00"), "HKD"),
    )


@pytest.fixture(scope="module")
def clean(mapped: Declaration) -> dict[DeclarationType, Declaration]:
    return {kind: _clean(mapped, kind) for kind in DeclarationType}


# --- helpers ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Standing:
    """The registry's view of one AEO id, as ``app.aeo.service.standings_for`` gives it."""

    operator_id: str
    tier: int
    status: str
    recognised: bool
    reason: str = ""


def found(rule_set: RuleSet, declaration: Declaration, code: str | None = None,
          received_at: datetime = RECEIVED, aeo: dict[str, Standing] | None = None,
          cargo_lines: dict[tuple[str, str], datetime | None] | None = None) -> list[Finding]:
    findings = assess(rule_set, declaration, received_at, aeo, cargo_lines).findings
    return [f for f in findings if code is None or f.code == code]


def with_item(declaration: Declaration, index: int, **changes: object) -> Declaration:
    items = list(declaration.goods_items)
    items[index] = replace(items[index], **changes)
    return replace(declaration, goods_items=tuple(items))


def with_items(declaration: Declaration, *items: GoodsItem) -> Declaration:
    return replace(declaration, goods_items=items)


def with_party(declaration: Declaration, role: PartyRole, **changes: object) -> Declaration:
    return replace(declaration, parties=tuple(replace(p, **changes) if p.role is role else p
                                              for p in declaration.parties))


def without_party(declaration: Declaration, role: PartyRole) -> Declaration:
    return replace(declaration, parties=tuple(p for p in declaration.parties if p.role is not role))


def with_containers(declaration: Declaration, *ids: str, elock: str | None = None) -> Declaration:
    return replace(declaration, equipment=tuple(TransportEquipment(n, c, (), elock) for n, c in enumerate(ids, 1)))


def with_totals(declaration: Declaration, **changes: object) -> Declaration:
    assert declaration.totals is not None
    return replace(declaration, totals=replace(declaration.totals, **changes))


def assert_filled_chinese(finding: Finding) -> None:
    assert finding.message_zh.strip() and CJK.search(finding.message_zh), finding
    assert not PLACEHOLDER.search(finding.message_zh), finding.message_zh
    assert not PLACEHOLDER.search(finding.message_en), finding.message_en


# --- one crafted case per rule ----------------------------------------------------------------

@dataclass(frozen=True)
class Expected:
    path: str | None
    en: tuple[str, ...]  # substrings of the English message: the offending values
    zh: tuple[str, ...] = ()  # substrings of the Chinese message


@dataclass(frozen=True)
class Case:
    kind: DeclarationType
    craft: Callable[[Declaration], Declaration]
    severity: Severity
    expected: tuple[Expected, ...]
    aeo: dict[str, Standing] | None = None
    cargo_lines: dict[tuple[str, str], datetime | None] | None = None


REJECT, HOLD, WARN, INFO = Severity.REJECT, Severity.HOLD, Severity.WARN, Severity.INFO
CARGO_REF = "HK26C0000000001"

CASES: dict[str, Case] = {
    "R101": Case(IM, lambda d: with_item(d, 1, hs_code="85171599"), REJECT, (
        Expected(f"{ITEM}[2]/Commodity/Classification/ID", ("HS code 85171599",), ("85171599",)),)),
    "R102": Case(IM, lambda d: with_item(d, 0, origin_country="ZZ"), REJECT, (
        Expected(f"{ITEM}[1]/Origin/CountryCode", ("ZZ is not an ISO 3166",), ("ZZ",)),)),
    "R103": Case(IM, lambda d: with_item(d, 1, currency="HKX"), REJECT, (
        Expected(f"{ITEM}[2]/CustomsValueAmount", ("HKX is not an ISO 4217",), ("HKX",)),)),
    "R104": Case(IM, lambda d: with_item(d, 0, quantity_unit="ZZZ"), REJECT, (
        Expected(f"{ITEM}[1]/GoodsMeasure/TariffQuantity", ("ZZZ",), ("ZZZ",)),)),
    "R105": Case(IM, lambda d: with_item(d, 1, package_type="QQ"), REJECT, (
        Expected(f"{ITEM}[2]/Packaging/TypeCode", ("QQ is not",), ("QQ",)),)),
    "R106": Case(IM, lambda d: replace(d, control_point="CNSZX"), REJECT, (
        Expected(f"{CONSIGNMENT}/ControlPointID", ("CNSZX is not a control point",), ("CNSZX",)),)),
    "R107": Case(IM, lambda d: replace(d, departure_location="USBOS"), REJECT, (
        Expected(f"{CONSIGNMENT}/DepartureLocationID", ("USBOS",), ("USBOS",)),)),
    "R108": Case(IM, lambda d: replace(d, destination_location="USSEA"), REJECT, (
        Expected(f"{CONSIGNMENT}/DestinationLocationID", ("USSEA",), ("USSEA",)),)),
    "R109": Case(IM, lambda d: with_party(d, PartyRole.IMPORTER, country="ZZ"), REJECT, (
        Expected("/Declaration/Importer/Address/CountryCode", ("ZZ is not an ISO 3166",), ("ZZ",)),)),
    "R111": Case(IM, lambda d: with_item(d, 1, hs_code="85171399"), WARN, (
        Expected(f"{ITEM}[2]/Commodity/Classification/ID", ("HS code 85171399", "subheading 851713"),
                 ("85171399", "851713")),)),
    "R110": Case(IM, lambda d: with_party(d, PartyRole.IMPORTER, identifier="HK1234567"), REJECT, (
        Expected("/Declaration/Importer/ID", ("importer's id HK1234567",), ("進口商", "HK1234567")),)),
    "R201": Case(IM, lambda d: with_containers(d, "CSQU3054384", "MWCU6059784"), REJECT, (
        Expected(f"{CONSIGNMENT}/TransportEquipment[1]/ID", ("CSQU3054384", "expected 3"), ("CSQU3054384", "3")),)),
    "R202": Case(IM, lambda d: with_totals(d, goods_item_count=3), REJECT, (
        Expected("/Declaration/Totals/GoodsItemQuantity",
                 ("goods item count is 3 but the goods items add up to 2",), ("貨品項目數目", "3", "2")),)),
    "R203": Case(IM, lambda d: with_item(d, 1, gross_mass=Decimal("8")), REJECT, (
        Expected(f"{ITEM}[2]/GoodsMeasure/GrossMassMeasure",
                 ("Goods item 2", "gross mass 8 kg", "net mass 8.4 kg"), ("8.4",)),)),
    "R205": Case(IM, lambda d: with_item(d, 0, net_mass=Decimal("2000000000"), gross_mass=Decimal("2000000001")),
                 REJECT, (
        Expected(f"{ITEM}[1]/GoodsMeasure/NetMassMeasure", ("net mass 2000000000 kg", "1000000000 kg"), ("淨重",)),
        Expected(f"{ITEM}[1]/GoodsMeasure/GrossMassMeasure", ("gross mass 2000000001 kg",), ("毛重",)))),
    "R204": Case(IM, lambda d: with_items(d, d.goods_items[0], replace(d.goods_items[0], sequence=2)), HOLD, (
        Expected(f"{ITEM}[2]", ("Goods item 2 repeats goods item 1",), ("2", "1")),)),
    "R301": Case(IM, lambda d: replace(d, issued_at=RECEIVED + timedelta(minutes=11)), REJECT, (
        Expected("/Declaration/IssueDateTime", ("2026-11-21 10:11:00 HKT", "2026-11-21 10:00:00 HKT"),
                 ("2026-11-21 10:11:00 HKT",)),)),
    "R303": Case(IM, lambda d: replace(d, issued_at=datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=-14)))), REJECT, (
        Expected("/Declaration/IssueDateTime", ("0001-01-01 22:00:00 HKT", "3650 days", "2026-11-21 10:00:00 HKT"),
                 ("0001-01-01 22:00:00 HKT", "3650")),)),
    "R302": Case(IM, lambda d: replace(d, movement_at=datetime(2026, 10, 30, 9, 0, tzinfo=HKT)), WARN, (
        Expected(f"{CONSIGNMENT}/MovementDateTime",
                 ("Lodged on 2026-11-21", "8 days", "2026-10-30", "HK$20.00"), ("2026-10-30", "20.00")),)),
    "R304": Case(EX, lambda d: replace(d, movement_at=None), REJECT, (
        Expected(f"{CONSIGNMENT}/MovementDateTime", ("MovementDateTime", "14-day lodgement period"),
                 ("進口或出口的日期", "14天")),)),
    "R305": Case(IM, lambda d: replace(d, movement_at=RECEIVED + timedelta(hours=2)), REJECT, (
        Expected(f"{CONSIGNMENT}/MovementDateTime", ("2026-11-21T12:00:00+08:00", "2026-11-21T10:00:00+08:00"),
                 ("2026-11-21T12:00:00+08:00",)),)),
    "R306": Case(IM, lambda d: replace(d, previous_documents=(PreviousDocument("CRN", CARGO_REF),
                                                              PreviousDocument("BL", "MAEU123456789"))), HOLD, (
        Expected(f"{CONSIGNMENT}/PreviousDocument[2]/ID", ("No BL MAEU123456789",), ("BL MAEU123456789",)),),
        cargo_lines={("CRN", "HK26C0000000001"): None}),
    "R307": Case(EX, lambda d: replace(d, movement_at=None, previous_documents=(PreviousDocument("CRN", CARGO_REF),)),
                 INFO, (
        Expected(f"{CONSIGNMENT}/MovementDateTime", ("2026-11-18T00:30:00+00:00", "stated: -"),
                 ("2026-11-18T00:30:00+00:00",)),),
        cargo_lines={("CRN", "HK26C0000000001"): datetime(2026, 11, 18, 0, 30, tzinfo=timezone.utc)}),
    "R801": Case(EX, lambda d: replace(d, form_code="1A"), REJECT, (
        Expected("/Declaration/FormCode", ("Form 1A", "export declaration", "one of 2, 2A, 2B"), ("1A", "出口")),)),
    "R802": Case(IM, lambda d: replace(d, form_code="1A"), REJECT, (
        Expected(f"{ITEM}[1]/Commodity/Classification/ID", ("Goods item 1", "HS 85171300", "not a food item",
                                                            "form 1A"), ("85171300", "食品")),)),
    "R803": Case(EX, lambda d: with_item(replace(d, form_code="2A"), 0, hs_code="61091000", origin_country="HK"),
                 REJECT, (
        Expected(f"{ITEM}[2]/Commodity/Classification/ID", ("Goods item 2", "HS 22083000, origin GB",
                                                            "not clothing or footwear made in Hong Kong"),
                 ("22083000", "GB")),)),
    "R804": Case(EX, lambda d: with_item(d, 0, hs_code="62052000", origin_country="HK"), REJECT, (
        Expected(f"{ITEM}[1]/Commodity/Classification/ID", ("Goods item 1", "HS 62052000", "form 2A",
                                                            "form given: 2"), ("62052000", "2A")),)),
    "R805": Case(IM, lambda d: replace(d, form_code="1B"), REJECT, (
        Expected(f"{ITEM}[1]", ("Goods item 1", "charge-exempt form 1B", "no exemption reason", "CXR"),
                 ("1B", "CXR")),
        Expected(f"{ITEM}[2]", ("Goods item 2", "no exemption reason"), ("豁免理由",)))),
    "R401": Case(IM, lambda d: with_item(d, 1, documents=()), REJECT, (
        Expected(f"{ITEM}[2]", ("Goods item 2", "HS 22083000", "dutiable liquor", "type DC",
                                "Customs and Excise Department"), ("22083000", "香港海關", "DC")),)),
    "R402": Case(IM, lambda d: with_item(d, 1, documents=(AdditionalDocument("DC", "DC-26-123"),)), REJECT, (
        Expected(f"{ITEM}[2]/AdditionalDocument", ("DC-26-123", "DC licence reference"), ("DC-26-123",)),)),
    "R501": Case(IM, lambda d: with_item(d, 1, volume_litres=None), HOLD, (
        Expected(f"{ITEM}[2]/Commodity", ("HS 22083000", "the volume (VolumeMeasure)"), ("容量",)),)),
    "R502": Case(IM, lambda d: with_item(d, 0, hs_code="24022000", stick_count=None), HOLD, (
        Expected(f"{ITEM}[1]/Commodity", ("HS 24022000", "the number of sticks (StickQuantity)"), ("支數",)),)),
    "R601": Case(TS, lambda d: with_containers(d, "CSQU3054383", "MWCU6059784"), REJECT, (
        Expected(f"{CONSIGNMENT}/TransportEquipment", ("an e-lock id (ELockID)",), ("電子鎖編號",)),)),
    "R602": Case(IM, lambda d: without_party(d, PartyRole.IMPORTER), WARN, (
        Expected("/Declaration", ("does not name the importer",), ("進口商",)),)),
    "R603": Case(EX, lambda d: without_party(d, PartyRole.EXPORTER), WARN, (
        Expected("/Declaration", ("does not name the exporter",), ("出口商",)),)),
    "R701": Case(IM, lambda d: with_party(d, PartyRole.IMPORTER, aeo_id="87654321"), HOLD, (
        Expected("/Declaration/Importer/AEOCertificateID", ("87654321", "suspended", "no AEO benefit"),
                 ("87654321", "已暫停")),),
        aeo={"87654321": Standing("87654321", 1, "suspended", False, "suspended")}),
    "R702": Case(IM, lambda d: d, INFO, (
        Expected("/Declaration/Importer/ID", ("importer (87654321)", "Tier 2 AEO"), ("進口商", "第2級")),),
        aeo={"87654321": Standing("87654321", 2, "active", True)}),
}


def v2(declaration: Declaration, **particulars: object) -> Declaration:
    """The declaration as schema v2 states it (``path_root`` ``/MetaData``: a WCO document)."""
    return replace(declaration, particulars=Particulars(profile="v2", **particulars))  # type: ignore[arg-type]


def _note(kind: str, path: str, **values: str) -> tuple[IntakeNote, ...]:
    return (IntakeNote(kind, path, tuple(values.items())),)


DMS_ITEM = "/MetaData/Declaration/GoodsShipment/GovernmentAgencyGoodsItem"
CASES.update({
    "R901": Case(IM, lambda d: v2(d, invoice_amount=Decimal("600.00"), invoice_currency="USD",
                                  exchange_rate=Decimal("7.8")), HOLD, (
        Expected("/Declaration/InvoiceAmount", ("600.00 USD", "7.8", "4,872.00 HKD"), ("600.00",)),)),
    "R902": Case(IM, lambda d: v2(d, delivery_terms="FOB"), WARN, (
        Expected("/Declaration/GoodsShipment/TradeTerms/ConditionCode", ("FOB", "CIF"), ("FOB", "到岸價")),)),
    "R903": Case(IM, lambda d: v2(replace(d, transport_mode="4", previous_documents=(
        PreviousDocument("BL", "BL-1"),))), HOLD, (
        Expected("/Declaration/GoodsShipment/PreviousDocument", ("air", "AWB / MNL"), ("空運", "AWB")),)),
    "R904": Case(IM, lambda d: v2(replace(d, parties=(*d.parties, Party(PartyRole.AGENT, "23456789", "Broker"))),
                                  representation_status=RepresentationStatus.SELF), REJECT, (
        Expected("/Declaration/Agent/FunctionCode", ("an agent is named",), ("代理人",)),)),
    "R905": Case(IM, lambda d: v2(d, total_packages=5), REJECT, (
        Expected("/Declaration/TotalPackageQuantity", ("total packages 5", "add up to 3"), ("5", "3")),)),
    "R906": Case(IM, lambda d: v2(replace(d, parties=(*d.parties, Party(PartyRole.SELLER, "", "Shenzhen Seller")))),
                 REJECT, (Expected("/Declaration/GoodsShipment/Seller", ("seller has no id",), ("賣方",)),)),
    "R907": Case(EX, lambda d: v2(d, destination_country="HK"), WARN, (
        Expected("/Declaration/GoodsShipment/Destination/CountryCode", ("HK", "an export"), ("出口",)),)),
    "R951": Case(IM, lambda d: v2(d, notes=_note("outside-profile", f"{DMS_ITEM}[1]/Commodity/DutyTaxFee",
                                                 element="DutyTaxFee")), INFO, (
        Expected(f"{DMS_ITEM}[1]/Commodity/DutyTaxFee", ("DutyTaxFee", "kept in the stored document"),
                 ("DutyTaxFee",)),)),
    "R952": Case(IM, lambda d: v2(d, notes=_note("commodity-code", f"{DMS_ITEM}[2]/Commodity/Classification/ID",
                                                 code="1905310000", reduced="19053100", hs6="190531")), INFO, (
        Expected(f"{DMS_ITEM}[2]/Commodity/Classification/ID", ("1905310000", "19053100", "190531"),
                 ("19053100",)),)),
    "R953": Case(IM, lambda d: v2(d, notes=_note("type-code", "/MetaData/Declaration/TypeCode", code="IMA",
                                                 mapped="IM")), INFO, (
        Expected("/MetaData/Declaration/TypeCode", ("IMA", "IM"), ("IMA",)),)),
    "R954": Case(IM, lambda d: v2(d, notes=_note("issue-date", "/MetaData/Declaration/IssueDateTime",
                                                 used="receipt")), INFO, (
        Expected("/MetaData/Declaration/IssueDateTime", ("receipt",), ("receipt",)),)),
})


def test_the_cases_cover_every_rule_in_the_rule_set(rule_set: RuleSet) -> None:
    assert sorted(CASES) == sorted(rule.code for rule in rule_set.rules)


@pytest.mark.parametrize("kind", list(DeclarationType), ids=lambda k: k.value)
def test_a_clean_declaration_has_no_findings_at_all(rule_set: RuleSet, clean: dict, kind: DeclarationType) -> None:
    assert found(rule_set, clean[kind]) == []


@pytest.mark.parametrize("code", sorted(CASES))
def test_clean_declarations_of_every_applicable_type_pass_the_rule(
        code: str, rule_set: RuleSet, clean: dict[DeclarationType, Declaration]) -> None:
    rule = next(r for r in rule_set.rules if r.code == code)
    assert rule.applies_to
    for kind in sorted(rule.applies_to):
        assert found(rule_set, clean[DeclarationType(kind)], code) == [], kind


@pytest.mark.parametrize("code", sorted(CASES))
def test_the_crafted_declaration_breaks_the_rule_exactly_as_expected(
        code: str, rule_set: RuleSet, clean: dict[DeclarationType, Declaration]) -> None:
    case = CASES[code]
    findings = found(rule_set, case.craft(clean[case.kind]), code, aeo=case.aeo, cargo_lines=case.cargo_lines)
    assert [f.path for f in findings] == [e.path for e in case.expected], findings
    for finding, expected in zip(findings, case.expected):
        assert finding.severity is case.severity
        for text in expected.en:
            assert text in finding.message_en, (text, finding.message_en)
        for text in expected.zh:
            assert text in finding.message_zh, (text, finding.message_zh)
        assert_filled_chinese(finding)


# --- R101-R109: code lists ------------------------------------------------------------------

class TestCodeLists:
    @pytest.mark.parametrize(("code", "craft", "path", "value"), [
        ("R101", lambda d: with_item(d, 0, hs_code="85171599"), f"{ITEM}[1]/Commodity/Classification/ID", "85171599"),
        ("R102", lambda d: with_item(d, 1, origin_country="XX"), f"{ITEM}[2]/Origin/CountryCode", "XX"),
        ("R103", lambda d: with_item(d, 0, currency="ABC"), f"{ITEM}[1]/CustomsValueAmount", "ABC"),
        ("R104", lambda d: with_item(d, 1, quantity_unit="XYZ"), f"{ITEM}[2]/GoodsMeasure/TariffQuantity", "XYZ"),
        ("R105", lambda d: with_item(d, 0, package_type="Q9"), f"{ITEM}[1]/Packaging/TypeCode", "Q9"),
        ("R106", lambda d: replace(d, control_point="HKXXX"), f"{CONSIGNMENT}/ControlPointID", "HKXXX"),
        ("R107", lambda d: replace(d, departure_location="ZZABC"), f"{CONSIGNMENT}/DepartureLocationID", "ZZABC"),
        ("R108", lambda d: replace(d, destination_location="ZZABC"), f"{CONSIGNMENT}/DestinationLocationID", "ZZABC"),
        ("R109", lambda d: with_party(d, PartyRole.DECLARANT, country="QQ"),
         "/Declaration/Declarant/Address/CountryCode", "QQ"),
        ("R109", lambda d: with_party(d, PartyRole.CARRIER, country="QQ"),
         "/Declaration/Carrier/Address/CountryCode", "QQ"),
    ], ids=["hs", "origin", "currency", "unit", "package", "control-point", "departure", "destination",
            "declarant-country", "carrier-country"])
    def test_a_value_missing_from_its_code_list_is_rejected_at_its_path(
            self, rule_set: RuleSet, clean: dict, code: str, craft: Callable, path: str, value: str) -> None:
        findings = found(rule_set, craft(clean[IM]), code)
        assert [(f.path, f.severity) for f in findings] == [(path, Severity.REJECT)]
        assert value in findings[0].message_en and value in findings[0].message_zh

    def test_every_offending_item_gets_its_own_finding(self, rule_set: RuleSet, clean: dict) -> None:
        declaration = with_item(with_item(clean[IM], 0, origin_country="XX"), 1, origin_country="YY")
        findings = found(rule_set, declaration, "R102")
        assert [(f.path, "XX" in f.message_en or "YY" in f.message_en) for f in findings] == [
            (f"{ITEM}[1]/Origin/CountryCode", True), (f"{ITEM}[2]/Origin/CountryCode", True)]

    def test_a_single_goods_item_path_has_no_position(self, rule_set: RuleSet, clean: dict) -> None:
        declaration = with_items(clean[IM], replace(clean[IM].goods_items[0], hs_code="85171599"))
        assert [f.path for f in found(rule_set, declaration, "R101")] == [f"{ITEM}/Commodity/Classification/ID"]

    @pytest.mark.parametrize(("hs_code", "rules"), [
        ("85171300", []),  # listed national item
        ("85171399", ["R111"]),  # subheading 851713 exists, national item unlisted: a warning
        ("01012999", ["R111"]),  # a subheading (live horses) the tariff list names no item of
        ("85171599", ["R101"]),  # 851715 is no HS 2022 subheading: refused
        ("99999999", ["R101"]),
    ])
    def test_an_unlisted_national_item_of_a_real_subheading_is_a_warning_not_a_refusal(
            self, rule_set: RuleSet, clean: dict, hs_code: str, rules: list[str]) -> None:
        findings = [f for f in found(rule_set, with_item(clean[IM], 0, hs_code=hs_code)) if f.code in ("R101", "R111")]
        assert [f.code for f in findings] == rules
        assert all(f.severity == (Severity.WARN if f.code == "R111" else Severity.REJECT) for f in findings)

    @pytest.mark.parametrize("hs_code", ["8517", "851713", "85"])
    def test_a_listed_heading_or_chapter_is_not_a_known_hs_code(self, rule_set: RuleSet, clean: dict,
                                                                hs_code: str) -> None:
        findings = found(rule_set, with_item(clean[IM], 0, hs_code=hs_code), "R101")
        assert len(findings) == 1 and hs_code in findings[0].message_en

    def test_a_location_that_is_no_control_point_is_rejected_as_control_point(self, rule_set: RuleSet,
                                                                             clean: dict) -> None:
        declaration = replace(clean[IM], control_point="SGSIN", departure_location="SGSIN")
        assert [f.code for f in found(rule_set, declaration) if f.code.startswith("R10")] == ["R106"]

    def test_absent_optional_codes_are_not_checked(self, rule_set: RuleSet, clean: dict) -> None:
        declaration = replace(clean[IM], control_point=None, departure_location=None, destination_location=None,
                              parties=tuple(replace(p, country=None) for p in clean[IM].parties))
        declaration = with_item(with_item(declaration, 0, package_type=None), 1, package_type=None)
        assert [f for f in found(rule_set, declaration) if f.code < "R110"] == []


# --- R110: party identifiers ----------------------------------------------------------------

class TestPartyIdentifiers:
    @pytest.mark.parametrize("identifier", ["12345678", "00000001", "SG12345678", "CN91440300MA5", "GB0012345678"])
    def test_hk_business_registration_numbers_and_foreign_aeo_ids_pass(
            self, rule_set: RuleSet, clean: dict, identifier: str) -> None:
        declaration = with_party(clean[IM], PartyRole.IMPORTER, identifier=identifier)
        assert found(rule_set, declaration, "R110") == []

    @pytest.mark.parametrize("identifier", ["HK1234567", "HK12345678", "ZZ123456", "1234567", "123456789"])
    def test_other_identifiers_are_rejected(self, rule_set: RuleSet, clean: dict, identifier: str) -> None:
        declaration = with_party(clean[IM], PartyRole.IMPORTER, identifier=identifier)
        findings = found(rule_set, declaration, "R110")
        assert [(f.path, f.severity) for f in findings] == [("/Declaration/Importer/ID", Severity.REJECT)]
        assert f"importer's id {identifier}" in findings[0].message_en
        assert identifier in findings[0].message_zh and "進口商" in findings[0].message_zh

    def test_each_party_is_checked_under_its_own_role(self, rule_set: RuleSet, clean: dict) -> None:
        declaration = with_party(with_party(clean[IM], PartyRole.DECLARANT, identifier="ZZ123456"),
                                 PartyRole.CARRIER, identifier="HK1234567")
        findings = found(rule_set, declaration, "R110")
        assert [f.path for f in findings] == ["/Declaration/Declarant/ID", "/Declaration/Carrier/ID"]
        assert "declarant's id ZZ123456" in findings[0].message_en and "報關人" in findings[0].message_zh
        assert "carrier's id HK1234567" in findings[1].message_en and "承運人" in findings[1].message_zh


# --- R201: container check digit ------------------------------------------------------------

class TestContainerCheckDigit:
    @pytest.mark.parametrize("containers", [("CSQU3054383",), ("MWCU6059784",), ("CSQU3054383", "MWCU6059784")])
    def test_valid_container_numbers_pass(self, rule_set: RuleSet, clean: dict, containers: tuple) -> None:
        assert found(rule_set, with_containers(clean[IM], *containers), "R201") == []

    def test_a_wrong_check_digit_is_rejected_showing_the_expected_digit(self, rule_set: RuleSet,
                                                                       clean: dict) -> None:
        findings = found(rule_set, with_containers(clean[IM], "CSQU3054384"), "R201")
        assert [(f.path, f.severity) for f in findings] == [
            (f"{CONSIGNMENT}/TransportEquipment/ID", Severity.REJECT)]
        assert "Container CSQU3054384" in findings[0].message_en
        assert "expected 3 as the last digit" in findings[0].message_en
        assert "CSQU3054384" in findings[0].message_zh and "應為 3" in findings[0].message_zh

    def test_the_finding_points_at_the_offending_container(self, rule_set: RuleSet, clean: dict) -> None:
        findings = found(rule_set, with_containers(clean[IM], "CSQU3054383", "MWCU6059785"), "R201")
        assert [f.path for f in findings] == [f"{CONSIGNMENT}/TransportEquipment[2]/ID"]
        assert "MWCU6059785" in findings[0].message_en and "expected 4" in findings[0].message_en

    def test_every_wrong_container_is_reported(self, rule_set: RuleSet, clean: dict) -> None:
        findings = found(rule_set, with_containers(clean[IM], "CSQU3054384", "MWCU6059785"), "R201")
        assert [f.path for f in findings] == [f"{CONSIGNMENT}/TransportEquipment[1]/ID",
                                              f"{CONSIGNMENT}/TransportEquipment[2]/ID"]

    def test_no_containers_no_finding(self, rule_set: RuleSet, clean: dict) -> None:
        assert found(rule_set, replace(clean[IM], equipment=()), "R201") == []


# --- R202-R204: arithmetic ------------------------------------------------------------------

class TestTotals:
    def test_declarations_without_totals_are_not_checked(self, rule_set: RuleSet, clean: dict) -> None:
        assert found(rule_set, replace(clean[IM], totals=None), "R202") == []

    def test_a_wrong_item_count_is_rejected(self, rule_set: RuleSet, clean: dict) -> None:
        findings = found(rule_set, with_totals(clean[IM], goods_item_count=1), "R202")
        assert [f.path for f in findings] == ["/Declaration/Totals/GoodsItemQuantity"]
        assert "goods item count is 1 but the goods items add up to 2" in findings[0].message_en

    @pytest.mark.parametrize("declared", ["18.6", "18.6009", "18.601", "18.599"])
    def test_gross_mass_within_the_tolerance_passes(self, rule_set: RuleSet, clean: dict, declared: str) -> None:
        assert found(rule_set, with_totals(clean[IM], gross_mass=Decimal(declared)), "R202") == []

    @pytest.mark.parametrize("declared", ["18.602", "18.5", "20"])
    def test_gross_mass_beyond_the_tolerance_is_rejected(self, rule_set: RuleSet, clean: dict,
                                                         declared: str) -> None:
        findings = found(rule_set, with_totals(clean[IM], gross_mass=Decimal(declared)), "R202")
        assert [f.path for f in findings] == ["/Declaration/Totals/GrossMassMeasure"]
        assert f"gross mass (kg) is {declared} but the goods items add up to 18.6" in findings[0].message_en
        assert "毛重" in findings[0].message_zh and declared in findings[0].message_zh

    @pytest.mark.parametrize("declared", ["4872.00", "4872.01", "4871.99"])
    def test_value_within_the_tolerance_passes(self, rule_set: RuleSet, clean: dict, declared: str) -> None:
        assert found(rule_set, with_totals(clean[IM], value=Decimal(declared)), "R202") == []

    @pytest.mark.parametrize("declared", ["4872.02", "4871.98", "5000"])
    def test_value_beyond_the_tolerance_is_rejected(self, rule_set: RuleSet, clean: dict, declared: str) -> None:
        findings = found(rule_set, with_totals(clean[IM], value=Decimal(declared)), "R202")
        assert [f.path for f in findings] == ["/Declaration/Totals/CustomsValueAmount"]
        assert f"value (HKD) is {declared} but the goods items add up to 4872" in findings[0].message_en
        assert "價值（HKD）" in findings[0].message_zh

    def test_mixed_currencies_skip_the_value_total_but_not_the_others(self, rule_set: RuleSet,
                                                                     clean: dict) -> None:
        declaration = with_item(clean[IM], 1, currency="USD", value=Decimal("470.00"))
        assert found(rule_set, declaration, "R202") == []  # HKD 4872 total vs HKD 1200 + USD 470: not comparable
        declaration = with_totals(declaration, goods_item_count=5, value=Decimal("1"))
        assert [f.path for f in found(rule_set, declaration, "R202")] == ["/Declaration/Totals/GoodsItemQuantity"]

    def test_totals_in_the_items_common_foreign_currency_are_checked(self, rule_set: RuleSet, clean: dict) -> None:
        declaration = with_item(with_item(clean[IM], 0, currency="USD", value=Decimal("150")),
                                1, currency="USD", value=Decimal("470"))
        declaration = with_totals(declaration, currency="USD", value=Decimal("600"))
        findings = found(rule_set, declaration, "R202")
        assert [f.path for f in findings] == ["/Declaration/Totals/CustomsValueAmount"]
        assert "value (USD) is 600 but the goods items add up to 620" in findings[0].message_en

    def test_all_three_totals_wrong_gives_three_findings_in_order(self, rule_set: RuleSet, clean: dict) -> None:
        declaration = with_totals(clean[IM], goods_item_count=3, gross_mass=Decimal("1"), value=Decimal("1"))
        assert [f.path.rsplit("/", 1)[1] for f in found(rule_set, declaration, "R202")] == [
            "GoodsItemQuantity", "GrossMassMeasure", "CustomsValueAmount"]


class TestGrossAndNetMass:
    def test_gross_equal_to_net_passes(self, rule_set: RuleSet, clean: dict) -> None:
        assert found(rule_set, with_item(clean[IM], 1, gross_mass=Decimal("8.4")), "R203") == []

    def test_gross_below_net_is_rejected_for_that_item_only(self, rule_set: RuleSet, clean: dict) -> None:
        findings = found(rule_set, with_item(clean[IM], 0, gross_mass=Decimal("2.499")), "R203")
        assert [(f.path, f.severity) for f in findings] == [
            (f"{ITEM}[1]/GoodsMeasure/GrossMassMeasure", Severity.REJECT)]
        assert "gross mass 2.499 kg is below net mass 2.5 kg" in findings[0].message_en


class TestDuplicateGoodsItems:
    def test_distinct_items_pass(self, rule_set: RuleSet, clean: dict) -> None:
        phones = clean[IM].goods_items[0]
        declaration = with_items(clean[IM], phones, replace(phones, sequence=2, net_mass=Decimal("2.4")))
        assert found(rule_set, declaration, "R204") == []

    def test_an_item_repeating_another_is_held_naming_both(self, rule_set: RuleSet, clean: dict) -> None:
        phones, whisky = clean[IM].goods_items
        declaration = with_items(clean[IM], phones, whisky, replace(whisky, sequence=3))
        findings = found(rule_set, declaration, "R204")
        assert [(f.path, f.severity) for f in findings] == [(f"{ITEM}[3]", Severity.HOLD)]
        assert "Goods item 3 repeats goods item 2" in findings[0].message_en

    def test_descriptions_differing_only_in_case_are_duplicates(self, rule_set: RuleSet, clean: dict) -> None:
        phones = clean[IM].goods_items[0]
        copy = replace(phones, sequence=2, description=phones.description.upper())
        assert len(found(rule_set, with_items(clean[IM], phones, copy), "R204")) == 1

    def test_every_repeat_names_the_first_occurrence(self, rule_set: RuleSet, clean: dict) -> None:
        phones = clean[IM].goods_items[0]
        declaration = with_items(clean[IM], phones, replace(phones, sequence=2), replace(phones, sequence=3))
        messages = [f.message_en for f in found(rule_set, declaration, "R204")]
        assert len(messages) == 2
        assert "Goods item 2 repeats goods item 1" in messages[0]
        assert "Goods item 3 repeats goods item 1" in messages[1]


# --- R301-R302: dates -----------------------------------------------------------------------

class TestIssueDate:
    @pytest.mark.parametrize("minutes", [-60 * 24, 0, 9, 10])
    def test_issue_time_up_to_ten_minutes_after_receipt_passes(self, rule_set: RuleSet, clean: dict,
                                                               minutes: int) -> None:
        declaration = replace(clean[IM], issued_at=RECEIVED + timedelta(minutes=minutes))
        assert found(rule_set, declaration, "R301") == []

    @pytest.mark.parametrize("minutes", [10.02, 11, 60 * 24])
    def test_issue_time_more_than_ten_minutes_ahead_is_rejected(self, rule_set: RuleSet, clean: dict,
                                                                minutes: float) -> None:
        issued = RECEIVED + timedelta(minutes=minutes)
        findings = found(rule_set, replace(clean[IM], issued_at=issued), "R301")
        assert [(f.path, f.severity) for f in findings] == [("/Declaration/IssueDateTime", Severity.REJECT)]
        assert issued.strftime("%Y-%m-%d %H:%M:%S HKT") in findings[0].message_en

    def test_the_comparison_is_between_instants_not_wall_clocks(self, rule_set: RuleSet, clean: dict) -> None:
        ok = replace(clean[IM], issued_at=datetime(2026, 11, 21, 2, 9, tzinfo=timezone.utc))  # 10:09 HKT
        late = replace(clean[IM], issued_at=datetime(2026, 11, 21, 2, 11, tzinfo=timezone.utc))  # 10:11 HKT
        assert found(rule_set, ok, "R301") == []
        assert len(found(rule_set, late, "R301")) == 1


    @pytest.mark.parametrize("days", [0, 30, 365, 3650])
    def test_issue_time_up_to_ten_years_before_receipt_passes(self, rule_set: RuleSet, clean: dict, days: int) -> None:
        assert found(rule_set, replace(clean[IM], issued_at=RECEIVED - timedelta(days=days)), "R303") == []

    @pytest.mark.parametrize("issued", [RECEIVED - timedelta(days=3650, seconds=1),
                                        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=-14))),
                                        datetime(1, 1, 1, tzinfo=timezone.utc)])
    def test_issue_time_more_than_ten_years_before_receipt_is_rejected(self, rule_set: RuleSet, clean: dict,
                                                                    issued: datetime) -> None:
        findings = found(rule_set, replace(clean[IM], issued_at=issued), "R303")
        assert [(f.path, f.severity) for f in findings] == [("/Declaration/IssueDateTime", Severity.REJECT)]
        assert re.search(r"IssueDateTime \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}( HKT)? is more than",
                         findings[0].message_en)


def moved(declaration: Declaration, day: date, total_hkd: str | None = None) -> Declaration:
    """``declaration`` with the goods moved on ``day`` (09:00 HKT), its value set to ``total_hkd``."""
    declaration = replace(declaration, movement_at=datetime(day.year, day.month, day.day, 9, 0, tzinfo=HKT))
    if total_hkd is not None:
        rest = sum((item.value for item in declaration.goods_items[1:]), Decimal(0))
        declaration = with_item(declaration, 0, value=Decimal(total_hkd) - rest)
        declaration = with_totals(declaration, value=Decimal(total_hkd))
    return declaration


class TestLateLodgement:
    """domain.md §1: due within 14 days of the movement; penalty by value (<= / > HK$20,000)
    and lodgement within 1 month + 14 days / 2 months + 14 days of the movement / later."""

    @pytest.mark.parametrize("day", [date(2026, 11, 21), date(2026, 11, 10), date(2026, 11, 7)],
                             ids=["same-day", "11-days", "exactly-14-days"])
    def test_lodged_within_14_days_of_the_movement_has_no_penalty(self, rule_set: RuleSet, clean: dict,
                                                                  day: date) -> None:
        assert found(rule_set, moved(clean[IM], day), "R302") == []

    def test_no_movement_date_no_finding(self, rule_set: RuleSet, clean: dict) -> None:
        assert found(rule_set, replace(clean[IM], movement_at=None), "R302") == []

    @pytest.mark.parametrize(("day", "total", "penalty"), [
        (date(2026, 11, 6), "4872.00", "20.00"),    # 1 day late
        (date(2026, 10, 7), "4872.00", "20.00"),    # lodged exactly 1 month + 14 days after
        (date(2026, 10, 6), "4872.00", "40.00"),
        (date(2026, 9, 7), "4872.00", "40.00"),     # exactly 2 months + 14 days after
        (date(2026, 9, 6), "4872.00", "100.00"),
        (date(2025, 11, 21), "4872.00", "100.00"),
        (date(2026, 11, 6), "20000.00", "20.00"),   # the threshold itself is the lower band
        (date(2026, 9, 6), "20000.00", "100.00"),
        (date(2026, 11, 6), "20000.01", "40.00"),
        (date(2026, 10, 7), "20000.01", "40.00"),
        (date(2026, 10, 6), "20000.01", "80.00"),
        (date(2026, 9, 7), "20000.01", "80.00"),
        (date(2026, 9, 6), "20000.01", "200.00"),
    ])
    def test_penalty_bands_by_value_and_lateness(self, rule_set: RuleSet, clean: dict, day: date, total: str,
                                                 penalty: str) -> None:
        findings = found(rule_set, moved(clean[IM], day, total), "R302")
        assert [(f.path, f.severity) for f in findings] == [(f"{CONSIGNMENT}/MovementDateTime", Severity.WARN)]
        assert f"late lodgement penalty HK${penalty}" in findings[0].message_en
        assert f"港幣 {penalty} 元" in findings[0].message_zh
        assert f"from the movement on {day.isoformat()}" in findings[0].message_en

    @pytest.mark.parametrize(("movement", "lodged", "penalty"), [
        (date(2026, 3, 20), date(2026, 5, 4), "20.00"),   # 2026-03-20 + 1 month + 14 days = 2026-05-04
        (date(2026, 1, 20), date(2026, 3, 5), "20.00"),   # 2026-01-20 + 1 month + 14 days = 2026-03-06
        (date(2026, 6, 20), date(2026, 9, 4), "100.00"),  # 2026-06-20 + 2 months + 14 days = 2026-09-03
    ], ids=["2026-03-20-lodged-05-04", "2026-01-20-lodged-03-05", "2026-06-20-lodged-09-04"])
    def test_bands_count_months_and_days_from_the_movement(self, rule_set: RuleSet, clean: dict, movement: date,
                                                           lodged: date, penalty: str) -> None:
        """"Within 1 month and 14 days after the importation": the months are added to the
        movement date, then the 14 days -- not 14 days first and then the months."""
        received = datetime(lodged.year, lodged.month, lodged.day, 10, 0, tzinfo=HKT)
        declaration = replace(moved(clean[IM], movement), issued_at=received - timedelta(hours=1))
        findings = found(rule_set, declaration, "R302", received_at=received)
        assert len(findings) == 1
        assert f"late lodgement penalty HK${penalty}" in findings[0].message_en

    def test_the_value_band_uses_the_value_in_hkd(self, rule_set: RuleSet, clean: dict) -> None:
        # USD 3,000 at HK$7.78 = HK$23,340: above the threshold although 3,000 < 20,000
        declaration = with_item(with_item(moved(clean[IM], date(2026, 11, 6)), 0, currency="USD",
                                          value=Decimal("1500")), 1, currency="USD", value=Decimal("1500"))
        declaration = with_totals(declaration, currency="USD", value=Decimal("3000"))
        findings = found(rule_set, declaration, "R302")
        assert len(findings) == 1 and "HK$40.00" in findings[0].message_en

    def test_days_late_count_from_the_end_of_the_14_days(self, rule_set: RuleSet, clean: dict) -> None:
        findings = found(rule_set, moved(clean[IM], date(2026, 10, 1)), "R302")
        assert "Lodged on 2026-11-21, 37 days after the 14-day period" in findings[0].message_en
        assert "遲了 37 天" in findings[0].message_zh

    def test_days_are_hong_kong_calendar_days(self, rule_set: RuleSet, clean: dict) -> None:
        # 2026-11-06 17:00 UTC is 2026-11-07 01:00 in Hong Kong: exactly 14 days before 2026-11-21
        declaration = replace(clean[IM], movement_at=datetime(2026, 11, 6, 17, 0, tzinfo=timezone.utc))
        assert found(rule_set, declaration, "R302") == []
        # received 2026-11-21 16:00 UTC is 2026-11-22 00:00 in Hong Kong: one day late
        late = found(rule_set, declaration, "R302", received_at=datetime(2026, 11, 21, 16, 0, tzinfo=timezone.utc))
        assert len(late) == 1 and "Lodged on 2026-11-22, 1 days" in late[0].message_en

    def test_exports_are_checked_too(self, rule_set: RuleSet, clean: dict) -> None:
        findings = found(rule_set, moved(clean[EX], date(2026, 9, 6)), "R302")
        assert len(findings) == 1 and "HK$100.00" in findings[0].message_en

    def test_transhipments_are_exempt(self, rule_set: RuleSet, clean: dict) -> None:
        assert found(rule_set, moved(clean[TS], date(2025, 1, 1)), "R302") == []


class TestMovementDate:
    def test_imports_and_exports_need_the_date_of_the_movement(self, rule_set: RuleSet, clean: dict) -> None:
        for kind in (IM, EX):
            findings = found(rule_set, replace(clean[kind], movement_at=None), "R304")
            assert [(f.path, f.severity) for f in findings] == [(f"{CONSIGNMENT}/MovementDateTime", Severity.REJECT)]

    def test_a_transhipment_needs_none(self, rule_set: RuleSet, clean: dict) -> None:
        assert found(rule_set, replace(clean[TS], movement_at=None), "R304") == []

    @pytest.mark.parametrize(("minutes", "refused"), [(0, False), (60, False), (61, True), (60 * 24 * 365, True)])
    def test_a_movement_after_receipt_is_refused_beyond_an_hour(self, rule_set: RuleSet, clean: dict, minutes: int,
                                                                refused: bool) -> None:
        declaration = replace(clean[IM], movement_at=RECEIVED + timedelta(minutes=minutes))
        assert bool(found(rule_set, declaration, "R305")) is refused


class TestLatePenaltyIsCharged:
    """The late-lodgement penalty R302 names is a charge line counted in the total."""

    def test_the_penalty_is_a_charge_line_in_the_total(self, rule_set: RuleSet, clean: dict) -> None:
        on_time = assess(rule_set, clean[IM], RECEIVED).charges
        late = assess(rule_set, moved(clean[IM], date(2026, 9, 6), "20000.01"), RECEIVED).charges
        (line,) = [line for line in late.lines if line.kind == "penalty"]
        assert line.amount == Decimal("200.00") and line.rate == "rule R302" and "HK$200.00" in line.base
        assert late.penalty == Decimal("200.00") and on_time.penalty == Decimal("0.00")
        assert late.total == late.duty_total + late.declaration_charge + late.clothing_levy + Decimal("200.00")

    def test_no_penalty_line_on_time(self, rule_set: RuleSet, clean: dict) -> None:
        assert [line for line in assess(rule_set, clean[IM], RECEIVED).charges.lines if line.kind == "penalty"] == []


def food(declaration: Declaration) -> Declaration:
    """Both goods items turned into food (frozen beef, apples)."""
    declaration = with_item(declaration, 0, hs_code="02023000", description="Frozen boneless beef", documents=())
    return with_item(declaration, 1, hs_code="08081000", description="Apples", documents=(),
                     alcohol_strength=None, volume_litres=None)


def hk_clothing(declaration: Declaration) -> Declaration:
    declaration = with_item(declaration, 0, hs_code="62052000", origin_country="HK", description="Cotton shirts")
    return with_item(declaration, 1, hs_code="61091000", origin_country="HK", description="T-shirts", documents=(),
                     alcohol_strength=None, volume_litres=None)


def reason(declaration: Declaration, index: int, code: str) -> Declaration:
    documents = declaration.goods_items[index].documents
    return with_item(declaration, index, documents=(*documents, AdditionalDocument("CXR", code)))


FORM_RULES = ("R801", "R802", "R803", "R804", "R805")


def form_findings(rule_set: RuleSet, declaration: Declaration) -> list[tuple[str, str | None]]:
    return [(f.code, f.path) for f in found(rule_set, declaration) if f.code in FORM_RULES]


class TestTheFormFollowsTheGoods:
    """C&SD's types of declarations: 1A food only, 1B and 2B with an exemption reason, 2A for
    Hong Kong-made clothing and footwear (with the levy); the wrong form is refused."""

    def test_food_on_form_1a_passes_and_is_charged_flat(self, rule_set: RuleSet, clean: dict) -> None:
        declaration = replace(food(clean[IM]), form_code="1A")
        assert form_findings(rule_set, declaration) == []
        assert assess(rule_set, declaration, RECEIVED).charges.declaration_charge == Decimal("0.20")

    def test_laptops_on_the_food_form_are_refused_item_by_item(self, rule_set: RuleSet, clean: dict) -> None:
        declaration = replace(with_item(food(clean[IM]), 1, hs_code="84713000"), form_code="1A")
        assert form_findings(rule_set, declaration) == [("R802", f"{ITEM}[2]/Commodity/Classification/ID")]

    def test_an_import_without_a_form_code_is_charged_on_the_form_its_goods_call_for(
            self, rule_set: RuleSet, clean: dict) -> None:
        food_only = assess(rule_set, replace(food(clean[IM]), form_code=None), RECEIVED).charges
        mixed = assess(rule_set, replace(clean[IM], form_code=None), RECEIVED).charges
        assert food_only.declaration_charge == Decimal("0.20")
        assert "form 1A (the form the goods call for" in food_only.lines[0].base
        assert "form 1 (the form the goods call for" in mixed.lines[0].base

    def test_hong_kong_clothing_on_form_2_is_refused_and_names_each_item(self, rule_set: RuleSet,
                                                                        clean: dict) -> None:
        declaration = hk_clothing(clean[EX])
        for form in ("2", "2B"):
            assert [code for code, _ in form_findings(rule_set, replace(declaration, form_code=form))
                    if code == "R804"] == ["R804", "R804"]

    def test_hong_kong_clothing_on_form_2a_pays_the_levy(self, rule_set: RuleSet, clean: dict) -> None:
        declaration = replace(hk_clothing(clean[EX]), form_code="2A")
        assert form_findings(rule_set, declaration) == []
        assert assess(rule_set, declaration, RECEIVED).charges.clothing_levy == Decimal("1.50")  # HK$4,872: 5 x 0.30

    def test_an_export_of_hong_kong_clothing_without_a_form_code_is_levied(self, rule_set: RuleSet,
                                                                          clean: dict) -> None:
        declaration = replace(hk_clothing(clean[EX]), form_code=None)
        assert form_findings(rule_set, declaration) == []
        assert assess(rule_set, declaration, RECEIVED).charges.clothing_levy == Decimal("1.50")

    def test_clothing_made_elsewhere_is_not_for_form_2a(self, rule_set: RuleSet, clean: dict) -> None:
        declaration = replace(with_item(hk_clothing(clean[EX]), 0, origin_country="CN"), form_code="2A")
        assert form_findings(rule_set, declaration) == [("R803", f"{ITEM}[1]/Commodity/Classification/ID")]
        made_in_china = replace(with_item(declaration, 1, origin_country="CN"), form_code="2")
        assert form_findings(rule_set, made_in_china) == []

    def test_a_charge_exempt_form_needs_a_listed_reason_that_covers_the_goods(self, rule_set: RuleSet,
                                                                             clean: dict) -> None:
        declaration = replace(clean[IM], form_code="1B")
        assert len(form_findings(rule_set, declaration)) == 2
        covered = reason(reason(declaration, 0, "AIRCRAFT"), 1, "AIRCRAFT")
        assert form_findings(rule_set, covered) == []
        unknown = reason(reason(declaration, 0, "SAMPLES"), 1, "AIRCRAFT")
        findings = [f for f in found(rule_set, unknown, "R805")]
        assert len(findings) == 1 and "SAMPLES is not a charge exemption reason" in findings[0].message_en
        assert findings[0].path == f"{ITEM}[1]/AdditionalDocument"

    def test_a_reason_limited_to_some_goods_covers_only_those(self, rule_set: RuleSet, clean: dict) -> None:
        gold = with_item(replace(clean[IM], form_code="1B"), 0, hs_code="71081210")
        gold = reason(reason(gold, 0, "GOLD"), 1, "GOLD")
        findings = found(rule_set, gold, "R805")
        assert [f.path for f in findings] == [f"{ITEM}[2]/AdditionalDocument"]
        assert "reason GOLD (Gold bars of fineness 995.0 or above) does not cover" in findings[0].message_en

    def test_a_reason_for_imports_does_not_cover_an_export(self, rule_set: RuleSet, clean: dict) -> None:
        export = reason(reason(replace(clean[EX], form_code="2B"), 0, "AIRCRAFT"), 1, "AIRCRAFT")
        assert [code for code, _ in form_findings(rule_set, export)] == ["R805", "R805"]

    def test_an_exempt_form_is_charged_nothing(self, rule_set: RuleSet, clean: dict) -> None:
        covered = reason(reason(replace(clean[IM], form_code="1B"), 0, "AIRCRAFT"), 1, "AIRCRAFT")
        assert assess(rule_set, covered, RECEIVED).charges.declaration_charge == Decimal("0.00")

    @pytest.mark.parametrize(("kind", "form"), [(IM, "2"), (EX, "1"), (EX, "1B"), (TS, "1"), (TS, "2A")])
    def test_a_form_of_another_type_is_refused(self, rule_set: RuleSet, clean: dict, kind: DeclarationType,
                                               form: str) -> None:
        assert ("R801", "/Declaration/FormCode") in form_findings(rule_set, replace(clean[kind], form_code=form))


# --- R401-R402: licences ---------------------------------------------------------------------

def goods(declaration: Declaration, hs_code: str, *documents: tuple[str, str],
          kind: DeclarationType | None = None) -> Declaration:
    """``declaration`` whose second goods item is ``hs_code`` carrying ``documents``."""
    declaration = with_item(declaration, 1, hs_code=hs_code,
                            documents=tuple(AdditionalDocument(t, i) for t, i in documents))
    return replace(declaration, type=kind) if kind is not None else declaration


class TestLicenceRequired:
    @pytest.mark.parametrize(("kind", "hs_code", "licence", "category", "authority", "authority_zh"), [
        (IM, "30049000", "PH", "pharmaceuticals", "Department of Health", "衞生署"),
        (EX, "30049000", "PH", "pharmaceuticals", "Department of Health", "衞生署"),
        (EX, "22083000", "DC", "dutiable liquor", "Customs and Excise Department", "香港海關"),
        (IM, "24022000", "DC", "dutiable tobacco", "Customs and Excise Department", "香港海關"),
        (TS, "93019000", "AR", "arms and ammunition", "Hong Kong Police Force", "香港警務處"),
        (IM, "84011000", "IL", "strategic commodities", "Trade and Industry Department", "工業貿易署"),
        (EX, "84011000", "EL", "strategic commodities", "Trade and Industry Department", "工業貿易署"),
    ])
    def test_mandatory_controls_without_the_licence_are_rejected(
            self, rule_set: RuleSet, clean: dict, kind: DeclarationType, hs_code: str, licence: str,
            category: str, authority: str, authority_zh: str) -> None:
        findings = found(rule_set, goods(clean[kind], hs_code), "R401")
        assert [(f.path, f.severity) for f in findings] == [(f"{ITEM}[2]", Severity.REJECT)]
        message = findings[0].message_en
        for text in (f"Goods item 2 (HS {hs_code})", f"({category})", f"type {licence}", authority):
            assert text in message, (text, message)
        assert authority_zh in findings[0].message_zh and licence in findings[0].message_zh

    @pytest.mark.parametrize(("kind", "hs_code", "document"), [
        (IM, "30049000", ("PH", "PH-2026-000123")),
        (EX, "22083000", ("DC", "DC-2026-000123")),
        (EX, "84011000", ("EL", "SC-EL-2026-000123")),
    ])
    def test_the_licence_of_the_right_type_satisfies_the_control(
            self, rule_set: RuleSet, clean: dict, kind: DeclarationType, hs_code: str,
            document: tuple[str, str]) -> None:
        assert found(rule_set, goods(clean[kind], hs_code, document), "R401") == []

    def test_a_document_of_another_type_does_not_satisfy_the_control(self, rule_set: RuleSet,
                                                                    clean: dict) -> None:
        declaration = goods(clean[IM], "30049000", ("DC", "DC-2026-000123"))
        assert len(found(rule_set, declaration, "R401")) == 1
        declaration = goods(clean[EX], "84011000", ("IL", "SC-IL-2026-000123"))  # an export needs EL
        findings = found(rule_set, declaration, "R401")
        assert len(findings) == 1 and "type EL" in findings[0].message_en

    @pytest.mark.parametrize(("kind", "hs_code"), [
        (IM, "85176200"),  # 851762 strategic commodities: indicative
        (EX, "84715000"),  # 847150 strategic commodities: indicative
        (IM, "22087000"),  # liqueurs: the longer indicative prefix refines the mandatory 2208
        (IM, "85171300"),  # not controlled at all
        (TS, "22083000"),  # liquor controls apply to IM and EX only
    ])
    def test_indicative_or_inapplicable_controls_demand_no_licence(
            self, rule_set: RuleSet, clean: dict, kind: DeclarationType, hs_code: str) -> None:
        assert found(rule_set, goods(clean[kind], hs_code), "R401") == []


class TestLicenceReferenceFormat:
    @pytest.mark.parametrize("identifier", ["DC-26-000123", "DC-2026-00012", "dc-2026-000123", "PH-2026-000123",
                                            "DC-2026-000123X"])
    def test_a_malformed_reference_is_rejected(self, rule_set: RuleSet, clean: dict, identifier: str) -> None:
        findings = found(rule_set, goods(clean[IM], "22083000", ("DC", identifier)), "R402")
        assert [(f.path, f.severity) for f in findings] == [(f"{ITEM}[2]/AdditionalDocument", Severity.REJECT)]
        assert f"Goods item 2: {identifier} is not a valid DC licence reference" in findings[0].message_en
        assert identifier in findings[0].message_zh

    def test_a_well_formed_reference_passes(self, rule_set: RuleSet, clean: dict) -> None:
        assert found(rule_set, goods(clean[IM], "22083000", ("DC", "DC-2026-000123")), "R402") == []

    def test_an_indicative_control_still_checks_a_reference_that_is_given(self, rule_set: RuleSet,
                                                                         clean: dict) -> None:
        findings = found(rule_set, goods(clean[IM], "85176200", ("IL", "IL-123")), "R402")
        assert len(findings) == 1 and "IL-123 is not a valid IL licence reference" in findings[0].message_en

    def test_documents_unrelated_to_the_goods_controls_are_not_checked(self, rule_set: RuleSet,
                                                                      clean: dict) -> None:
        declaration = goods(clean[IM], "85171300", ("DC", "whatever"), ("INV", "INV-1"))
        assert found(rule_set, declaration, "R402") == []

    def test_the_path_points_at_the_malformed_document_among_several(self, rule_set: RuleSet,
                                                                     clean: dict) -> None:
        """Paths name elements the way schema errors do (``paths.py``): with a position
        when the element repeats."""
        declaration = goods(clean[IM], "30049000", ("PH", "PH-2026-000123"), ("PH", "PH-1"))
        findings = found(rule_set, declaration, "R402")
        assert len(findings) == 1
        assert findings[0].path is not None and f"{ITEM}[2]/AdditionalDocument[2]" in findings[0].path


# --- R501-R502: dutiable details -------------------------------------------------------------

class TestDutiableDetails:
    @pytest.mark.parametrize(("changes", "missing_en", "missing_zh"), [
        ({"alcohol_strength": None}, "declare the alcoholic strength (AlcoholStrengthPercent) so",
         "酒精濃度（AlcoholStrengthPercent）"),
        ({"volume_litres": None}, "declare the volume (VolumeMeasure) so", "容量（VolumeMeasure）"),
        ({"alcohol_strength": None, "volume_litres": None},
         "declare the alcoholic strength (AlcoholStrengthPercent), the volume (VolumeMeasure) so",
         "酒精濃度（AlcoholStrengthPercent）、容量（VolumeMeasure）"),
    ])
    def test_liquor_without_strength_or_volume_is_held(self, rule_set: RuleSet, clean: dict, changes: dict,
                                                       missing_en: str, missing_zh: str) -> None:
        findings = found(rule_set, with_item(clean[IM], 1, **changes), "R501")
        assert [(f.path, f.severity) for f in findings] == [(f"{ITEM}[2]/Commodity", Severity.HOLD)]
        assert "Goods item 2 (HS 22083000) is liquor" in findings[0].message_en
        assert missing_en in findings[0].message_en and missing_zh in findings[0].message_zh

    def test_cigarettes_without_stick_count_are_held(self, rule_set: RuleSet, clean: dict) -> None:
        declaration = with_item(clean[IM], 0, hs_code="24022000")
        findings = found(rule_set, declaration, "R502")
        assert [(f.path, f.severity) for f in findings] == [(f"{ITEM}[1]/Commodity", Severity.HOLD)]
        assert "HS 24022000" in findings[0].message_en and "支數（StickQuantity）" in findings[0].message_zh
        assert found(rule_set, with_item(declaration, 0, stick_count=200), "R502") == []

    @pytest.mark.parametrize(("code", "hs_code"), [("R501", "22030000"), ("R502", "24021000")])
    def test_other_goods_of_the_same_chapter_need_no_details(self, rule_set: RuleSet, clean: dict, code: str,
                                                            hs_code: str) -> None:
        declaration = with_item(clean[IM], 1, hs_code=hs_code, alcohol_strength=None, volume_litres=None)
        assert found(rule_set, declaration, code) == []

    @pytest.mark.parametrize("kind", [EX, TS])
    def test_only_imports_are_checked(self, rule_set: RuleSet, clean: dict, kind: DeclarationType) -> None:
        declaration = with_item(clean[kind], 1, alcohol_strength=None, volume_litres=None)
        declaration = with_item(declaration, 0, hs_code="24022000")
        assert [f for f in found(rule_set, declaration) if f.code in ("R501", "R502")] == []


# --- R601-R603: transhipment and parties ----------------------------------------------------

class TestTranshipment:
    def test_one_e_lock_on_any_container_is_enough(self, rule_set: RuleSet, clean: dict) -> None:
        declaration = replace(clean[TS], equipment=(TransportEquipment(1, "CSQU3054383"),
                                                    TransportEquipment(2, "MWCU6059784", (), "EL-1")))
        assert found(rule_set, declaration, "R601") == []

    @pytest.mark.parametrize(("changes", "path", "missing", "missing_zh"), [
        ({"equipment": ()}, f"{CONSIGNMENT}/TransportEquipment", "an e-lock id (ELockID)", "電子鎖編號（ELockID）"),
        ({"departure_location": None}, f"{CONSIGNMENT}/DepartureLocationID", "the origin clearance point",
         "起運清關點"),
        ({"destination_location": None}, f"{CONSIGNMENT}/DestinationLocationID",
         "the destination clearance point", "目的地清關點"),
        ({"destination_location": "HKKCG"}, f"{CONSIGNMENT}/DestinationLocationID",
         "a destination different from the origin", "有別於起運地的目的地"),
    ], ids=["no-elock", "no-origin", "no-destination", "same-origin-and-destination"])
    def test_a_transhipment_without_e_lock_or_route_is_rejected(
            self, rule_set: RuleSet, clean: dict, changes: dict, path: str, missing: str, missing_zh: str) -> None:
        findings = found(rule_set, replace(clean[TS], **changes), "R601")
        assert [(f.path, f.severity) for f in findings] == [(path, Severity.REJECT)]
        assert f"A transhipment under e-lock needs {missing}" in findings[0].message_en
        assert missing_zh in findings[0].message_zh

    def test_everything_missing_gives_one_finding_each(self, rule_set: RuleSet, clean: dict) -> None:
        declaration = replace(clean[TS], equipment=(), departure_location=None, destination_location=None)
        assert [f.path for f in found(rule_set, declaration, "R601")] == [
            f"{CONSIGNMENT}/TransportEquipment", f"{CONSIGNMENT}/DepartureLocationID",
            f"{CONSIGNMENT}/DestinationLocationID"]

    @pytest.mark.parametrize("kind", [IM, EX])
    def test_imports_and_exports_need_no_e_lock(self, rule_set: RuleSet, clean: dict, kind: DeclarationType) -> None:
        declaration = replace(clean[kind], equipment=(), departure_location=None, destination_location=None)
        assert found(rule_set, declaration, "R601") == []


class TestPartiesPresent:
    @pytest.mark.parametrize(("kind", "role", "code", "zh"), [
        (IM, PartyRole.IMPORTER, "R602", "進口商"), (EX, PartyRole.EXPORTER, "R603", "出口商")])
    def test_a_missing_importer_or_exporter_is_a_warning(self, rule_set: RuleSet, clean: dict,
                                                         kind: DeclarationType, role: PartyRole, code: str,
                                                         zh: str) -> None:
        findings = found(rule_set, without_party(clean[kind], role), code)
        assert [(f.path, f.severity) for f in findings] == [("/Declaration", Severity.WARN)]
        assert f"does not name the {role.value}" in findings[0].message_en
        assert findings[0].message_zh == f"報關單未列明{zh}"

    def test_each_type_asks_only_for_its_own_party(self, rule_set: RuleSet, clean: dict) -> None:
        assert [f for f in found(rule_set, without_party(clean[IM], PartyRole.EXPORTER))
                if f.code in ("R602", "R603")] == []
        assert [f for f in found(rule_set, without_party(clean[EX], PartyRole.IMPORTER))
                if f.code in ("R602", "R603")] == []
        assert [f for f in found(rule_set, clean[TS]) if f.code in ("R602", "R603")] == []


# --- R306-R307: the cargo the goods moved under ----------------------------------------------

class TestCargoMovement:
    def test_the_penalty_runs_from_the_cargos_crossing_when_the_date_is_left_out(
            self, rule_set: RuleSet, clean: dict[DeclarationType, Declaration]) -> None:
        """Leaving MovementDateTime out no longer refuses (R304) a declaration whose cargo customs
        saw cross: the crossing is the movement, and the late-lodgement penalty (R302) follows."""
        crossed = datetime(2026, 10, 30, 9, 0, tzinfo=HKT)
        declaration = replace(clean[IM], movement_at=None, previous_documents=(PreviousDocument("CRN", CARGO_REF),))
        assessed = assess(rule_set, declaration, RECEIVED, None, {("CRN", CARGO_REF): crossed})
        codes = {f.code for f in assessed.findings}
        assert "R304" not in codes and {"R302", "R307"} <= codes
        assert assessed.charges.total > assess(rule_set, clean[IM], RECEIVED).charges.total

    def test_a_later_stated_date_does_not_avoid_the_penalty(
            self, rule_set: RuleSet, clean: dict[DeclarationType, Declaration]) -> None:
        crossed = datetime(2026, 10, 30, 9, 0, tzinfo=HKT)
        declaration = replace(clean[IM], previous_documents=(PreviousDocument("CRN", CARGO_REF),))
        assert found(rule_set, declaration, "R302", cargo_lines={("CRN", CARGO_REF): crossed})

    def test_cargo_not_yet_moved_leaves_the_stated_date(
            self, rule_set: RuleSet, clean: dict[DeclarationType, Declaration]) -> None:
        declaration = replace(clean[IM], previous_documents=(PreviousDocument("CRN", CARGO_REF),))
        assert found(rule_set, declaration, cargo_lines={("CRN", CARGO_REF): None}) == []

    def test_unknown_documents_are_not_checked_without_a_look_up(
            self, rule_set: RuleSet, clean: dict[DeclarationType, Declaration]) -> None:
        declaration = replace(clean[IM], previous_documents=(PreviousDocument("AWB", "16012345675"),))
        assert found(rule_set, declaration, "R306") == []
        assert [f.path for f in found(rule_set, declaration, "R306", cargo_lines={})] == [
            f"{CONSIGNMENT}/PreviousDocument[1]/ID"]


@fuzz_settings(500)
@given(st.text(alphabet=st.sampled_from("ABCDJRUZX0123456789 -–a\u0660"), min_size=0, max_size=14)
       | st.from_regex(r"[A-Z]{3}[UJZR][0-9]{7}", fullmatch=True))
def test_container_numbers_are_judged_as_python_stdnum_judges_them(number: str) -> None:
    assert container_number_valid(number) is iso6346.is_valid(number)


def test_a_plain_container_number_is_checked_by_its_digit() -> None:
    assert container_number_valid("CSQU3054383") and iso6346.is_valid("CSQU3054383")
    assert not container_number_valid("CSQU3054384")
