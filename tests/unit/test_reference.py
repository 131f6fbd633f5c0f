from datetime import datetime, timezone

from app.domain.reference import ALPHABET, is_valid_declaration_reference, new_declaration_reference

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


def test_adjacent_transpositions_are_caught() -> None:
    reference = new_declaration_reference(NOW)
    for position in range(5, len(reference) - 1):
        a, b = reference[position], reference[position + 1]
        if a == b:
            continue
        swapped = reference[:position] + b + a + reference[position + 2:]
        assert not is_valid_declaration_reference(swapped)


def test_malformed_references_are_refused() -> None:
    for bad in ["", "HK26D", "hk26dabcdefghijk", "XX26DABCDEFGHIJK", "HK26DABCDEFGHIJK1", "HK26D/../../etc"]:
        assert not is_valid_declaration_reference(bad)


def test_references_do_not_repeat() -> None:
    assert len({new_declaration_reference(NOW) for _ in range(2000)}) == 2000
