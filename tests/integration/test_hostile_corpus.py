"""A corpus of attack and broken documents, POSTed through the API like any trader's.

Extends ``test_hostile_input.py`` (XXE, billion laughs, external DTD, deep nesting, plain
non-UTF-8, empty, not XML, truncated, XInclude, oversized body, content types) with the
less obvious ones: quadratic blow-up, schema-location hints, processing instructions,
CDATA and comments inside values, huge attributes and text nodes, the exact nesting limit,
BOMs and UTF-16/UTF-32, invalid characters and byte sequences, the 999-item limit,
namespace tricks, numeric and date edges, and unicode text.

Every document gets, within a second, either a 4xx with a machine-readable JSON body
(``code``, ``message``, ``errors``) or, when it is genuinely valid, 202 with its content
stored as the document says (not as a comment or processing instruction cut it, nor
rounded by the database) and judged by every rule (none "could not be evaluated"); never
a 5xx. Afterwards the service still accepts a valid declaration.
"""
from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.db import models
from app.db.models import Base
from app.users.clients import create_client, ensure_party
from tests.conftest import TRADER_BRN, TRADER_KEY, auth
from tests.factories import declaration_xml
from tests.timing import timed

API = "/api/v1/declarations"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
ISSUED = b"2026-11-20T09:30:00+08:00"
DESCRIPTION = b"Smartphones, model 1"
AMOUNT_TAG = b'<CustomsValueAmount currencyID="HKD">'
NET_MASS_TAG = b'<NetMassMeasure unitCode="KGM">'
ONE_MB = 1024 * 1024

Builder = Callable[[bytes], bytes]


# --- building the corpus ----------------------------------------------------------------

def sub(old: bytes, new: bytes, count: int = 1) -> Builder:
    """Replace ``old`` in the base document; fails loudly when the corpus drifts from the factory."""
    def build(base: bytes) -> bytes:
        assert base.count(old) >= count, f"{old!r} not in the base document"
        return base.replace(old, new, count)
    return build


def chain(*builders: Builder) -> Builder:
    def build(base: bytes) -> bytes:
        for builder in builders:
            base = builder(base)
        return base
    return build


def raw(body: bytes) -> Builder:
    return lambda base: body


def recoded(encoding: str, declared: str | None = None, bom: bytes = b"", keep_declaration: bool = True) -> Builder:
    """The base document re-encoded (optionally with another declared encoding and a BOM)."""
    def build(base: bytes) -> bytes:
        text = base.decode("utf-8")
        if declared is not None:
            text = text.replace('encoding="UTF-8"', f'encoding="{declared}"')
        if not keep_declaration:
            text = text.split("?>", 1)[1].lstrip()
        return bom + text.encode(encoding)
    return build


def nested(total_depth: int) -> Builder:
    """Unknown elements nested under the root so that the document is ``total_depth`` deep."""
    inner = b"<X>" * (total_depth - 1) + b"</X>" * (total_depth - 1)
    return sub(b"</Declaration>", inner + b"</Declaration>")


def items(count: int) -> Builder:
    return lambda base: declaration_xml(lrn=_lrn(base), function_code=_function_code(base), items=count)


def prefixed(base: bytes) -> bytes:
    """Every element in the declaration namespace through a ``d:`` prefix, no default namespace."""
    body = base.replace(b' xmlns="urn:csw:declaration:v1"', b' xmlns:d="urn:csw:declaration:v1"')
    return re.sub(rb"<(/?)([A-Z][A-Za-z]*)", rb"<\1d:\2", body)


def comments_between_elements(base: bytes) -> bytes:
    """A comment before the root, after every end tag and after the root."""
    head, rest = base.split(b"?>", 1)
    body = re.sub(rb"(</[A-Za-z]+>)", rb"\1<!-- c -->", rest)
    return head + b"?><!-- before the root -->" + body + b"<!-- after the root -->"


def schema_location(attribute: bytes) -> Builder:
    return sub(b'<Declaration xmlns="urn:csw:declaration:v1">',
               b'<Declaration xmlns="urn:csw:declaration:v1" xmlns:xsi="' + XSI.encode() + b'" ' + attribute + b">")


def quadratic_blowup(base: bytes) -> bytes:
    """One 100 KB internal entity referenced 20,000 times: 2 GB if expanded."""
    entity = b"<!DOCTYPE Declaration [<!ENTITY a \"" + b"x" * 100_000 + b"\">]>"
    body = base.replace(b"?>", b"?>" + entity, 1)
    return body.replace(DESCRIPTION, b"&a;" * 20_000, 1)


def lrn_as(lrn: bytes) -> Builder:
    return lambda base: re.sub(rb"<FunctionalReferenceID>[^<]*<", b"<FunctionalReferenceID>" + lrn + b"<", base)


def goods_with(dutiable: bytes = b"", packaging: bytes = b"") -> Builder:
    """The goods item with DutiableDetails and/or Packaging inserted where the schema wants them."""
    return chain(
        sub(b"</Classification>", b"</Classification>" + dutiable) if dutiable else (lambda b: b),
        sub(b"<GoodsMeasure>", packaging + b"<GoodsMeasure>") if packaging else (lambda b: b),
    )


def _lrn(base: bytes) -> str:
    return re.search(rb"<FunctionalReferenceID>([^<]*)<", base).group(1).decode()


