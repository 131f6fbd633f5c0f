"""Property-based fuzzing of assessment: ``assess`` on arbitrary ``Declaration`` objects.

Declarations are built directly (not through the schema), so they may hold what no valid
document can: HS codes with letters, unknown countries, currencies and units, zero and huge
quantities, masses and values, zero volumes and stick counts, far-past and far-future
dates, odd containers and seals, parties claiming AEO certificates with any standing.
Whatever comes in, ``assess``:

* does not raise;
* yields findings whose code is a rule of the rule set, with a severity and both messages
  filled in (no ``{field}`` left over);
* yields charges that are non-negative ``Decimal`` amounts with
  ``total == duty_total + declaration_charge + clothing_levy + penalty``, that ``charges_record``
  can store;

and the checks that compute with dates and amounts answer for any of them rather than
fail to evaluate (the engine's "could not be evaluated" hold is a last resort for a broken
check, not a verdict on odd input: ``app.rules.checks`` promises that checks never raise).

Deterministic (``derandomize``), no example database (no examples saved between runs);
``deadline`` off, assess of a large declaration is timed explicitly instead.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal, localcontext

from hypothesis import given
from hypothesis import strategies as st

from app.config import PROJECT_ROOT
from app.domain.declaration import (
    AdditionalDocument,
    Declaration,
    DeclarationType,
    FunctionCode,
    GoodsItem,
    Party,
    PartyRole,
    Totals,
    TransportEquipment,
)
from app.domain.findings import Severity
from app.domain.assessment import Assessed, charges_record
from app.rules.assessment import RuleSet, assess
from tests.fuzzing import fuzz_settings
from tests.timing import timed

RULES = RuleSet.load(PROJECT_ROOT / "rules")
RULE_CODES = frozenset(rule.code for rule in RULES.rules)
HKT = timezone(timedelta(hours=8), "HKT")
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
NOT_EVALUATED = "could not be evaluated"

FUZZ = fuzz_settings()


@dataclass(frozen=True, slots=True)
class Standing:
    """An AEO registry standing as the checks read it (``app.rules.checks.AeoStandingView``)."""

    operator_id: str
    tier: int
    status: str
    recognised: bool
    reason: str


# --- strategies ------------------------------------------------------------------------

# free text never holds braces, so a brace left in a message can only be a placeholder
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="{}"), max_size=12)
UPPER_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
KNOWN_HS = sorted(code for code, entry in RULES.code_lists.hs_codes.items() if entry.level == "item")
DUTIABLE_HS = sorted({(rule.hs_prefix + "00000000")[:8] for rule in RULES.rates.commodities}
                     | {rule.hs_prefix for rule in RULES.rates.commodities})
CONTROLLED_HS = sorted({(c.hs_prefix + "00000000")[:8] for c in RULES.code_lists.controlled_goods})

HS_CODES = st.one_of(
    st.sampled_from(KNOWN_HS), st.sampled_from(DUTIABLE_HS), st.sampled_from(CONTROLLED_HS),
    st.text("0123456789", max_size=10), st.text(UPPER_DIGITS + ".- ", max_size=10), TEXT,
)
COUNTRIES = st.one_of(st.sampled_from(sorted(RULES.code_lists.countries)), st.just("HK"),
                      st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", max_size=3), TEXT)
CURRENCIES = st.one_of(st.sampled_from(["HKD", "USD", "CNY", "EUR", "GBP", "JPY", "MOP", "hkd", " USD "]),
                       st.sampled_from(sorted(RULES.code_lists.currencies)), st.just(""), TEXT)
UNITS = st.one_of(st.sampled_from(sorted(RULES.code_lists.units) + ["LTR", "MIL", "MTQ", "CLT", "MLT", "C62"]),
                  st.just(""), TEXT)
HUGE = [Decimal("999999999999999999"), Decimal("999999999999999999.999999"), Decimal("1E+21"),
        Decimal("123456789012345678901234567890"), Decimal("0.000001"), Decimal("-0")]
AMOUNTS = st.one_of(
    st.just(Decimal(0)),
    st.decimals(min_value=0, max_value=10**6, places=2),
    st.decimals(min_value=0, max_value=10**21, places=6),
    st.sampled_from(HUGE),
    st.decimals(min_value=-1000, max_value=Decimal("-0.01"), places=2),
)
OPTIONAL_AMOUNTS = st.none() | AMOUNTS
COUNTS = st.none() | st.integers(-5, 10**40)
ZONES = [timezone.utc, HKT, timezone(timedelta(hours=14)), timezone(timedelta(hours=-14))]
DATES = st.one_of(
    st.datetimes(timezones=st.sampled_from(ZONES)),
    st.builds(lambda moment, zone: moment.replace(tzinfo=zone),  # the very ends of the calendar
              st.sampled_from([datetime.min, datetime(1, 1, 1, 23, 59), datetime(9999, 12, 17),
                               datetime(9999, 12, 31, 8), datetime.max]), st.sampled_from(ZONES)),
)
RECEIVED = st.one_of(
    st.datetimes(min_value=datetime(2023, 1, 1), max_value=datetime(2031, 12, 31),
                 timezones=st.sampled_from([timezone.utc, HKT])),
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(timezone.utc)),
)
IDENTIFIERS = st.one_of(
    st.text("0123456789", min_size=8, max_size=8),
    st.tuples(st.sampled_from(["SG", "CN", "US", "JP", "HK", "XX", "KR"]),
              st.text(UPPER_DIGITS, min_size=4, max_size=12)).map("".join),
    st.sampled_from(["12345678", "87654321", "SG12345678", "CN1234567890"]),
    st.text(UPPER_DIGITS, max_size=10), TEXT,
)
CONTAINERS = st.one_of(st.sampled_from(["CSQU3054383", "MWCU6059784", "CSQU3054384"]),
                       st.text(UPPER_DIGITS, max_size=12), TEXT)
LOCATIONS = st.none() | st.sampled_from(sorted(RULES.code_lists.locations)) | st.text(UPPER_DIGITS, max_size=6)
STATUSES = ["active", "suspended", "revoked", "expired", "withdrawn"]
LICENCE_TYPES = sorted({c.licence_type for c in RULES.code_lists.controlled_goods} | {"DC", "IL", "EL"})


@st.composite
def goods_items(draw: st.DrawFn, sequence: int) -> GoodsItem:
    return GoodsItem(
        sequence=draw(st.one_of(st.just(sequence), st.integers(-1, 1000))),
        description=draw(st.one_of(TEXT, st.just("Smartphones"))),
        hs_code=draw(HS_CODES),
        origin_country=draw(COUNTRIES),
        quantity=draw(AMOUNTS),
        quantity_unit=draw(UNITS),
        net_mass=draw(AMOUNTS),
        gross_mass=draw(AMOUNTS),
        mass_unit=draw(st.sampled_from(["KGM", "KGM", "GRM", ""])),
        value=draw(AMOUNTS),
        currency=draw(CURRENCIES),
        alcohol_strength=draw(st.none() | st.decimals(min_value=0, max_value=100, places=2) | st.sampled_from(
            [Decimal(0), Decimal(30), Decimal("30.01"), Decimal(100), Decimal(250)])),
        volume_litres=draw(OPTIONAL_AMOUNTS),
        stick_count=draw(COUNTS),
        length_mm=draw(OPTIONAL_AMOUNTS),
        package_type=draw(st.none() | st.sampled_from(sorted(RULES.code_lists.package_types)) | TEXT),
        package_count=draw(COUNTS),
        documents=tuple(draw(st.lists(st.builds(
            AdditionalDocument, st.sampled_from(LICENCE_TYPES) | TEXT,
            st.builds("SC-{}-{:04d}-{:06d}".format, st.sampled_from(["IL", "EL"]), st.integers(0, 9999),
                      st.integers(0, 999999)) | TEXT), max_size=3))),
    )


@st.composite
def parties(draw: st.DrawFn) -> tuple[Party, ...]:
    roles = [PartyRole.DECLARANT] + draw(st.lists(
        st.sampled_from([PartyRole.IMPORTER, PartyRole.EXPORTER, PartyRole.CARRIER]), unique=True, max_size=3))
    return tuple(Party(role=role, identifier=draw(IDENTIFIERS), name=draw(TEXT),
                       address_line=draw(st.none() | TEXT), city=draw(st.none() | TEXT),
                       country=draw(st.none() | COUNTRIES), aeo_id=draw(st.none() | IDENTIFIERS))
                 for role in roles)


@st.composite
def declarations(draw: st.DrawFn) -> Declaration:
    count = draw(st.integers(0, 4))
    items = tuple(draw(goods_items(n)) for n in range(1, count + 1))
    equipment = tuple(
        TransportEquipment(sequence=draw(st.integers(0, 100)), container_id=draw(CONTAINERS),
                           seal_ids=tuple(draw(st.lists(st.text(UPPER_DIGITS + "-", max_size=36) | TEXT,
                                                        max_size=3))),
                           elock_id=draw(st.none() | st.text(UPPER_DIGITS + "-", max_size=12)))
        for _ in range(draw(st.integers(0, 3))))
    totals = draw(st.none() | st.builds(Totals, st.integers(0, 1000), AMOUNTS, AMOUNTS, CURRENCIES))
    return Declaration(
        function_code=draw(st.sampled_from(FunctionCode)),
        lrn=draw(st.text(UPPER_DIGITS + "-", min_size=1, max_size=35)),
        type=draw(st.sampled_from(DeclarationType)),
        issued_at=draw(DATES),
        parties=draw(parties()),
        transport_mode=draw(st.sampled_from("12345789") | TEXT),
        goods_items=items,
        form_code=draw(st.none() | st.sampled_from(["1", "1A", "1B", "2", "2A", "2B", "2a", " 1 "]) | TEXT),
        ucr=draw(st.none() | TEXT),
        conveyance_id=draw(st.none() | TEXT),
        control_point=draw(st.none() | st.sampled_from(sorted(RULES.code_lists.control_points)) | TEXT),
        departure_location=draw(LOCATIONS),
        destination_location=draw(LOCATIONS),
        movement_at=draw(st.none() | DATES),
        equipment=equipment,
        totals=totals,
    )


@st.composite
def cases(draw: st.DrawFn) -> tuple[Declaration, datetime, dict[str, Standing] | None]:
    """A declaration, when it is received, and the registry's standing of some of its ids."""
    declaration = draw(declarations())
    ids = sorted({p.identifier for p in declaration.parties} | {p.aeo_id for p in declaration.parties if p.aeo_id})
    known = draw(st.lists(st.sampled_from(ids), unique=True))  # the registry knows some of them
    standings = {
        operator_id: Standing(operator_id, tier=draw(st.sampled_from([1, 2])),  # the registry's only tiers
                              status=draw(st.sampled_from(STATUSES) | TEXT),
                              recognised=draw(st.booleans()), reason=draw(TEXT))
        for operator_id in known
    }
    return declaration, draw(RECEIVED), draw(st.none() | st.just(standings))


