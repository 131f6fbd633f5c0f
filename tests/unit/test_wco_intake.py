"""WCO DEC-DMS documents read through the Hong Kong profile (schema v2): what is converted,
what is reported, and how a problem is named."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from lxml import etree

from app.config import PROJECT_ROOT
from app.domain.declaration import DeclarationType, PartyRole
from app.domain.problems import Rejection
from app.intake import wco
from app.intake.service import Intake

SAMPLE = (PROJECT_ROOT / "samples/wco/valid/import-dec-dms-2-items.xml").read_bytes()


@pytest.fixture(scope="module")
def intake() -> Intake:
    return Intake(PROJECT_ROOT / "schemas")


def test_a_dec_dms_document_becomes_the_domain_declaration(intake: Intake) -> None:
    declaration = intake.receive_declaration(SAMPLE).declaration
    assert declaration.type is DeclarationType.IMPORT
    assert declaration.issued_at == datetime(2026, 11, 9, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    assert [item.hs_code for item in declaration.goods_items] == ["19053100", "21069099"]
    assert [item.value for item in declaration.goods_items] == [Decimal("18200.00"), Decimal("23000.00")]
    assert declaration.goods_items[1].quantity_unit == "KGM"  # no TariffQuantity: the net mass
    assert declaration.previous_documents[0].type_code == "AWB"  # WCO code 740
    assert {p.role for p in declaration.parties} >= {PartyRole.DECLARANT, PartyRole.AGENT, PartyRole.IMPORTER}
    particulars = declaration.particulars
    assert particulars is not None and particulars.profile == "dec-dms" and particulars.path_root == "/MetaData"
    assert particulars.national_type_code == "IMA"
    assert particulars.exchange_rate == Decimal("9.85")
    kinds = {note.kind for note in particulars.notes}
    assert kinds == {"outside-profile", "type-code", "commodity-code"}


def test_the_declaration_alone_without_its_envelope_is_read_too(intake: Intake) -> None:
    tree = etree.fromstring(SAMPLE)
    alone = tree.find("{urn:wco:datamodel:WCO:DEC-DMS:2}Declaration")
    body = etree.tostring(alone)
    declaration = intake.receive_declaration(body).declaration
    assert declaration.particulars is not None and declaration.particulars.path_root == ""
    assert declaration.lrn == "DTC-DMS-2026-0301"


@pytest.mark.parametrize(("string", "code", "zone", "expected"), [
    ("20261109093000+08", "304", True, "2026-11-09T09:30:00+08:00"),
    ("20261109093000-0530", "304", True, "2026-11-09T09:30:00-05:30"),
    ("20261109093000", "304", True, "2026-11-09T09:30:00+08:00"),
    ("20261109", "102", False, "2026-11-09T00:00:00"),
    ("2026-11-09", "102", False, "2026-11-09 (formatCode 102)"),
])
def test_date_time_strings_become_xs_date_times(string: str, code: str, zone: bool, expected: str) -> None:
    element = etree.fromstring(f'<IssueDateTime xmlns:p="urn:wco:datamodel:WCO:Declaration_DS:DMS:2">'
                               f'<p:DateTimeString formatCode="{code}">{string}</p:DateTimeString></IssueDateTime>')
    assert wco._date_time(element, zone) == expected


def test_an_unreadable_date_is_refused_at_its_wco_path(intake: Intake) -> None:
    body = SAMPLE.replace(b'formatCode="304">20261109093000+08</p1:DateTimeString>\n    </IssueDateTime>',
                          b'formatCode="304">9 Nov 2026</p1:DateTimeString>\n    </IssueDateTime>')
    with pytest.raises(Rejection) as caught:
        intake.receive_declaration(body)
    assert caught.value.code == "RULES_REJECTED"
    assert caught.value.problems[0].path == "/MetaData/Declaration/IssueDateTime"
    assert caught.value.problems[0].rule == "R950"
    assert caught.value.problems[0].message_zh


def test_an_unknown_declaration_type_is_refused_at_its_wco_path(intake: Intake) -> None:
    with pytest.raises(Rejection) as caught:
        intake.receive_declaration(SAMPLE.replace(b"<TypeCode>IMA</TypeCode>", b"<TypeCode>XYZ</TypeCode>"))
    assert [p.path for p in caught.value.problems] == ["/MetaData/Declaration/TypeCode"]


def test_without_an_issue_date_the_acceptance_date_is_used_and_said(intake: Intake) -> None:
    start = SAMPLE.index(b"<IssueDateTime>")
    end = SAMPLE.index(b"</IssueDateTime>") + len(b"</IssueDateTime>")
    declaration = intake.receive_declaration(SAMPLE[:start] + SAMPLE[end:]).declaration
    assert declaration.issued_at == datetime(2026, 11, 9, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    assert declaration.particulars is not None
    assert ("issue-date", "/MetaData/Declaration/IssueDateTime") in {
        (n.kind, n.path) for n in declaration.particulars.notes}


def test_a_cancellation_is_read_as_one(intake: Intake) -> None:
    body = (b'<Declaration xmlns="urn:wco:datamodel:WCO:DEC-DMS:2"><FunctionCode>13</FunctionCode>'
            b"<ID>HK26D0000000001</ID><TypeCode>INV</TypeCode><Amendment><ChangeReasonCode>1</ChangeReasonCode>"
            b"</Amendment></Declaration>")
    cancelled = intake.receive_document(body)
    assert isinstance(cancelled, wco.WcoCancellation)
    assert cancelled.reference == "HK26D0000000001"
    assert "change reason 1" in cancelled.reason


def test_a_flood_of_unknown_elements_is_reported_in_few_findings(intake: Intake) -> None:
    extra = b"".join(b"<Extra%d>x</Extra%d>" % (n, n) for n in range(200))
    body = SAMPLE.replace(b"<GoodsItemQuantity>", extra + b"<GoodsItemQuantity>")
    declaration = intake.receive_declaration(body).declaration
    assert declaration.particulars is not None
    assert len(declaration.particulars.notes) == wco.MAX_NOTES + 1


def test_v2_reads_every_seal_and_routing_country(intake: Intake) -> None:
    body = (PROJECT_ROOT / "samples/v2/valid/import-5-items.xml").read_bytes().replace(
        b"<ID>CSL4821907</ID>\n        </Seal>",
        b"<ID>CSL4821907</ID>\n        </Seal>\n        <Seal>\n          <ID>CSL4821908</ID>\n        </Seal>")
    declaration = intake.receive_declaration(body).declaration
    assert declaration.equipment[0].seal_ids == ("CSL4821907", "CSL4821908")
    assert declaration.equipment[0].is_container
    assert declaration.particulars is not None and declaration.particulars.routing_countries == ("CN", "HK")


def test_equipment_that_is_not_a_container_is_not_held_to_iso_6346(intake: Intake) -> None:
    body = (PROJECT_ROOT / "samples/v2/valid/import-5-items.xml").read_bytes().replace(
        b"<ID>CSQU3054383</ID>\n        <CharacteristicCode>45G1</CharacteristicCode>",
        b"<ID>TB-88213</ID>\n        <CharacteristicCode>TB</CharacteristicCode>")
    equipment = intake.receive_declaration(body).declaration.equipment[0]
    assert (equipment.container_id, equipment.is_container, equipment.type_code) == ("TB-88213", False, "TB")