def _function_code(base: bytes) -> str:
    return re.search(rb"<FunctionCode>([^<]*)<", base).group(1).decode()


# --- what is expected --------------------------------------------------------------------

@dataclass(frozen=True)
class Expect:
    """Allowed statuses and error codes; for a 202, facts the stored declaration must show."""

    statuses: frozenset[int]
    codes: frozenset[str] = frozenset()
    stored: dict[str, Any] = field(default_factory=dict)


def refused(status: int, code: str) -> Expect:
    return Expect(frozenset({status}), frozenset({code}))


def accepted(**stored: Any) -> Expect:
    return Expect(frozenset({202}), stored=stored)


def faithful_or_refused(**stored: Any) -> Expect:
    """At the edge of what the service can record: store exactly what the document says, or
    refuse it with a 422 saying so (a narrower schema, a range check or a plausibility rule);
    never a 5xx, never a rounded or truncated value."""
    return Expect(frozenset({202, 422}), frozenset({"SCHEMA_INVALID", "VALUE_OUT_OF_RANGE", "RULES_REJECTED"}),
                  stored)


@dataclass(frozen=True)
class Case:
    build: Builder
    expect: Expect


DEFAULTS = {"description": DESCRIPTION.decode(), "net_mass_kg": Decimal("2.5"),
            "value": Decimal("1200.00"), "goods_item_count": 1}
# a comment or processing instruction inside a value is not part of it (XML Schema reads the
# character data only): store the value whole, or refuse such documents outright
INTACT_OR_REFUSED = Expect(frozenset({202, 400, 422}), frozenset({"XML_FORBIDDEN", "SCHEMA_INVALID"}), DEFAULTS)

NUL_REFUSED = Expect(frozenset({400}), frozenset({"XML_MALFORMED", "ENCODING_INVALID"}))

UTF16_DOCTYPE_XXE = chain(
    sub(b'encoding="UTF-8"?>', b'encoding="UTF-16"?><!DOCTYPE Declaration '
                               b'[<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'),
    sub(DESCRIPTION, b"&xxe;"),
    recoded("utf-16-le"),
)

