"""Hardened parsing of untrusted XML.

No DTDs (so no entity expansion, no external entities, no billion laughs), no network,
libxml2's own depth and size limits (``huge_tree`` off: 256 levels, 10 MB text nodes),
UTF-8 only, at most ``MAX_ATTRIBUTES`` attributes (libxml2 logs each undeclared one as a
schema error: 400,000 of them cost 1.5 s before any explanation). Comments and processing
instructions are dropped from the tree (the stored document keeps them), so a value split by
a comment reads as the validator saw it. Every failure is a ``Rejection`` with line and column
where libxml2 knows them.
"""
from __future__ import annotations

import re
import threading

from lxml import etree

from app.domain.problems import Problem, Rejection

_UTF8_BOM = b"\xef\xbb\xbf"
_ENCODING_DECL = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._\-]+)["']""")
_local = threading.local()
MAX_ATTRIBUTES = 20_000  # a 999-item declaration carries about 4,000; no schema declares more than 6 per element


def _parser() -> etree.XMLParser:
    """One parser per thread: lxml parsers must not be shared between threads."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            collect_ids=False,
            remove_comments=True,
            remove_pis=True,
        )
        _local.parser = parser
    return parser


def check_encoding(body: bytes) -> None:
    """Refuse anything that is not UTF-8, naming the first bad byte. NUL bytes are valid
    UTF-8 but never valid XML: they mean UTF-16/32 (which would slip past the DTD scan)."""
    nul = body.find(b"\x00")
    if nul >= 0:
        raise Rejection(
            "ENCODING_INVALID",
            f"the document contains a NUL byte at offset {nul}; send UTF-8 (UTF-16 and UTF-32 are not accepted)",
            [Problem(message="NUL byte", line=body.count(b"\n", 0, nul) + 1, rule="encoding")],
        )
    match = _ENCODING_DECL.match(body.removeprefix(_UTF8_BOM))
    if match and match.group(1).lower() not in (b"utf-8", b"utf8"):
        raise Rejection(
            "ENCODING_INVALID",
            f"documents must be UTF-8; the XML declaration says {match.group(1).decode()}",
        )
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = body.count(b"\n", 0, exc.start) + 1
        raise Rejection(
            "ENCODING_INVALID",
            f"the document is not valid UTF-8: byte 0x{body[exc.start]:02x} at offset {exc.start}",
            [Problem(message=exc.reason, line=line, rule="encoding")],
        ) from None


def parse_untrusted(body: bytes, max_attributes: int = MAX_ATTRIBUTES) -> etree._ElementTree:
    """Parse a request body into a tree, or raise a ``Rejection`` saying precisely why not.
    ``max_attributes``: a container of many documents (a declaration batch) allows more in all;
    each document in it is parsed again under the default."""
    if not body or not body.strip():
        raise Rejection("EMPTY_BODY", "the request body is empty; send an XML document")
    check_encoding(body)
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise Rejection(
            "XML_FORBIDDEN",
            "document type declarations (DTDs) and entity declarations are not accepted",
            [Problem(message="remove the <!DOCTYPE ...> declaration", rule="no-dtd")],
        )
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as exc:
        message = str(exc.msg or exc)
        if "Excessive depth" in message or "huge" in message.lower():
            raise Rejection(
                "XML_FORBIDDEN",
                "the document exceeds the parser's limits (nesting depth or node size)",
                [Problem(message=message, line=exc.lineno, column=exc.offset, rule="limits")],
            ) from None
        raise Rejection(
            "XML_MALFORMED",
            "the document is not well-formed XML",
            [Problem(message=message, line=exc.lineno, column=exc.offset, rule="well-formedness")],
        ) from None
    # Every attribute needs an "=": counting them in the bytes is free, and only a document with
    # that many (in text or in attributes) pays for the exact count.
    if body.count(b"=") > max_attributes and int(root.xpath("count(//@*)")) > max_attributes:
        crowded = max(root.iter(), key=lambda element: len(element.attrib))
        raise Rejection(
            "XML_FORBIDDEN",
            f"the document has more than {max_attributes} attributes",
            [Problem(message=f"{len(crowded.attrib)} attributes on one element", path=_path(crowded),
                     line=crowded.sourceline, rule="attribute-limit")],
        )
    return root.getroottree()


def _path(element: etree._Element) -> str:
    """Local names from the root, enough to find the element next to its line number."""
    steps = [etree.QName(node).localname for node in (element, *element.iterancestors())]
    return "/" + "/".join(reversed(steps))
