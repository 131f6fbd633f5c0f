"""The trader's form says what is wrong in plain words, in one round, in the trader's language:
each field named by its label, what is wrong with what was entered and what is accepted; the
schema rule and path only in a details element; required fields, formats and business rules
together; codes typed in lower case or as names sent as shown."""
from __future__ import annotations

import html
import re

from flask import Flask

from tests.integration.test_portal_web import (_document_request, form_fields, item_fields, post_form, reference_of,
                                               refused_page, signed_in, stored, token)

RAW = ("xsd:", "Decimal(", "elementpath", "doesn't match", "/Declaration/", "FunctionCode")


def visible_text(page: str) -> str:
    """The page's text as a person reads it: without markup, and without the closed
    "Technical details" elements that hold the machine's rule and path."""
    page = re.sub(r"<details class=\"technical\">.*?</details>", "", page, flags=re.DOTALL)
    page = re.sub(r"<(script|style|datalist)[^>]*>.*?</\1>", "", page, flags=re.DOTALL)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def summary_of(page: str) -> list[str]:
    block = re.search(r'<div class="error-summary".*?</div>', page, flags=re.DOTALL)
    assert block, "no error summary"
    return [" ".join(visible_text(item).split()) for item in re.findall(r"<li>(.*?)</li>", block.group(0), re.DOTALL)]


def test_every_problem_of_the_form_in_one_round_in_plain_words(traders: Flask) -> None:
    client = signed_in(traders, "trader")
    data = form_fields(lrn="", items=2, issued_at="31/12/2026 10:00")
    data.update(item_fields(0, hs_code="8471300", quantity="0", gross_mass="abc", origin_country="cn"))
    data.update(item_fields(1, hs_code="99999999"))  # schema-valid, but not in the tariff: a business rule
    page = refused_page(post_form(client, data))
    summary = summary_of(page)
    assert "Local reference (LRN): This is required." in summary
    assert ("Goods item 1 · HS code: “8471300” is not accepted here. Enter 8 digits, for example 84713000."
            in summary)
    assert "Goods item 1 · Quantity: “0” is too small. Enter a number greater than 0, for example 100." in summary
    assert any(line.startswith("Goods item 1 · Gross mass: “abc” is not accepted here.") for line in summary)
    # the rules judged the rest of the document in the same round
    assert any(line.startswith("Goods item 2 · HS code:") and "99999999" in line for line in summary), summary
    text = visible_text(page)
    for raw in RAW:
        assert raw not in text, raw
    # the machine's words stay available, folded away
    assert '<code class="rule">xsd:pattern</code>' in page
    # what was typed in lower case, or as a day-first date, is accepted as meant and shown so
    assert "Origin" not in " ".join(line for line in summary if line.startswith("Goods item 1 · Origin"))
    assert 'value="CN"' in page and 'value="2026-12-31T10:00"' in page


def test_a_country_name_is_sent_as_its_code(traders: Flask) -> None:
    client = signed_in(traders, "trader")
    data = form_fields(lrn="PLAIN-NAME-1", items=1)
    data.update(item_fields(0, origin_country="china", currency="hkd"))
    reference = reference_of(post_form(client, data))
    page = client.get(f"/trader/declarations/{reference}").get_data(as_text=True)
    assert "China (CN)" in page
    assert stored(traders, reference).lrn == "PLAIN-NAME-1"
    unknown = form_fields(lrn="PLAIN-NAME-2", items=1)
    unknown.update(item_fields(0, origin_country="Atlantis"))
    summary = summary_of(post_form(client, unknown).get_data(as_text=True))
    assert any(line.startswith("Goods item 1 · Origin: “Atlantis” is not accepted here. Enter a two-letter "
                               "country code") for line in summary), summary


def test_errors_are_in_chinese_on_the_chinese_page(traders: Flask) -> None:
    client = signed_in(traders, "trader")
    client.post("/officer/locale", data={"locale": "zh_Hant", "next": "/trader/", "csrf_token": token(client)})
    data = form_fields(lrn="", items=1)
    data.update(item_fields(0, hs_code="8471300"))
    page = post_form(client, data).get_data(as_text=True)
    summary = summary_of(page)
    assert any(line.startswith("本地參考編號（LRN）：") for line in summary), summary
    assert any("8471300" in line and "8 位數字" in line for line in summary), summary
    for line in summary:
        assert not re.search(r"[A-Za-z]{4,}", line.replace("LRN", "").replace("HS", "")), line


def test_the_answer_to_a_document_request_says_what_is_wrong_where_the_trader_is(traders: Flask) -> None:
    client = signed_in(traders, "trader")
    reference = reference_of(post_form(client, form_fields(lrn="PLAIN-ANSWER-1", items=1)))
    request_id = _document_request(traders, reference)
    path = f"/trader/declarations/{reference}"
    response = client.post(f"{path}/requests/{request_id}/answer", data={"csrf_token": token(client, path),
                                                                          "message": ""})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"#request-{request_id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    article = re.search(rf'<article class="request" id="request-{request_id}".*?</article>', page, re.DOTALL)
    assert article and "Write a message of 1 to 2,000 characters." in article.group(0)
    assert "Write a message" not in page.split('<main id="main">')[1].split("<article")[0]