CASES: dict[str, Case] = {
    # control: the base document itself
    "valid-control": Case(lambda b: b, accepted()),

    # entities and DTDs beyond the basic ones
    "quadratic-blowup-internal-entity": Case(quadratic_blowup, refused(400, "XML_FORBIDDEN")),
    "quadratic-blowup-after-bom-and-comment": Case(
        lambda b: b"\xef\xbb\xbf" + quadratic_blowup(b).replace(b"?>", b"?><!-- hi -->", 1),
        refused(400, "XML_FORBIDDEN")),
    "doctype-lowercase": Case(sub(b"?>", b"?><!doctype Declaration>"), refused(400, "XML_MALFORMED")),
    "undefined-entity-without-dtd": Case(sub(DESCRIPTION, b"Smart&phones;"), refused(400, "XML_MALFORMED")),
    "predefined-entities-and-char-refs": Case(sub(DESCRIPTION, b"A&amp;B &lt;&#x4E2D;&#25991;&gt;"),
                                              accepted(description="A&B <中文>")),
    "char-ref-to-control-char": Case(sub(DESCRIPTION, b"Smart&#x1;phones"), refused(400, "XML_MALFORMED")),
    "char-ref-to-nul": Case(sub(DESCRIPTION, b"Smart&#0;phones"), refused(400, "XML_MALFORMED")),
    "char-ref-to-surrogate": Case(sub(DESCRIPTION, b"Smart&#xD800;phones"), refused(400, "XML_MALFORMED")),
    "char-ref-beyond-unicode": Case(sub(DESCRIPTION, b"&#99999999999999999999;"), refused(400, "XML_MALFORMED")),
    # BOM-less UTF-16 hides the "<!DOCTYPE" bytes from the DTD ban
    "utf16-no-bom-doctype-xxe": Case(UTF16_DOCTYPE_XXE, Expect(frozenset({400}),
                                                               frozenset({"ENCODING_INVALID", "XML_FORBIDDEN"}))),
    "utf32-no-bom-doctype-xxe": Case(
        chain(sub(b'<?xml version="1.0" encoding="UTF-8"?>',
                  b'<!DOCTYPE Declaration [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'),
              sub(DESCRIPTION, b"&xxe;"), recoded("utf-32-le")),
        Expect(frozenset({400}), frozenset({"ENCODING_INVALID", "XML_FORBIDDEN"}))),

    # schema-location hints are never fetched, the document is judged on our schema only
    "schema-location-http-valid": Case(
        schema_location(b'xsi:schemaLocation="urn:csw:declaration:v1 http://127.0.0.1:9/evil.xsd"'), accepted()),
    "no-namespace-schema-location-http-valid": Case(
        schema_location(b'xsi:noNamespaceSchemaLocation="http://127.0.0.1:9/evil.xsd"'), accepted()),
    "schema-location-http-invalid": Case(
        chain(schema_location(b'xsi:schemaLocation="urn:csw:declaration:v1 http://127.0.0.1:9/evil.xsd"'),
              sub(b"<ID>85171300</ID>", b"<ID>8517130X</ID>")),
        refused(422, "SCHEMA_INVALID")),
    "schema-location-etc-passwd-invalid": Case(
        chain(schema_location(b'xsi:schemaLocation="urn:csw:declaration:v1 file:///etc/passwd"'),
              sub(b"<ID>85171300</ID>", b"<ID>8517130X</ID>")),
        refused(422, "SCHEMA_INVALID")),
    "xsi-type-substitution": Case(
        sub(AMOUNT_TAG, b'<CustomsValueAmount xmlns:xsi="' + XSI.encode() + b'" '
                        b'xmlns:xs="http://www.w3.org/2001/XMLSchema" xsi:type="xs:string" currencyID="HKD">'),
        refused(422, "SCHEMA_INVALID")),
    "xsi-type-unknown": Case(
        sub(AMOUNT_TAG, b'<CustomsValueAmount xmlns:xsi="' + XSI.encode() + b'" xsi:type="Nonexistent" '
                        b'currencyID="HKD">'),
        refused(422, "SCHEMA_INVALID")),
    "xsi-type-empty-on-function-code": Case(
        sub(b"<FunctionCode>", b'<FunctionCode xmlns:xsi="' + XSI.encode() + b'" xsi:type="">'),
        refused(422, "SCHEMA_INVALID")),
    "xsi-nil-on-amount": Case(
        sub(AMOUNT_TAG + b"1200.00", b'<CustomsValueAmount xmlns:xsi="' + XSI.encode() + b'" xsi:nil="true" '
                                     b'currencyID="HKD">'),
        refused(422, "SCHEMA_INVALID")),

    # processing instructions
    "pi-xml-stylesheet-before-root": Case(
        sub(b"?>", b'?><?xml-stylesheet type="text/xsl" href="http://127.0.0.1:9/x.xsl"?>'), accepted()),
    "pi-between-elements": Case(sub(b"<GoodsShipment>", b"<GoodsShipment><?csw-hint fast?>"), accepted()),
    "pi-after-root": Case(lambda b: b + b"<?trailer x?>", accepted()),
    "pi-inside-amount": Case(sub(AMOUNT_TAG, AMOUNT_TAG + b"<?pi x?>"), INTACT_OR_REFUSED),
    "pi-named-xml-mid-document": Case(sub(b"<GoodsShipment>", b'<GoodsShipment><?xml version="1.0"?>'),
                                      refused(400, "XML_MALFORMED")),

    # CDATA
    "cdata-markup-in-description": Case(sub(DESCRIPTION, b"<![CDATA[<script>alert(1)</script> & co]]>"),
                                        accepted(description="<script>alert(1)</script> & co")),
    "cdata-around-amount": Case(sub(AMOUNT_TAG + b"1200.00", AMOUNT_TAG + b"<![CDATA[1200.00]]>"),
                                accepted(value=Decimal("1200.00"))),
    "cdata-split-description": Case(sub(DESCRIPTION, b"Smart<![CDATA[pho]]>nes"), accepted(description="Smartphones")),
    "cdata-instead-of-element": Case(sub(b"<FunctionCode>9</FunctionCode>",
                                         b"<![CDATA[<FunctionCode>9</FunctionCode>]]>"),
                                     refused(422, "SCHEMA_INVALID")),
    "cdata-unterminated": Case(sub(DESCRIPTION, b"<![CDATA[Smartphones"), refused(400, "XML_MALFORMED")),

    # comments: anywhere between elements is fine; inside a value they are not part of it
    "comments-between-all-elements": Case(comments_between_elements, accepted(**DEFAULTS)),
    "comment-before-xml-declaration": Case(lambda b: b"<!-- first -->" + b, refused(400, "XML_MALFORMED")),
    "comment-with-double-hyphen": Case(sub(b"<GoodsShipment>", b"<GoodsShipment><!-- a -- b -->"),
                                       refused(400, "XML_MALFORMED")),
    "comment-inside-net-mass": Case(sub(NET_MASS_TAG, NET_MASS_TAG + b"<!-- c -->"), INTACT_OR_REFUSED),
    "comment-splits-net-mass": Case(sub(NET_MASS_TAG + b"2.5", NET_MASS_TAG + b"2<!-- c -->.5"), INTACT_OR_REFUSED),
    "comment-splits-lrn": Case(sub(b"<FunctionalReferenceID>LRN-", b"<FunctionalReferenceID><!-- c -->LRN-"),
                               INTACT_OR_REFUSED),
    "comment-inside-sequence": Case(sub(b"<SequenceNumeric>", b"<SequenceNumeric><!-- c -->"), INTACT_OR_REFUSED),
    "comment-inside-function-code": Case(sub(b"<FunctionCode>", b"<FunctionCode><!-- c -->"), INTACT_OR_REFUSED),
    "comment-splits-description": Case(sub(DESCRIPTION, b"Smartphones<!-- c -->, model 1"), INTACT_OR_REFUSED),
    "comment-4_5mb-between-elements": Case(
        sub(b"<GoodsShipment>", b"<GoodsShipment><!--" + b"x" * (4 * ONE_MB + ONE_MB // 2) + b"-->"), accepted()),

    # huge attributes and text nodes (under the 5 MB body limit)
    "attribute-4mb-currency": Case(sub(b'currencyID="HKD"', b'currencyID="' + b"A" * (4 * ONE_MB) + b'"'),
                                   refused(422, "SCHEMA_INVALID")),
    "attribute-4mb-unknown": Case(sub(b"<GoodsShipment>", b'<GoodsShipment note="' + b"n" * (4 * ONE_MB) + b'">'),
                                  refused(422, "SCHEMA_INVALID")),
    "text-4_5mb-description": Case(sub(DESCRIPTION, b"A\n" * (2 * ONE_MB + ONE_MB // 4)),
                                   refused(422, "SCHEMA_INVALID")),
    "text-4_5mb-amount-digits": Case(sub(AMOUNT_TAG + b"1200.00", AMOUNT_TAG + b"9" * (4 * ONE_MB + ONE_MB // 2)),
                                     refused(422, "SCHEMA_INVALID")),
    "text-4_5mb-leading-zeros-amount": Case(
        sub(AMOUNT_TAG + b"1200.00", AMOUNT_TAG + b"0" * (4 * ONE_MB + ONE_MB // 2) + b"1200.00"),
        accepted(value=Decimal("1200.00"))),
    "whitespace-4_5mb-between-elements": Case(
        sub(b"<GoodsShipment>", b"<GoodsShipment>" + b" \n" * (2 * ONE_MB + ONE_MB // 4)), accepted()),
    "lrn-4mb": Case(lrn_as(b"L" * (4 * ONE_MB)), refused(422, "SCHEMA_INVALID")),

    # nesting: libxml2's limit is 256 levels
    "nesting-255-levels": Case(nested(255), refused(422, "SCHEMA_INVALID")),
    "nesting-257-levels": Case(nested(257), refused(400, "XML_FORBIDDEN")),

    # encodings
    "utf8-bom": Case(lambda b: b"\xef\xbb\xbf" + b, accepted()),
    "utf8-bom-twice": Case(lambda b: b"\xef\xbb\xbf\xef\xbb\xbf" + b, refused(400, "XML_MALFORMED")),
    "utf16le-bom": Case(recoded("utf-16-le", "UTF-16", b"\xff\xfe"), refused(400, "ENCODING_INVALID")),
    "utf16be-bom": Case(recoded("utf-16-be", "UTF-16", b"\xfe\xff"), refused(400, "ENCODING_INVALID")),
    "utf16le-no-bom-declared": Case(recoded("utf-16-le", "UTF-16"), refused(400, "ENCODING_INVALID")),
    "utf16be-no-bom-declared": Case(recoded("utf-16-be", "UTF-16"), refused(400, "ENCODING_INVALID")),
    "utf16le-no-bom-no-declaration": Case(recoded("utf-16-le", keep_declaration=False),
                                          Expect(frozenset({400}), frozenset({"ENCODING_INVALID", "XML_MALFORMED"}))),
    "utf32le-no-bom-no-declaration": Case(recoded("utf-32-le", keep_declaration=False),
                                          Expect(frozenset({400}), frozenset({"ENCODING_INVALID", "XML_MALFORMED"}))),
    "utf8-bytes-declared-utf16": Case(sub(b'encoding="UTF-8"', b'encoding="UTF-16"'),
                                      refused(400, "ENCODING_INVALID")),
    "utf8-declared-latin1-name": Case(sub(b"Demo Trading", "Société Trading".encode("latin-1")),
                                      refused(400, "ENCODING_INVALID")),
    "mixed-utf8-then-latin1": Case(sub(DESCRIPTION, "Téléphones 中文 ".encode() + "Café".encode("latin-1")),
                                   refused(400, "ENCODING_INVALID")),
    "latin1-in-attribute": Case(sub(b'currencyID="HKD"', b'currencyID="HK\xc9"'), refused(400, "ENCODING_INVALID")),
    "nul-byte-in-text": Case(sub(DESCRIPTION, b"Smart\x00phones"), NUL_REFUSED),
    "nul-byte-after-root": Case(lambda b: b + b"\x00", NUL_REFUSED),
    "nul-bytes-only": Case(raw(b"\x00" * 1024), NUL_REFUSED),
    "control-char-x01": Case(sub(DESCRIPTION, b"Smart\x01phones"), refused(400, "XML_MALFORMED")),
    "noncharacter-ufffe": Case(sub(DESCRIPTION, "Smart\ufffephones".encode()), refused(400, "XML_MALFORMED")),
    "overlong-utf8-less-than": Case(sub(DESCRIPTION, b"Smart\xc0\xbcphones"), refused(400, "ENCODING_INVALID")),
    "overlong-utf8-nul": Case(sub(DESCRIPTION, b"Smart\xc0\x80phones"), refused(400, "ENCODING_INVALID")),
    "surrogate-in-utf8": Case(sub(DESCRIPTION, b"Smart\xed\xa0\x80phones"), refused(400, "ENCODING_INVALID")),
    "code-point-above-10ffff": Case(sub(DESCRIPTION, b"Smart\xf4\x90\x80\x80phones"),
                                    refused(400, "ENCODING_INVALID")),
    "truncated-multibyte-at-end": Case(lambda b: b + "中".encode()[:2], refused(400, "ENCODING_INVALID")),

    # goods items: at most 999
    "goods-items-999": Case(items(999), accepted(goods_item_count=999)),
    "goods-items-1000": Case(items(1000), refused(422, "SCHEMA_INVALID")),
    "goods-item-sequence-1-and-01": Case(
        chain(items(2), sub(b"<SequenceNumeric>2</SequenceNumeric>", b"<SequenceNumeric>01</SequenceNumeric>")),
        refused(422, "SCHEMA_INVALID")),

    # duplicate attributes
    "duplicate-attribute": Case(sub(b'currencyID="HKD"', b'currencyID="HKD" currencyID="USD"'),
                                refused(400, "XML_MALFORMED")),
    "duplicate-attribute-through-prefixes": Case(
        sub(AMOUNT_TAG, b'<CustomsValueAmount xmlns:a="urn:x" xmlns:b="urn:x" a:c="1" b:c="2" currencyID="HKD">'),
        refused(400, "XML_MALFORMED")),

    # namespace tricks
    "right-names-wrong-namespace": Case(lambda b: b.replace(b"urn:csw:declaration:v1", b"urn:csw:declaration:v9"),
                                        refused(422, "UNKNOWN_SCHEMA")),
    "right-names-cancellation-namespace": Case(
        lambda b: b.replace(b"urn:csw:declaration:v1", b"urn:csw:cancellation:v1"), refused(422, "UNKNOWN_SCHEMA")),
    "namespace-in-upper-case": Case(lambda b: b.replace(b"urn:csw:declaration:v1", b"URN:CSW:DECLARATION:V1"),
                                    refused(422, "UNKNOWN_SCHEMA")),
    "prefixed-root-unqualified-children": Case(
        lambda b: b.replace(b'<Declaration xmlns="urn:csw:declaration:v1">',
                            b'<d:Declaration xmlns:d="urn:csw:declaration:v1">')
        .replace(b"</Declaration>", b"</d:Declaration>"),
        refused(422, "SCHEMA_INVALID")),
    "prefixed-everywhere": Case(prefixed, accepted()),
    "default-namespace-redeclared-on-child": Case(sub(b"<GoodsShipment>", b'<GoodsShipment xmlns="urn:evil">'),
                                                  refused(422, "SCHEMA_INVALID")),
    "default-namespace-undeclared-on-child": Case(sub(b"<GoodsShipment>", b'<GoodsShipment xmlns="">'),
                                                  refused(422, "SCHEMA_INVALID")),
    "same-default-namespace-redeclared-on-child": Case(
        sub(b"<GoodsShipment>", b'<GoodsShipment xmlns="urn:csw:declaration:v1">'), accepted()),
    "undeclared-prefix": Case(sub(AMOUNT_TAG, b'<CustomsValueAmount xsi:type="x" currencyID="HKD">'),
                              refused(400, "XML_MALFORMED")),
    "xml-prefix-rebound": Case(sub(b"<Declaration ", b'<Declaration xmlns:xml="urn:x" '),
                               refused(400, "XML_MALFORMED")),
    "foreign-attribute-on-value": Case(sub(b"<Description>", b'<Description xml:lang="zh">'),
                                       refused(422, "SCHEMA_INVALID")),

    # numeric edges (AmountValueType: decimal >= 0, 18 digits, 2 fraction digits)
    "amount-1e400": Case(sub(b">1200.00<", b">1e400<"), refused(422, "SCHEMA_INVALID")),
    "amount-nan": Case(sub(b">1200.00<", b">NaN<"), refused(422, "SCHEMA_INVALID")),
    "amount-inf": Case(sub(b">1200.00<", b">INF<"), refused(422, "SCHEMA_INVALID")),
    "amount-minus-inf": Case(sub(b">1200.00<", b">-INF<"), refused(422, "SCHEMA_INVALID")),
    "amount-negative": Case(sub(b">1200.00<", b">-0.01<"), refused(422, "SCHEMA_INVALID")),
    "amount-minus-zero": Case(sub(b">1200.00<", b">-0.00<"), accepted(value=Decimal("0"))),
    "amount-plus-sign-leading-zeros": Case(sub(b">1200.00<", b">+0001200.00<"), accepted(value=Decimal("1200"))),
    "amount-3-fraction-digits": Case(sub(b">1200.00<", b">1200.001<"), refused(422, "SCHEMA_INVALID")),
    "amount-19-digits": Case(sub(b">1200.00<", b">9999999999999999999<"), refused(422, "SCHEMA_INVALID")),
    "amount-16-plus-2-digits": Case(sub(b">1200.00<", b">9999999999999999.99<"),
                                    faithful_or_refused(value=Decimal("9999999999999999.99"))),
    "amount-13-plus-2-digits": Case(sub(b">1200.00<", b">9999999999999.99<"),
                                    faithful_or_refused(value=Decimal("9999999999999.99"))),
    "amount-18-integer-digits": Case(sub(b">1200.00<", b">999999999999999999<"),
                                     faithful_or_refused(value=Decimal("999999999999999999"))),
    "net-mass-7-fraction-digits": Case(sub(NET_MASS_TAG + b"2.5", NET_MASS_TAG + b"2.5000001"),
                                       refused(422, "SCHEMA_INVALID")),
    "net-mass-zero": Case(sub(NET_MASS_TAG + b"2.5", NET_MASS_TAG + b"0"), refused(422, "SCHEMA_INVALID")),
    "gross-mass-18-digit-tonnes": Case(
        chain(sub(NET_MASS_TAG + b"2.5", b'<NetMassMeasure unitCode="TNE">999999999999999999'),
              sub(b'<GrossMassMeasure unitCode="KGM">3', b'<GrossMassMeasure unitCode="TNE">999999999999999999')),
        faithful_or_refused(net_mass_kg=Decimal("999999999999999999000"))),
    "net-mass-15-digits-in-tonnes": Case(
        chain(sub(NET_MASS_TAG + b"2.5", b'<NetMassMeasure unitCode="TNE">999999999999999'),
              sub(b'<GrossMassMeasure unitCode="KGM">3', b'<GrossMassMeasure unitCode="TNE">999999999999999')),
        faithful_or_refused(net_mass_kg=Decimal("999999999999999000"))),
    "net-mass-6-fraction-digits-in-tonnes": Case(
        chain(sub(NET_MASS_TAG + b"2.5", b'<NetMassMeasure unitCode="TNE">999999999.999999'),
              sub(b'<GrossMassMeasure unitCode="KGM">3', b'<GrossMassMeasure unitCode="TNE">999999999.999999')),
        faithful_or_refused(net_mass_kg=Decimal("999999999999.999"))),
    "stick-quantity-40-digits": Case(goods_with(b"<DutiableDetails><StickQuantity>" + b"9" * 40
                                                + b"</StickQuantity></DutiableDetails>"),
                                     faithful_or_refused()),
    "stick-quantity-5000-digits": Case(goods_with(b"<DutiableDetails><StickQuantity>" + b"9" * 5000
                                                  + b"</StickQuantity></DutiableDetails>"),
                                       faithful_or_refused()),
    "package-count-40-digits": Case(goods_with(packaging=b"<Packaging><TypeCode>CT</TypeCode><QuantityQuantity>"
                                                         + b"9" * 40 + b"</QuantityQuantity></Packaging>"),
                                    faithful_or_refused()),
    "cigarette-length-1e7-mm": Case(goods_with(b'<DutiableDetails><LengthMeasure unitCode="MMT">10000000'
                                               b"</LengthMeasure></DutiableDetails>"),
                                    faithful_or_refused()),

    # dates (xs:dateTime; an issue date-time needs a zone, a movement without one is Hong Kong time)
    "issue-date-0001-01-01-hong-kong": Case(sub(ISSUED, b"0001-01-01T00:00:00"),
                                            refused(422, "VALUE_OUT_OF_RANGE")),
    "issue-date-0001-01-01-utc": Case(sub(ISSUED, b"0001-01-01T00:00:00Z"), refused(422, "RULES_REJECTED")),
    "issue-date-0001-01-01-minus-14": Case(sub(ISSUED, b"0001-01-01T00:00:00-14:00"), refused(422, "RULES_REJECTED")),
    "issue-date-9999-12-31-plus-14": Case(sub(ISSUED, b"9999-12-31T23:59:59+14:00"),
                                          refused(422, "RULES_REJECTED")),
    "issue-date-9999-12-31-minus-14": Case(sub(ISSUED, b"9999-12-31T23:59:59-14:00"),
                                           Expect(frozenset({422}), frozenset({"RULES_REJECTED",
                                                                               "VALUE_OUT_OF_RANGE"}))),
    "movement-date-0001-01-01-hong-kong": Case(
        sub(b"</ControlPointID>", b"</ControlPointID><MovementDateTime>0001-01-01T00:00:00</MovementDateTime>"),
        faithful_or_refused()),
    "movement-date-9999-12-31-minus-14": Case(
        sub(b"</ControlPointID>", b"</ControlPointID><MovementDateTime>9999-12-31T23:59:59-14:00</MovementDateTime>"),
        faithful_or_refused()),
    "movement-date-9999-12-20-utc": Case(
        sub(b"</ControlPointID>", b"</ControlPointID><MovementDateTime>9999-12-20T00:00:00Z</MovementDateTime>"),
        faithful_or_refused()),
    "movement-date-9999-12-31-20h-utc": Case(
        sub(b"</ControlPointID>", b"</ControlPointID><MovementDateTime>9999-12-31T20:00:00Z</MovementDateTime>"),
        faithful_or_refused()),
    "issue-date-2026-02-30": Case(sub(ISSUED, b"2026-02-30T00:00:00"), refused(422, "SCHEMA_INVALID")),
    "issue-date-2025-02-29": Case(sub(ISSUED, b"2025-02-29T12:00:00+08:00"), refused(422, "SCHEMA_INVALID")),
    "issue-date-2024-02-29-leap": Case(sub(ISSUED, b"2024-02-29T12:00:00+08:00"), accepted()),
    "issue-date-hour-24": Case(sub(ISSUED, b"2026-11-20T24:00:00"), refused(422, "VALUE_OUT_OF_RANGE")),
    "issue-date-leap-second": Case(sub(ISSUED, b"2026-12-31T23:59:60Z"), refused(422, "SCHEMA_INVALID")),
    "issue-date-year-10000": Case(sub(ISSUED, b"10000-01-01T00:00:00Z"), refused(422, "VALUE_OUT_OF_RANGE")),
    "issue-date-year-0000": Case(sub(ISSUED, b"0000-01-01T00:00:00Z"), refused(422, "SCHEMA_INVALID")),
    "issue-date-negative-year": Case(sub(ISSUED, b"-0001-01-01T00:00:00Z"), refused(422, "VALUE_OUT_OF_RANGE")),
    "issue-date-offset-plus-15": Case(sub(ISSUED, b"2026-11-20T09:30:00+15:00"), refused(422, "SCHEMA_INVALID")),
    "issue-date-12-fraction-digits": Case(sub(ISSUED, b"2026-11-20T09:30:00.123456789012+08:00"), accepted()),
    "issue-date-without-time": Case(sub(ISSUED, b"2026-11-20"), refused(422, "SCHEMA_INVALID")),

    # references and text
    "lrn-36-characters": Case(lrn_as(b"L" * 36), refused(422, "SCHEMA_INVALID")),
    "lrn-arabic-digits": Case(lrn_as("LRN-١٢٣".encode()), refused(422, "SCHEMA_INVALID")),
    "description-cjk": Case(sub(DESCRIPTION, "智能手機，型號 1（中國製造）".encode()),
                            accepted(description="智能手機，型號 1（中國製造）")),
    "description-emoji": Case(sub(DESCRIPTION, "Phones 📱🇭🇰👨‍👩‍👧".encode()),
                              accepted(description="Phones 📱🇭🇰👨‍👩‍👧")),
    "description-rtl-marks": Case(sub(DESCRIPTION, "\u202eenohp\u202c \u200fهاتف\u200e \u2067x\u2069".encode()),
                                  accepted(description="\u202eenohp\u202c \u200fهاتف\u200e \u2067x\u2069")),
    "description-combining-and-zero-width": Case(sub(DESCRIPTION, "Z\u0351\u0334a\u200b\u200dlgo\ufeff".encode()),
                                                 accepted(description="Z\u0351\u0334a\u200b\u200dlgo\ufeff")),
    "description-512-emoji": Case(sub(DESCRIPTION, "📦".encode() * 512), accepted(description="📦" * 512)),
    "description-513-emoji": Case(sub(DESCRIPTION, "📦".encode() * 513), refused(422, "SCHEMA_INVALID")),
    "description-whitespace-only": Case(sub(DESCRIPTION, b" \t "), refused(422, "SCHEMA_INVALID")),
    "name-140-cjk": Case(sub(b"Demo Trading Company Limited", "貿".encode() * 140), accepted()),
    "name-141-cjk": Case(sub(b"Demo Trading Company Limited", "貿".encode() * 141), refused(422, "SCHEMA_INVALID")),
}

# a handful of the corpus also goes to POST /declarations/<id>/amendments
AMENDMENT_CASES = [
    "valid-control", "quadratic-blowup-internal-entity", "schema-location-http-invalid", "pi-inside-amount",
    "comment-inside-net-mass", "comment-splits-lrn", "utf16-no-bom-doctype-xxe", "utf16le-no-bom-declared",
    "attribute-4mb-currency", "xsi-type-unknown", "amount-18-integer-digits", "stick-quantity-5000-digits",
    "issue-date-0001-01-01-hong-kong",
]


# --- running it --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def corpus_app(app: Flask) -> Flask:
    """The app on one clean database per backend for the whole corpus (as ``clean_app``
    prepares it, but once: a clean database per case would double the run time). Every
    case lodges under LRNs of its own, so cases never meet."""
    services = app.extensions["csw"]
    services.api_keys.clear()
    services.aeo_standings.clear()
    with services.sessions() as session, session.begin():
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(table.delete())
        trader = ensure_party(session, TRADER_BRN, "Demo Trading Company Limited")
        create_client(session, "trader-tms", trader, key=TRADER_KEY)
    return app


@pytest.fixture()
def corpus_client(corpus_app: Flask) -> FlaskClient:
    return corpus_app.test_client()


def post(client: FlaskClient, url: str, body: bytes) -> tuple[Any, float]:
    """The answer and the CPU seconds the service spent on it (see ``tests/timing.py``)."""
    return timed(lambda: client.post(url, data=body, headers=auth(accept="application/json")))


def _excerpt(body: bytes) -> str:
    return repr(body[:300]) + (f"... ({len(body):,} bytes)" if len(body) > 300 else "")


def check_answer(name: str, lrn: str, body: bytes, response: Any, elapsed: float, expect: Expect,
                 app: Flask) -> None:
    answer = response.get_json(silent=True)
    assert response.status_code < 500, f"{name}: {response.status_code} {answer} for {_excerpt(body)}"
    assert elapsed < 1.0, f"{name}: took {elapsed:.2f} s of CPU"
    assert response.headers["X-Conversation-ID"]
    assert isinstance(answer, dict), f"{name}: not a JSON body: {response.get_data()[:200]!r}"
    if response.status_code != 202:
        assert isinstance(answer.get("code"), str) and answer["code"], answer
        assert isinstance(answer.get("message"), str) and answer["message"], answer
        assert isinstance(answer.get("errors"), list), answer
        assert all(isinstance(e, dict) and e.get("message") for e in answer["errors"]), answer["errors"]
        assert "root:x:0:0" not in response.get_data(as_text=True)
    assert response.status_code in expect.statuses, (
        f"{name}: expected {sorted(expect.statuses)} {sorted(expect.codes)}, got {response.status_code} {answer}")
    if response.status_code == 202:
        check_stored(name, answer["declaration_id"], {"lrn": lrn, **expect.stored}, app)
        broken = [f for f in answer["findings"] if "could not be evaluated" in f["message"]]
        assert not broken, f"{name}: a rule failed on this document instead of judging it: {broken}"
    else:
        assert answer["code"] in expect.codes, f"{name}: expected {sorted(expect.codes)}, got {answer}"


def check_stored(name: str, declaration_id: str, facts: dict[str, Any], app: Flask) -> None:
    """What was stored is what the document says (comments, PIs and CDATA markers aside)."""
    with app.extensions["csw"].sessions() as session:
        row = session.get(models.Declaration, declaration_id)
        first = session.scalars(select(models.GoodsItem).where(models.GoodsItem.declaration_id == declaration_id)
                                .order_by(models.GoodsItem.sequence)).first()
        stored = {"lrn": row.lrn, "goods_item_count": row.goods_item_count, "description": first.description,
                  "net_mass_kg": first.net_mass_kg, "value": first.value}
    for key, expected in facts.items():
        assert stored[key] == expected, f"{name}: stored {key} is {stored[key]!r}, the document says {expected!r}"


def accepts_a_valid_declaration(client: FlaskClient, lrn: str) -> None:
    response, elapsed = post(client, API, declaration_xml(lrn=lrn))
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["replay"] is False
    assert elapsed < 1.0


@pytest.mark.parametrize("name", list(CASES))
def test_submission(corpus_client: FlaskClient, corpus_app: Flask, name: str) -> None:
    lrn = f"LRN-S{list(CASES).index(name):03d}"
    case = CASES[name]
    body = case.build(declaration_xml(lrn=lrn))
    response, elapsed = post(corpus_client, API, body)
    check_answer(name, lrn, body, response, elapsed, case.expect, corpus_app)
    accepts_a_valid_declaration(corpus_client, f"{lrn}-AFTER")


@pytest.mark.parametrize("name", AMENDMENT_CASES)
def test_amendment(corpus_client: FlaskClient, corpus_app: Flask, name: str) -> None:
    lrn = f"LRN-A{AMENDMENT_CASES.index(name):03d}"
    lodged = corpus_client.post(API, data=declaration_xml(lrn=lrn), headers=auth(accept="application/json"))
    assert lodged.status_code == 202, lodged.get_json()
    reference = lodged.get_json()["declaration_id"]
    case = CASES[name]
    body = case.build(declaration_xml(lrn=lrn, function_code="13"))
    response, elapsed = post(corpus_client, f"{API}/{reference}/amendments", body)
    check_answer(f"amendment {name}", lrn, body, response, elapsed, case.expect, corpus_app)
    if response.status_code == 202:
        assert response.get_json()["version"] == 2
    amendment, elapsed = post(corpus_client, f"{API}/{reference}/amendments",
                              declaration_xml(lrn=lrn, function_code="13", value="1300.00"))
    assert amendment.status_code == 202, amendment.get_json()
    assert elapsed < 1.0
    accepts_a_valid_declaration(corpus_client, f"{lrn}-AFTER")


# --- schema-location hints are not fetched: a listening tripwire --------------------------

@pytest.fixture()
def tripwire() -> Iterator[tuple[str, list[bytes]]]:
    """An HTTP address that records every connection made to it."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.05)
    hits: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with connection:
                connection.settimeout(0.2)
                try:
                    hits.append(connection.recv(4096) or b"(connected)")
                except OSError:
                    hits.append(b"(connected)")
                connection.sendall(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}", hits
    stop.set()
    thread.join(1)
    server.close()


LAX_SCHEMA = """<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:csw:declaration:v1"
           elementFormDefault="qualified">
  <xs:element name="Declaration"><xs:complexType><xs:sequence>
    <xs:any processContents="skip" minOccurs="0" maxOccurs="unbounded"/>
  </xs:sequence></xs:complexType></xs:element>
</xs:schema>
"""


@pytest.mark.parametrize("valid", [True, False], ids=["valid", "invalid"])
def test_schema_location_hints_are_neither_fetched_nor_used(corpus_client: FlaskClient, tmp_path: Path,
                                                            tripwire: tuple[str, list[bytes]], valid: bool) -> None:
    """A hint at a listening server, and one at a local schema that would accept anything:
    neither is read, and an invalid document stays invalid under our own schema."""
    address, hits = tripwire
    lax = tmp_path / "lax.xsd"
    lax.write_text(LAX_SCHEMA)
    hints = (f'xsi:schemaLocation="urn:csw:declaration:v1 {lax.as_uri()} urn:csw:other {address}/other.xsd" '
             f'xsi:noNamespaceSchemaLocation="{address}/none.xsd"').encode()
    body = schema_location(hints)(declaration_xml(lrn=f"LRN-HINTS-{valid}", hs_code="85171300" if valid
                                                  else "8517130X"))
    response, elapsed = post(corpus_client, API, body)
    assert response.status_code == (202 if valid else 422), response.get_json()
    assert elapsed < 1.0
    if not valid:
        assert response.get_json()["code"] == "SCHEMA_INVALID"
        assert any("8517130X" in e["message"] or "Classification" in (e.get("path") or "")
                   for e in response.get_json()["errors"]), response.get_json()
    time.sleep(0.05)
    assert hits == [], f"schema location fetched: {hits}"
