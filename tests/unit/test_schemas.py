"""Schema registry: namespaces as versions, fast validation, precise explanations."""
from decimal import Decimal
from typing import Any

import pytest

from app.config import PROJECT_ROOT
from app.domain.declaration import DeclarationType, PartyRole
from app.domain.problems import Rejection
from app.platform.xml import parse_untrusted
from app.platform.schemas import SchemaRegistry
from app.intake.service import Intake
from tests.factories import declaration_xml
from tests.timing import own_cpu

SCHEMAS = PROJECT_ROOT / "schemas"


@pytest.fixture(scope="module")
def intake() -> Intake:
    return Intake(SCHEMAS, max_problems=25)


def test_registry_knows_every_schema_by_namespace() -> None:
    registry = SchemaRegistry(SCHEMAS)
    assert registry.supported("declaration") == ["urn:csw:declaration:v1", "urn:csw:declaration:v2"]
    assert "urn:csw:response:v1" in registry.entries
    assert "urn:csw:response:v2" in registry.entries
    assert "urn:csw:cancellation:v1" in registry.entries


def test_unknown_version_lists_supported_namespaces(intake: Intake) -> None:
    with pytest.raises(Rejection) as caught:
        intake.receive_declaration(declaration_xml(namespace="urn:csw:declaration:v9"))
    assert caught.value.code == "UNKNOWN_SCHEMA"
    assert "urn:csw:declaration:v9" in caught.value.message
    assert "urn:csw:declaration:v1" in caught.value.message


def test_response_document_is_not_a_declaration(intake: Intake) -> None:
    with pytest.raises(Rejection) as caught:
        intake.receive_declaration(b'<Acknowledgement xmlns="urn:csw:response:v1"/>')
    assert caught.value.code == "UNKNOWN_SCHEMA"


def test_invalid_document_names_path_line_rule_and_value(intake: Intake) -> None:
    body = declaration_xml(items=3).replace(b"<ID>85171300</ID>", b"<ID>8517130</ID>", 2)
    with pytest.raises(Rejection) as caught:
        intake.receive_declaration(body)
    rejection = caught.value
    assert rejection.code == "SCHEMA_INVALID"
    paths = [p.path for p in rejection.problems]
    assert paths == [
        "/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]/Commodity/Classification/ID",
        "/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[2]/Commodity/Classification/ID",
    ]
    first = rejection.problems[0]
    assert first.rule == "xsd:pattern"
    assert "8517130" in first.message
    lines = body.decode().splitlines()
    assert "8517130" in lines[first.line - 1]


def test_problems_are_capped(intake: Intake) -> None:
    body = declaration_xml(items=60, hs_code="123")
    with pytest.raises(Rejection) as caught:
        intake.receive_declaration(body)
    assert len(caught.value.problems) == 25


def test_missing_attribute_and_enumeration_rules(intake: Intake) -> None:
    body = declaration_xml(type_code="XX").replace(b' currencyID="HKD"', b"")
    with pytest.raises(Rejection) as caught:
        intake.receive_declaration(body)
    rules = {(p.path, p.rule) for p in caught.value.problems}
    assert ("/Declaration/TypeCode", "xsd:enumeration") in rules
    assert ("/Declaration/GoodsShipment/GovernmentAgencyGoodsItem/CustomsValueAmount", "xsd:attribute") in rules


def test_duplicate_goods_item_sequence_is_refused(intake: Intake) -> None:
    body = declaration_xml(items=2).replace(b"<SequenceNumeric>2</SequenceNumeric>",
                                            b"<SequenceNumeric>1</SequenceNumeric>")
    with pytest.raises(Rejection) as caught:
        intake.receive_declaration(body)
    assert caught.value.code == "SCHEMA_INVALID"
    assert any(p.rule == "xsd:unique" for p in caught.value.problems)


def test_valid_document_maps_to_domain(intake: Intake) -> None:
    received = intake.receive_declaration(declaration_xml(lrn="LRN-MAP-1", items=2))
    declaration = received.declaration
    assert declaration.lrn == "LRN-MAP-1"
    assert declaration.type is DeclarationType.IMPORT
    assert declaration.declarant.role is PartyRole.DECLARANT
    assert declaration.declarant.identifier == "12345678"
    assert [g.sequence for g in declaration.goods_items] == [1, 2]
    assert declaration.goods_items[0].value == Decimal("1200.00")
    assert declaration.control_point == "HKLMC"
    assert len(received.sha256) == 64