# --- properties ------------------------------------------------------------------------

def check_findings(assessed: Assessed) -> None:
    for finding in assessed.findings:
        assert finding.code in RULE_CODES, finding
        assert isinstance(finding.severity, Severity), finding
        for message in (finding.message_en, finding.message_zh):
            assert isinstance(message, str) and message.strip(), finding
            assert not PLACEHOLDER.search(message), f"unfilled placeholder in {message!r}"


def check_charges(assessed: Assessed) -> None:
    charges = assessed.charges
    amounts = {"duty_total": charges.duty_total, "declaration_charge": charges.declaration_charge,
               "clothing_levy": charges.clothing_levy, "penalty": charges.penalty, "total": charges.total}
    for name, amount in amounts.items():
        assert isinstance(amount, Decimal) and amount.is_finite(), (name, amount)
        assert amount >= 0, (name, amount, charges)
    with localcontext() as exact:  # the default 28 digits would round a sum of huge amounts
        exact.prec = 200
        assert charges.total == (charges.duty_total + charges.declaration_charge + charges.clothing_levy
                                 + charges.penalty), charges
    for line in charges.lines:
        assert isinstance(line.amount, Decimal) and line.amount.is_finite() and line.amount >= 0, line
    assert charges.value_hkd is None or (isinstance(charges.value_hkd, Decimal) and charges.value_hkd >= 0)
    charges_record(charges)


