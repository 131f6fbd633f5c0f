"""``XmlVocabulary.to_xml`` writes payloads as text: its bytes must be those of the lxml tree
it replaced (``tree_xml``) for every payload, and what it cannot write is left to the tree."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from app.documents import RESPONSE_V2_XML, RESPONSE_XML, XmlVocabulary
from app.routing.messages import ROUTING_XML
from tests.fuzzing import fuzz_settings

KEYS = st.sampled_from(["id", "lrn", "message", "message_zh", "received_datetime", "findings", "errors",
                        "goods_items", "risk", "lane", "sha256", "value_hkd", "code", "x"])
SCALARS = (st.none() | st.booleans() | st.integers() | st.text() | st.decimals(allow_nan=False)
           | st.datetimes(timezones=st.just(timezone(timedelta(hours=8))))
           | st.text(alphabet=st.sampled_from("&<>\r\n\t\"' 中\x00\x01\ud800\ufffe\U0001f600]]>")))
PAYLOADS = st.recursive(SCALARS, lambda children: st.lists(children, max_size=3)
                        | st.dictionaries(KEYS, children, max_size=4), max_leaves=20)


def _outcome(write: Callable[[str, dict[str, Any]], bytes], payload: dict[str, Any]) -> object:
    """The bytes written, or the refusal (its type and words)."""
    try:
        return write("Acknowledgement", payload)
    except Exception as exc:  # noqa: BLE001 - the refusals themselves are compared
        return type(exc), str(exc)


@fuzz_settings(300)
@given(st.dictionaries(KEYS, PAYLOADS, max_size=6))
def test_text_writer_writes_the_bytes_of_the_tree(payload: dict[str, Any]) -> None:
    for vocabulary in (RESPONSE_XML, RESPONSE_V2_XML, ROUTING_XML):
        assert _outcome(vocabulary.to_xml, payload) == _outcome(vocabulary.tree_xml, payload)


def test_an_acknowledgement_is_written_as_before() -> None:
    payload = {"conversation_id": "c-1", "declaration_id": "D1", "lrn": "L&<1>", "status": "accepted",
               "version": 1, "received_datetime": datetime(2026, 12, 6, 8, 0, tzinfo=timezone.utc),
               "replay": False, "findings": [{"code": "R301", "severity": "warn", "path": None,
                                              "message": "late\r\n", "message_zh": "逾期"}],
               "risk": {"lane": "green", "reasons": []}, "empty": "", "value": Decimal("1.50")}
    written = RESPONSE_XML.to_xml("Acknowledgement", payload)
    assert written == RESPONSE_XML.tree_xml("Acknowledgement", payload)
    assert b"<LRN>L&amp;&lt;1&gt;</LRN>" in written and b"<Reasons/>" in written and b"<Empty></Empty>" in written


def test_an_embedded_element_is_left_to_the_tree() -> None:
    stored = etree.fromstring(b'<Message xmlns="urn:other">hi</Message>')
    payload = {"messages": [{"id": 1, "body": stored}]}
    vocabulary = XmlVocabulary("urn:csw:test:v1", words={"id": "ID"}, item_names={"messages": "Message"})
    written = vocabulary.to_xml("Queue", payload)
    assert b'<Message xmlns="urn:other">hi</Message>' in written


@pytest.mark.parametrize("payload", [{"not a name": 1}, {"unknown_list": [1]}, {1: 2}])
def test_what_the_tree_refuses_is_refused_as_before(payload: dict[object, object]) -> None:
    with pytest.raises(Exception) as by_tree:
        RESPONSE_XML.tree_xml("Root", payload)  # type: ignore[arg-type]
    with pytest.raises(type(by_tree.value), match=str(by_tree.value).replace("'", ".")):
        RESPONSE_XML.to_xml("Root", payload)  # type: ignore[arg-type]