def test_grams_are_recorded_as_kilograms(intake: Intake) -> None:
    body = declaration_xml().replace(b'<NetMassMeasure unitCode="KGM">2.5', b'<NetMassMeasure unitCode="GRM">2500')
    item = intake.receive_declaration(body).declaration.goods_items[0]
    assert item.net_mass == Decimal("2.5")


def test_out_of_range_issue_date_is_a_clear_rejection(intake: Intake) -> None:
    body = declaration_xml().replace(b"2026-11-20T09:30:00+08:00", b"2026-11-20T24:00:00+08:00")
    with pytest.raises(Rejection) as caught:
        intake.receive_declaration(body)
    assert caught.value.code in {"VALUE_OUT_OF_RANGE", "SCHEMA_INVALID"}
    assert caught.value.problems[0].path == "/Declaration/IssueDateTime"


def test_element_paths_are_positional_only_for_repeats() -> None:
    from app.platform.schemas import element_path

    tree = parse_untrusted(declaration_xml(items=2))
    ns = "{urn:csw:declaration:v1}"
    items = tree.getroot().findall(f"{ns}GoodsShipment/{ns}GovernmentAgencyGoodsItem")
    assert element_path(items[1].find(f"{ns}Origin")) == (
        "/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[2]/Origin")
    assert element_path(tree.getroot().find(f"{ns}TypeCode")) == "/Declaration/TypeCode"


def test_messages_use_plain_element_names_and_attribute_values(intake: Intake) -> None:
    body = declaration_xml().replace(b"<FunctionalReferenceID>LRN-TEST-0001</FunctionalReferenceID>", b"")
    body = body.replace(b'<NetMassMeasure unitCode="KGM">', b'<NetMassMeasure unitCode="LBR">')
    with pytest.raises(Rejection) as caught:
        intake.receive_declaration(body)
    messages = " ".join(p.message for p in caught.value.problems)
    assert "'FunctionalReferenceID' expected" in messages
    assert "{urn:" not in messages and "'d:" not in messages
    unit = next(p for p in caught.value.problems if "unitCode" in p.message)
    assert "LBR" in unit.message and "found '2.5'" not in unit.message


def test_a_huge_offending_value_is_not_echoed_back_whole(intake: Intake) -> None:
    body = declaration_xml().replace(b'currencyID="HKD"', b'currencyID="' + b"X" * 1_000_000 + b'"')
    with pytest.raises(Rejection) as caught:
        intake.receive_declaration(body)
    assert all(len(problem.message) < 400 for problem in caught.value.problems)
    assert any("more characters" in problem.message for problem in caught.value.problems)


def test_a_large_invalid_document_is_explained_quickly_with_precise_paths(intake: Intake) -> None:
    too_many = declaration_xml(items=1000)
    with own_cpu() as spent, pytest.raises(Rejection) as caught:  # this thread's CPU: immune to a loaded machine
        intake.receive_declaration(too_many)
    assert spent() < 0.3
    problem = caught.value.problems[0]
    assert problem.path == "/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1000]"
    assert problem.rule == "xsd:content" and problem.line is not None
    with pytest.raises(Rejection) as caught:
        intake.receive_declaration(declaration_xml(items=600, hs_code="123"))
    problems = caught.value.problems
    assert len(problems) == 25
    assert problems[1].path == "/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[2]/Commodity/Classification/ID"
    assert problems[1].rule == "xsd:pattern" and "'123'" in problems[1].message and "{urn:" not in problems[1].message


def _v1_type(name: str) -> Any:
    import xmlschema

    return xmlschema.XMLSchema(str(SCHEMAS / "declaration" / "v1" / "declaration.xsd")).types[name]


def _names_below(content_type: Any, skip: str = "") -> list[str]:
    """The local names of every element below ``content_type``, depth first, leaving out
    elements named ``skip`` and what is below them."""
    found = []
    for element in content_type.content.iter_elements():
        if element.local_name == skip:
            continue
        found.append(element.local_name)
        if element.type.has_complex_content():
            found += _names_below(element.type, skip)
    return found


