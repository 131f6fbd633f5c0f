"""Property-based fuzzing of intake: ``Intake.receive_declaration`` on hostile bytes.

(a) Arbitrary bytes (binary, text-ish XML soup in several encodings, byte-level mutations
    of a valid document) only ever come back as a declaration or a ``Rejection``, each
    within a second.
(b) Structured mutations of a valid document (element text replaced with random strings,
    numbers or dates; elements deleted or duplicated; attributes added; comments and
    processing instructions slipped in) likewise; and whenever one is accepted, the mapped
    ``Declaration`` is what the document says (item count, Decimals, values as the schema
    reads them: comments and PIs are not part of a value) and ``assess`` on it does not raise.

Deterministic (``derandomize``) and without an example database, so CI runs are
repeatable and no failing examples are saved between runs. ``deadline`` is off because the
first invalid document compiles the detailed schema once (~0.2 s); each call's time is
asserted explicitly instead.
"""
from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from app.config import PROJECT_ROOT
from app.domain.declaration import Declaration
from app.domain.problems import Problem, Rejection
from app.domain.declaration import ReceivedDeclaration
from app.intake.service import Intake
from app.rules.assessment import RuleSet, assess
from app.web.envelope import STATUS_BY_CODE
from tests.factories import declaration_xml
from tests.fuzzing import fuzz_settings
from tests.timing import own_cpu

INTAKE = Intake(PROJECT_ROOT / "schemas")
RULES = RuleSet.load(PROJECT_ROOT / "rules")
HKT = timezone(timedelta(hours=8), "HKT")
RECEIVED = datetime(2026, 11, 21, 10, 0, tzinfo=HKT)
NS = "urn:csw:declaration:v1"
Q = "{" + NS + "}"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
MASS_TO_KG = {"KGM": Decimal(1), "GRM": Decimal("0.001"), "TNE": Decimal(1000)}

FUZZ = fuzz_settings()

# a richer valid document than the factory's default: every optional part the mapping reads
RICH_GOODS = """
    <GovernmentAgencyGoodsItem>
      <SequenceNumeric>1</SequenceNumeric>
      <Commodity>
        <Description>Scotch whisky, 0.7 L bottles</Description>
        <Classification><ID>22083000</ID></Classification>
        <DutiableDetails>
          <AlcoholStrengthPercent>40</AlcoholStrengthPercent>
          <VolumeMeasure unitCode="LTR">8.4</VolumeMeasure>
        </DutiableDetails>
      </Commodity>
      <Origin><CountryCode>GB</CountryCode></Origin>
      <Packaging><TypeCode>CS</TypeCode><QuantityQuantity>1</QuantityQuantity></Packaging>
      <GoodsMeasure>
        <TariffQuantity unitCode="C62">12</TariffQuantity>
        <NetMassMeasure unitCode="KGM">8.4</NetMassMeasure>
        <GrossMassMeasure unitCode="TNE">0.0156</GrossMassMeasure>
      </GoodsMeasure>
      <CustomsValueAmount currencyID="USD">472.00</CustomsValueAmount>
      <AdditionalDocument><TypeCode>DC</TypeCode><ID>DC-2026-000123</ID></AdditionalDocument>
    </GovernmentAgencyGoodsItem>
    <GovernmentAgencyGoodsItem>
      <SequenceNumeric>2</SequenceNumeric>
      <Commodity>
        <Description>Cigarettes</Description>
        <Classification><ID>24022000</ID></Classification>
        <DutiableDetails>
          <StickQuantity>2000</StickQuantity>
          <LengthMeasure unitCode="MMT">84</LengthMeasure>
        </DutiableDetails>
      </Commodity>
      <Origin><CountryCode>JP</CountryCode></Origin>
      <GoodsMeasure>
        <TariffQuantity unitCode="MIL">2</TariffQuantity>
        <NetMassMeasure unitCode="GRM">1800</NetMassMeasure>
        <GrossMassMeasure unitCode="KGM">2.1</GrossMassMeasure>
      </GoodsMeasure>
      <CustomsValueAmount currencyID="HKD">5000.00</CustomsValueAmount>
    </GovernmentAgencyGoodsItem>"""