@fuzz_settings(150)
@given(cases())
def test_assess_never_raises_and_answers_in_shape(case: tuple[Declaration, datetime, dict[str, Standing]]) -> None:
    declaration, received_at, standings = case
    assessed = assess(RULES, declaration, received_at, standings)
    check_findings(assessed)
    check_charges(assessed)
    assert assessed.rules_version == RULES.version
    assert isinstance(assessed.aeo, dict) and assessed.aeo["reasons"]


VALID = Declaration(
    FunctionCode.ORIGINAL, "LRN-1", DeclarationType.IMPORT, datetime(2026, 11, 20, 9, 30, tzinfo=HKT),
    (Party(PartyRole.DECLARANT, "12345678", "Demo Trading Company Limited"),
     Party(PartyRole.IMPORTER, "87654321", "Harbour Imports Limited")), "3",
    (GoodsItem(1, "Smartphones", "85171300", "CN", Decimal(10), "PCE", Decimal("2.5"), Decimal(3), "KGM",
               Decimal("1200.00"), "HKD"),),
    control_point="HKLMC")


@fuzz_settings(150)
@given(issued_at=DATES, movement_at=st.none() | DATES, received_at=RECEIVED, value=AMOUNTS,
       totals=st.none() | st.builds(Totals, st.integers(0, 1000), AMOUNTS, AMOUNTS, CURRENCIES))