def test_goods_item_element_names_are_unique_before_its_documents() -> None:
    """The v1 mapper reads a goods item's fields by element name in one pass that stops at the
    first AdditionalDocument (``app/intake/mapping._Fields``); that is only right while no name
    repeats below a goods item outside its documents."""
    item_type = _v1_type("GovernmentAgencyGoodsItemType")
    below = _names_below(item_type, skip="AdditionalDocument")
    children = [element.local_name for element in item_type.content.iter_elements()]
    assert children[-1] == "AdditionalDocument"  # the pass stops there: nothing of the item may follow
    assert {"ID", "TypeCode", "Description", "QuantityQuantity"} <= set(below)
    assert len(below) == len(set(below)), sorted(below)


def test_party_element_names_are_unique_below_a_party() -> None:
    """The v1 mapper reads a party's fields by element name in one pass over its subtree
    (``Address/Line`` as ``Line``); that is only right while no name repeats below a party."""
    below = _names_below(_v1_type("PartyType"))
    assert {"ID", "Name", "AEOCertificateID", "Line", "CityName", "CountryCode"} <= set(below)
    assert len(below) == len(set(below)), sorted(below)


# --- issue 19: the cost of refusing a hostile document is bounded ---------------------------

def _attribute_flood(count: int) -> bytes:
    attributes = b" ".join(b'a%d="x"' % n for n in range(count))
    return declaration_xml().replace(b"<GoodsShipment>", b"<GoodsShipment " + attributes + b">", 1)


def _empty_goods_items(count: int) -> bytes:
    base = declaration_xml()
    start = base.index(b"<GovernmentAgencyGoodsItem>")
    end = base.index(b"</GovernmentAgencyGoodsItem>") + len(b"</GovernmentAgencyGoodsItem>")
    return base[:start] + b"<GovernmentAgencyGoodsItem/>" * count + base[end:]


