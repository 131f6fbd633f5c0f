import random
from datetime import datetime, timedelta, timezone

from stdnum.iso7064 import mod_37_36

from app.domain.reference import (
    ALPHABET,
    RANDOM_LENGTH,
    TIME_LENGTH,
    is_valid_declaration_reference,
    is_valid_reference,
    new_declaration_reference,
    new_event_id,
    new_reference,
)

NOW = datetime(2026, 11, 21, tzinfo=timezone.utc)


def test_reference_has_documented_shape_and_a_valid_check_character() -> None:
    reference = new_declaration_reference(NOW)
    assert len(reference) == 16
    assert reference.startswith("HK26D")
    assert is_valid_declaration_reference(reference)


def test_every_single_character_typo_is_caught() -> None:
    reference = new_declaration_reference(NOW)
    for position in range(5, len(reference)):
        for replacement in ALPHABET:
            if replacement == reference[position]:
                continue
            typo = reference[:position] + replacement + reference[position + 1:]
            assert not is_valid_declaration_reference(typo), typo


def test_nearly_all_adjacent_transpositions_are_caught() -> None:
    """A hybrid ISO 7064 system (MOD 37,36) catches every single-character typo but not every
    swap of two neighbours: about 1 in 600 slips through (a pure system such as MOD 37-2 would
    need a 37th check character, outside the reference's alphabet). Seeded, so it is the
    scheme that is measured, not luck."""
    rng = random.Random(7)
    swaps = missed = 0
    for _ in range(2000):
        body = "HK26D" + "".join(rng.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
        reference = body + mod_37_36.calc_check_digit(body)
        assert is_valid_declaration_reference(reference)
        for position in range(5, len(reference) - 1):
            a, b = reference[position], reference[position + 1]
            if a != b:
                swaps += 1
                missed += is_valid_declaration_reference(reference[:position] + b + a + reference[position + 2:])
    assert missed / swaps < 0.005, f"{missed} of {swaps} adjacent transpositions undetected"


def test_malformed_references_are_refused() -> None:
    for bad in ["", "HK26D", "hk26dabcdefghijk", "XX26DABCDEFGHIJK", "HK26DABCDEFGHIJK1", "HK26D/../../etc"]:
        assert not is_valid_declaration_reference(bad)


def test_declaration_references_issued_later_sort_after_earlier_ones() -> None:
    """Its time part keeps the indexes on a declaration's reference filling at their end."""
    moments = [NOW + timedelta(milliseconds=100 * n + 7 * (n % 3)) for n in range(0, 3000, 7)]
    references = [new_declaration_reference(moment) for moment in moments]
    assert references == sorted(references)
    assert all(is_valid_declaration_reference(reference) for reference in references)
    assert len({reference[5:5 + TIME_LENGTH] for reference in references}) == len(moments)


def test_declaration_references_issued_at_one_moment_differ_by_chance() -> None:
    """Five random characters: 60 million references per tenth of a second. Two drawn alike
    are told apart when stored (tests/service/test_lodging_together.py); here, 2,000 drawn at one
    moment are expected to repeat about once in thirty runs, and never by more than a few."""
    references = [new_declaration_reference(NOW) for _ in range(2000)]
    assert len({reference[:5 + TIME_LENGTH] for reference in references}) == 1
    assert len(set(references)) >= 1995


def test_demand_references_are_wholly_random() -> None:
    references = [new_reference(NOW, "M") for _ in range(2000)]
    assert len(set(references)) == 2000 and all(is_valid_reference(reference, "M") for reference in references)
    assert len({reference[5:10] for reference in references}) > 1900


def test_event_ids_are_32_hex_characters_in_time_order() -> None:
    ids = [new_event_id(NOW + timedelta(milliseconds=n)) for n in range(200)]
    assert ids == sorted(ids) and len(set(ids)) == 200
    assert all(len(event_id) == 32 and int(event_id, 16) >= 0 for event_id in ids)