def test_no_check_fails_to_evaluate_on_any_date_or_amount(issued_at: datetime, movement_at: datetime | None,
                                                          received_at: datetime, value: Decimal,
                                                          totals: Totals | None) -> None:
    """The checks that compute with dates and amounts (lodgement period, issue date, totals)
    answer for every date a document can carry, instead of raising into the engine's
    "could not be evaluated" hold. (Generic declarations raise no other check: the
    date- and amount-free checks are covered by the test above.)"""
    declaration = replace(VALID, issued_at=issued_at, movement_at=movement_at, totals=totals,
                          goods_items=(replace(VALID.goods_items[0], value=value),))
    assessed = assess(RULES, declaration, received_at)
    check_findings(assessed)
    broken = [f for f in assessed.findings if NOT_EVALUATED in f.message_en]
    assert not broken, f"rules {[f.code for f in broken]} could not be evaluated"


def test_assess_of_999_items_is_fast() -> None:
    item = GoodsItem(1, "Smartphones", "85171300", "CN", Decimal(10), "PCE", Decimal("2.5"), Decimal(3), "KGM",
                     Decimal("1200.00"), "HKD")
    declaration = Declaration(FunctionCode.ORIGINAL, "LRN-1", DeclarationType.IMPORT,
                              datetime(2026, 11, 20, 9, 30, tzinfo=HKT),
                              (Party(PartyRole.DECLARANT, "12345678", "Demo"),), "3",
                              tuple(GoodsItem(**{**{f: getattr(item, f) for f in item.__slots__}, "sequence": n,
                                                 "description": f"Smartphones {n}"}) for n in range(1, 1000)))
    assessed, cpu_seconds = timed(lambda: assess(RULES, declaration, datetime(2026, 11, 21, 10, 0, tzinfo=HKT)))
    assert cpu_seconds < 1.0
    check_findings(assessed)
    check_charges(assessed)