RICH_CONSIGNMENT = (
    "<DepartureLocationID>CNSZX</DepartureLocationID><DestinationLocationID>HKHKG</DestinationLocationID>"
    "<MovementDateTime>2026-11-19T08:00:00+08:00</MovementDateTime>"
    "<TransportEquipment><SequenceNumeric>1</SequenceNumeric><ID>CSQU3054383</ID>"
    "<Seal><ID>SL0001</ID></Seal><ELockID>EL-000001</ELockID></TransportEquipment>"
)
RICH = declaration_xml(goods=RICH_GOODS, consignment_extra=RICH_CONSIGNMENT).replace(
    b"</GoodsShipment>",
    b"</GoodsShipment><Totals><GoodsItemQuantity>2</GoodsItemQuantity>"
    b'<GrossMassMeasure unitCode="KGM">17.7</GrossMassMeasure>'
    b'<CustomsValueAmount currencyID="HKD">5472.00</CustomsValueAmount></Totals>')
BASES = {n: declaration_xml(lrn=f"LRN-FUZZ-{n}", items=n) for n in (1, 2, 3)} | {0: RICH}


def test_the_bases_are_valid() -> None:
    """The mutations start from valid documents (else (b) would only test rejections)."""
    for n, body in BASES.items():
        received = INTAKE.receive_declaration(body)
        assert len(received.declaration.goods_items) == (n or 2)
        assess(RULES, received.declaration, RECEIVED)


# --- checking one call -----------------------------------------------------------------

def receive(body: bytes) -> ReceivedDeclaration | None:
    """The declaration, or None for a well-formed ``Rejection``; anything else propagates."""
    with own_cpu() as spent:  # CPU of this thread: immune to a loaded machine (and to a collection)
        try:
            return INTAKE.receive_declaration(body)
        except Rejection as rejection:
            assert rejection.code in STATUS_BY_CODE, rejection
            assert 400 <= STATUS_BY_CODE[rejection.code] < 500, rejection
            assert rejection.message
            assert all(isinstance(p, Problem) and p.message for p in rejection.problems), rejection.problems
            return None
        finally:
            elapsed = spent()
            assert elapsed < 1.0, f"receive_declaration took {elapsed:.2f} s of CPU on {body[:200]!r}"


# --- (a) arbitrary bytes -----------------------------------------------------------------