def test_an_attribute_flood_is_explained_without_the_detailed_validator(intake: Intake,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """xmlschema builds an error per undeclared attribute, each echoing the whole attribute map
    (5,000 attributes took minutes): past the bound, libxml2's log explains the document."""
    detailed_calls: list[int] = []
    original = SchemaRegistry._detailed_problems
    monkeypatch.setattr(SchemaRegistry, "_detailed_problems",
                        lambda *args: detailed_calls.append(1) or original(*args))
    with own_cpu() as spent, pytest.raises(Rejection) as caught:
        intake.receive_declaration(_attribute_flood(5000))
    assert spent() < 2.0
    assert detailed_calls == []
    problems = caught.value.problems
    assert caught.value.code == "SCHEMA_INVALID" and len(problems) == 25
    assert {(p.path, p.rule) for p in problems} == {("/Declaration/GoodsShipment", "xsd:attribute")}
    assert "'a0'" in problems[0].message and "not allowed" in problems[0].message and problems[0].line


def test_a_few_undeclared_attributes_keep_the_detailed_explanation(intake: Intake) -> None:
    with pytest.raises(Rejection) as caught:
        intake.receive_declaration(_attribute_flood(3))
    problems = caught.value.problems
    assert [(p.path, p.rule) for p in problems] == [("/Declaration/GoodsShipment", "xsd:attribute")] * 3


def test_more_attributes_than_any_document_needs_are_refused_when_parsed() -> None:
    from app.platform.xml import MAX_ATTRIBUTES

    assert parse_untrusted(_attribute_flood(MAX_ATTRIBUTES - 100)) is not None
    with pytest.raises(Rejection) as caught:
        parse_untrusted(_attribute_flood(MAX_ATTRIBUTES + 1))
    assert caught.value.code == "XML_FORBIDDEN"
    assert [p.rule for p in caught.value.problems] == ["attribute-limit"]
    assert str(MAX_ATTRIBUTES) in caught.value.message


def test_text_full_of_equals_signs_is_not_mistaken_for_attributes() -> None:
    from app.platform.xml import MAX_ATTRIBUTES

    body = declaration_xml().replace(b"Smartphones, model 1", b"=" * (MAX_ATTRIBUTES + 1))
    assert parse_untrusted(body) is not None


def test_100k_empty_goods_items_are_refused_by_the_problem_cap_not_the_item_count(intake: Intake) -> None:
    body = _empty_goods_items(100_000)
    with own_cpu() as spent, pytest.raises(Rejection) as caught:
        intake.receive_declaration(body)
    assert spent() < 1.0  # was 3.5 s: each path rebuilt the 100k-sibling list
    problems = caught.value.problems
    assert len(problems) == 25
    assert [p.path for p in problems[:2]] == ["/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]",
                                               "/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[2]"]


def test_element_paths_visit_siblings_in_proportion_to_the_problems() -> None:
    """Naming the n-th of many repeated elements walks back at most to the last one named."""
    from app.platform.schemas import ElementPaths

    tree = parse_untrusted(_empty_goods_items(10_000))
    ns = "{urn:csw:declaration:v1}"
    items = tree.getroot().findall(f"{ns}GoodsShipment/{ns}GovernmentAgencyGoodsItem")
    paths = ElementPaths()
    assert [paths.of(items[n]) for n in (0, 1, 2)] == [
        f"/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[{n}]" for n in (1, 2, 3)]
    assert paths.siblings_visited <= 10
    assert paths.of(items[9_998]).endswith("GovernmentAgencyGoodsItem[9999]")
    assert paths.of(items[9_999]).endswith("GovernmentAgencyGoodsItem[10000]")
    assert paths.siblings_visited <= 10_010


def test_the_libxml2_log_is_read_only_up_to_the_problem_cap(intake: Intake) -> None:
    """libxml2 logs every problem; explaining reads no more of the log than the cap needs."""
    from types import SimpleNamespace

    read: list[int] = []

    class Log:
        def __iter__(self):  # type: ignore[no-untyped-def]
            for n in range(100_000):
                read.append(n)
                yield SimpleNamespace(path="/*/*[6]", line=7, message=(
                    f"Element 'GoodsShipment', attribute 'a{n}': The attribute 'a{n}' is not allowed."))

    tree = parse_untrusted(declaration_xml())
    entry = SimpleNamespace(fast=SimpleNamespace(error_log=Log()))
    problems = SchemaRegistry._libxml2_problems(entry, tree, 25)  # type: ignore[arg-type]
    assert len(problems) == 25 and len(read) == 25
    assert problems[0].path == "/Declaration/GoodsShipment" and problems[0].rule == "xsd:attribute"

    read.clear()

    class Repeats:
        def __iter__(self):  # type: ignore[no-untyped-def]
            for n in range(100_000):
                read.append(n)
                yield SimpleNamespace(path="/*/*[6]", line=7, message="Element 'GoodsShipment': repeated.")

    problems = SchemaRegistry._libxml2_problems(SimpleNamespace(fast=SimpleNamespace(error_log=Repeats())),  # type: ignore[arg-type]
                                                tree, 25)
    assert len(problems) == 1 and len(read) < 100_000


# --- issue 19: a declaration's issue date-time is an instant ---------------------------------

def test_an_issue_date_time_without_a_time_zone_is_refused(intake: Intake) -> None:
    body = declaration_xml().replace(b"2026-11-20T09:30:00+08:00", b"2026-11-20T09:30:00")
    with pytest.raises(Rejection) as caught:
        intake.receive_declaration(body)
    assert caught.value.code == "VALUE_OUT_OF_RANGE"
    [problem] = caught.value.problems
    assert (problem.path, problem.rule) == ("/Declaration/IssueDateTime", "date-zone")
    assert "2026-11-20T09:30:00" in problem.message and problem.line


def test_a_movement_date_time_without_a_time_zone_is_hong_kong_time(intake: Intake) -> None:
    """The movement happens at a Hong Kong control point: its local time is Hong Kong time."""
    from datetime import datetime

    from app.domain.time import HONG_KONG

    body = declaration_xml(movement_at="2026-11-19T08:00:00")
    declaration = intake.receive_declaration(body).declaration
    assert declaration.movement_at == datetime(2026, 11, 19, 8, 0, tzinfo=HONG_KONG)
