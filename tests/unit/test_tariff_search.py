"""Tariff search by everyday words, in English and Chinese: synonyms are data
(``rules/codelists/hs_synonyms.csv``), descriptions come from the tariff list and HS 2022."""
from __future__ import annotations

import pytest

from app.config import PROJECT_ROOT
from app.portal.codelists import CodeLists, load, stem


@pytest.fixture(scope="module")
def codes() -> CodeLists:
    return load(PROJECT_ROOT / "rules")


@pytest.mark.parametrize(("query", "first"), [
    ("laptop", "84713000"), ("Laptop computers", "84713000"), ("whisky", "22083000"), ("WHISKIES", "22083000"),
    ("red wine", "22042100"), ("mobile phone", "85171300"), ("smartphones", "85171300"),
    ("手提電腦", "84713000"), ("威士忌", "22083000"), ("紅酒", "22042100"), ("香煙", "24022000"),
    ("84713", "84713000"),
])
def test_everyday_words_find_the_item(codes: CodeLists, query: str, first: str) -> None:
    assert codes.search_hs(query)[0].code == first


def test_wine_finds_wine_not_swine(codes: CodeLists) -> None:
    found = [c.code for c in codes.search_hs("wine")]
    assert found and all(code.startswith("22") for code in found)
    assert "01039200" in [c.code for c in codes.search_hs("swine")]


def test_words_the_list_lacks_point_to_hs_2022_subheadings(codes: CodeLists) -> None:
    assert codes.search_hs("perfume") == []
    assert codes.search_subheadings("perfume")[0].code == "330300"
    assert codes.search_subheadings("") == [] and codes.search_subheadings("8471") == []


def test_plurals_fold_to_their_word() -> None:
    assert [stem(w) for w in ("whiskies", "boxes", "wines", "glass", "bus")] == ["whisky", "box", "wine", "glass",
                                                                                "bus"]