TOKENS = [
    "<", ">", "</", "/>", "=", '"', "'", " ", "\n", "&", ";", "&amp;", "&lt;", "&#x41;", "&#1;", "&#0;",
    '<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.0" encoding="UTF-16"?>', "<?pi x?>", "?>",
    "<!--", "-->", "<![CDATA[", "]]>", "<!DOCTYPE Declaration [", '<!ENTITY e "x">', "&e;", "]>",
    f'<Declaration xmlns="{NS}">', "</Declaration>", "<d:Declaration xmlns:d=\"" + NS + "\">",
    "<FunctionCode>9</FunctionCode>", "<FunctionalReferenceID>L1</FunctionalReferenceID>",
    "<TypeCode>IM</TypeCode>", "<IssueDateTime>2026-11-20T09:30:00</IssueDateTime>",
    "<Declarant><Name>N</Name><ID>12345678</ID></Declarant>", "<GoodsShipment>", "</GoodsShipment>",
    "<Consignment><TransportModeCode>3</TransportModeCode></Consignment>",
    "<GovernmentAgencyGoodsItem>", "</GovernmentAgencyGoodsItem>", 'currencyID="HKD"', 'unitCode="KGM"',
    f'xmlns:xsi="{XSI}"', 'xsi:schemaLocation="urn:x http://127.0.0.1:9/x.xsd"',
    "\ufeff", "\x00", "\x01", "\ufffe", "\ud800", "中文", "📦", "\u202e",
]
ENCODINGS = ["utf-8", "utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "latin-1"]


@st.composite
def xml_soup(draw: st.DrawFn) -> bytes:
    parts = draw(st.lists(st.one_of(st.sampled_from(TOKENS), st.text(max_size=8)), max_size=40))
    text = "".join(parts)
    encoding = draw(st.sampled_from(ENCODINGS))
    bom = draw(st.sampled_from([b"", b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"]))
    errors = "replace" if encoding == "latin-1" else "surrogatepass"
    return bom + text.encode(encoding, errors=errors)


@st.composite
def byte_mutations(draw: st.DrawFn) -> bytes:
    """A valid document with a few bytes flipped, inserted or deleted, or cut short."""
    body = bytearray(draw(st.sampled_from(list(BASES.values()))))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(body) - 1))
        action = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        if action == "flip":
            body[at] = draw(st.integers(0, 255))
        elif action == "insert":
            body[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif action == "delete":
            del body[at:at + draw(st.integers(1, 16))]
        else:
            del body[at:]
        if not body:
            break
    return bytes(body)


@FUZZ
@given(st.binary(max_size=4096))
def test_arbitrary_binary_is_received_or_rejected(body: bytes) -> None:
    receive(body)


@FUZZ
@given(st.one_of(xml_soup(), st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass"))))
def test_text_ish_bytes_are_received_or_rejected(body: bytes) -> None:
    receive(body)


@FUZZ
@given(byte_mutations())
def test_byte_mutations_of_a_valid_document_are_received_or_rejected(body: bytes) -> None:
    received = receive(body)
    if received is not None:
        check_consistent(received)


# --- (b) structured mutations ------------------------------------------------------------

XML_CHAR = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff") | \
    st.sampled_from("\t\n\r ")
TEXTS = st.text(XML_CHAR, max_size=40)
NUMBERS = st.one_of(
    st.integers(-10**6, 10**25).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=None).map(str),
    st.decimals(min_value=0, max_value=10**18, places=6).map(lambda d: f"{d:f}"),
    st.sampled_from(["0", "-0", "+5", "0005", ".5", "5.", "1e400", "NaN", "INF", "-INF", "1.0000001",
                     "999999999999999999", "9999999999999999999", "0.000001", " 12 ", "1 000", "٣"]),
    st.integers(0, 10**60).map(str),
)
DATES = st.one_of(
    st.datetimes(timezones=st.one_of(st.none(), st.sampled_from(
        [timezone.utc, HKT, timezone(timedelta(hours=14)), timezone(timedelta(hours=-14))]))).map(
        lambda d: d.isoformat()),
    st.sampled_from(["0001-01-01T00:00:00", "9999-12-31T23:59:59+14:00", "9999-12-31T23:59:59-14:00",
                     "2026-02-30T00:00:00", "2026-11-20T24:00:00", "-0001-01-01T00:00:00", "10000-01-01T00:00:00",
                     "2026-11-20T09:30:00.1234567890+08:00", "2026-11-20"]),
)
CODES = st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_/."), max_size=12)
VALUES = st.one_of(TEXTS, NUMBERS, DATES, CODES)
ATTRIBUTE_NAMES = st.sampled_from([
    "currencyID", "unitCode", "schemaVersion", "id", "foo", f"{{{XSI}}}nil", f"{{{XSI}}}type",
    f"{{{XSI}}}schemaLocation", f"{{{XSI}}}noNamespaceSchemaLocation", "{urn:x}a",
    "{http://www.w3.org/XML/1998/namespace}lang",
])
MUTATION = st.one_of(
    st.tuples(st.just("text"), st.integers(0, 10**6), VALUES),
    st.tuples(st.just("delete"), st.integers(0, 10**6), st.none()),
    st.tuples(st.just("duplicate"), st.integers(0, 10**6), st.none()),
    st.tuples(st.just("attribute"), st.integers(0, 10**6),
              st.tuples(ATTRIBUTE_NAMES, st.one_of(CODES, TEXTS, NUMBERS))),
    st.tuples(st.just("comment"), st.integers(0, 10**6), st.booleans()),
    st.tuples(st.just("pi"), st.integers(0, 10**6), st.booleans()),
    st.tuples(st.just("cdata"), st.integers(0, 10**6), st.none()),
)


def mutate(base: bytes, mutations: list[tuple[str, int, object]]) -> bytes:
    root = etree.fromstring(base)
    for action, index, argument in mutations:
        elements = list(root.iter(etree.Element))
        element = elements[index % len(elements)]
        parent = element.getparent()
        if action == "text":
            element.text = str(argument)
        elif action == "delete" and parent is not None:
            parent.remove(element)
        elif action == "duplicate" and parent is not None:
            element.addnext(copy.deepcopy(element))
        elif action == "attribute":
            name, value = argument  # type: ignore[misc]
            element.set(name, str(value))
        elif action in ("comment", "pi"):
            node = etree.Comment(" c ") if action == "comment" else etree.ProcessingInstruction("pi", "x")
            # inside the value (before its text) or just before the element's first child
            if argument or len(element) == 0:
                node.tail, element.text = element.text, None
                element.insert(0, node)
            else:
                element[0].addprevious(node)
        elif action == "cdata" and len(element) == 0 and element.text:
            element.text = etree.CDATA(element.text)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def schema_text(element: etree._Element | None) -> str:
    """A simple element's value as the schema reads it: its character data, CDATA included,
    comments and processing instructions left out."""
    assert element is not None
    return element.xpath("string()").strip()


def check_consistent(received: ReceivedDeclaration) -> None:
    """The mapped declaration says what the accepted document says, and can be assessed."""
    declaration = received.declaration
    assert isinstance(declaration, Declaration)
    root = etree.fromstring(received.body)
    items = root.findall(f"{Q}GoodsShipment/{Q}GovernmentAgencyGoodsItem")
    assert len(declaration.goods_items) == len(items)
    assert declaration.lrn == schema_text(root.find(f"{Q}FunctionalReferenceID"))
    assert declaration.function_code.value == schema_text(root.find(f"{Q}FunctionCode"))
    for item, element in zip(declaration.goods_items, items):
        for name in ("quantity", "net_mass", "gross_mass", "value"):
            assert isinstance(getattr(item, name), Decimal), (name, getattr(item, name))
            assert getattr(item, name).is_finite()
        measure = element.find(f"{Q}GoodsMeasure")
        net, gross = measure.find(f"{Q}NetMassMeasure"), measure.find(f"{Q}GrossMassMeasure")
        assert item.sequence == int(schema_text(element.find(f"{Q}SequenceNumeric")))
        assert item.description == schema_text(element.find(f"{Q}Commodity/{Q}Description"))
        assert item.hs_code == schema_text(element.find(f"{Q}Commodity/{Q}Classification/{Q}ID"))
        assert item.quantity == Decimal(schema_text(measure.find(f"{Q}TariffQuantity")))
        assert item.net_mass == Decimal(schema_text(net)) * MASS_TO_KG[net.get("unitCode")]
        assert item.gross_mass == Decimal(schema_text(gross)) * MASS_TO_KG[gross.get("unitCode")]
        assert item.value == Decimal(schema_text(element.find(f"{Q}CustomsValueAmount")))
    assessed = assess(RULES, declaration, RECEIVED)
    assert assessed.charges.total >= 0


@FUZZ
@given(base=st.sampled_from(sorted(BASES)), mutations=st.lists(MUTATION, min_size=1, max_size=4))
def test_structured_mutations_are_received_consistently_or_rejected(
        base: int, mutations: list[tuple[str, int, object]]) -> None:
    body = mutate(BASES[base], mutations)
    received = receive(body)
    if received is not None:
        check_consistent(received)
