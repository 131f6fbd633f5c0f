"""The schema registry: every XSD under ``schemas/``, keyed by target namespace.

Schemas are versioned by namespace (``urn:csw:<kind>:v<N>``). libxml2 validates every
document (fast path); xmlschema is compiled lazily, only to explain an invalid document
with precise paths, because it is ~40x slower.
"""
from __future__ import annotations

import itertools
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import xmlschema
from lxml import etree

from app.domain.problems import Problem, Rejection
from app.platform.xml import MAX_ATTRIBUTES, parse_untrusted

_NAMESPACE = re.compile(r"urn:csw:(?P<kind>[a-z\-]+):v(?P<version>\d+)")


@dataclass
class SchemaEntry:
    namespace: str
    kind: str
    version: int
    path: Path
    fast: etree.XMLSchema
    _detailed: xmlschema.XMLSchema | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def detailed(self) -> xmlschema.XMLSchema:
        with self._lock:
            if self._detailed is None:
                self._detailed = xmlschema.XMLSchema(str(self.path))
            return self._detailed


class ElementPaths:
    """``/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[2]/...``: local names, with a
    1-based position only where an element repeats among its siblings.

    Positions are remembered: problems come in document order, so naming the n-th of 100,000
    goods items walks back only to the last one named, not through the whole list each time."""

    def __init__(self) -> None:
        self._positions: dict[etree._Element, int] = {}
        self.siblings_visited = 0

    def of(self, element: etree._Element) -> str:
        steps: list[str] = []
        node: etree._Element | None = element
        while node is not None:
            name = etree.QName(node).localname
            parent = node.getparent()
            if parent is None:
                steps.append(name)
            else:
                position = self._position(node)
                repeated = position > 1 or next(node.itersiblings(str(node.tag)), None) is not None
                steps.append(f"{name}[{position}]" if repeated else name)
            node = parent
        return "/" + "/".join(reversed(steps))

    def _position(self, node: etree._Element) -> int:
        position = self._positions.get(node)
        if position is None:
            position = 1
            for sibling in node.itersiblings(str(node.tag), preceding=True):
                self.siblings_visited += 1
                known = self._positions.get(sibling)
                if known is not None:
                    position += known
                    break
                position += 1
            self._positions[node] = position
        return position


def element_path(element: etree._Element) -> str:
    """The readable path of one element (see ``ElementPaths``)."""
    return ElementPaths().of(element)


MESSAGE_LIMIT = 300  # an error names the offending value; it does not echo megabytes of it
DETAILED_ELEMENT_LIMIT = 5000  # above this, xmlschema's detailed pass costs too much: use libxml2's log
# xmlschema builds an error for every undeclared attribute of an element, each echoing all of
# them, before the problem cap applies: quadratic (2,000 attributes took 24 s). No schema
# declares more than a handful per element, so a crowded element is explained by libxml2.
DETAILED_ATTRIBUTE_LIMIT = 32  # on one element
DETAILED_ATTRIBUTES_IN_ALL = 5000
LOG_ENTRIES_PER_PROBLEM = 40  # libxml2's log is read at most this far per problem reported
_LIBXML2_FACET = re.compile(r"\[facet '(\w+)'\]")
_QUALIFIED_NAME = re.compile(r"'(?:\{[^}]*\}|[A-Za-z_][\w.-]*:)(?=[A-Za-z_])")


def _plain_names(message: str) -> str:
    """``'{urn:csw:declaration:v1}TypeCode'`` and ``'d:TypeCode'`` read as ``'TypeCode'``."""
    return _QUALIFIED_NAME.sub("'", message)


_RULE_BY_VALIDATOR = {
    "XsdPatternFacets": "xsd:pattern",
    "XsdEnumerationFacets": "xsd:enumeration",
    "XsdMinLengthFacet": "xsd:minLength",
    "XsdMaxLengthFacet": "xsd:maxLength",
    "XsdMinInclusiveFacet": "xsd:minInclusive",
    "XsdMaxInclusiveFacet": "xsd:maxInclusive",
    "XsdMinExclusiveFacet": "xsd:minExclusive",
    "XsdTotalDigitsFacet": "xsd:totalDigits",
    "XsdFractionDigitsFacet": "xsd:fractionDigits",
    "XsdUnique": "xsd:unique",
    "XsdKey": "xsd:key",
    "XsdAttributeGroup": "xsd:attribute",
    "XsdAttribute": "xsd:attribute",
    "XsdGroup": "xsd:content",
    "XsdElement": "xsd:element",
}


def _rule_for(validator: object, reason: str) -> str:
    if reason.startswith("duplicated value"):
        return "xsd:unique"
    name = type(validator).__name__
    if name in _RULE_BY_VALIDATOR:
        return _RULE_BY_VALIDATOR[name]
    return "xsd:type" if "Atomic" in name or "Builtin" in name else "xsd:schema"


def _worth_detailing(tree: etree._ElementTree) -> bool:
    """Whether xmlschema may explain the document: not when it is large or has an element
    crowded with attributes. Counts only up to the first bound crossed."""
    attributes = 0
    for elements, element in enumerate(tree.iter(), start=1):
        crowd = len(element.attrib)
        attributes += crowd
        if (elements > DETAILED_ELEMENT_LIMIT or crowd > DETAILED_ATTRIBUTE_LIMIT
                or attributes > DETAILED_ATTRIBUTES_IN_ALL):
            return False
    return True


class SchemaRegistry:
    """Loads every ``*.xsd`` in a directory tree once; finds the schema for a document."""

    def __init__(self, schema_dir: Path) -> None:
        self.entries: dict[str, SchemaEntry] = {}
        for path in sorted(schema_dir.rglob("*.xsd")):
            tree = etree.parse(str(path))
            namespace = tree.getroot().get("targetNamespace", "")
            match = _NAMESPACE.fullmatch(namespace)
            if not match:
                raise ValueError(f"{path}: targetNamespace {namespace!r} is not urn:csw:<kind>:v<N>")
            self.entries[namespace] = SchemaEntry(
                namespace=namespace,
                kind=match["kind"],
                version=int(match["version"]),
                path=path,
                fast=etree.XMLSchema(tree),
            )

    def supported(self, kind: str) -> list[str]:
        return sorted(ns for ns, entry in self.entries.items() if entry.kind == kind)

    def entry_for(self, tree: etree._ElementTree, kind: str) -> SchemaEntry:
        """The schema for the document's root namespace, or UNKNOWN_SCHEMA listing the known ones."""
        namespace = etree.QName(tree.getroot()).namespace or ""
        entry = self.entries.get(namespace)
        if entry is None or entry.kind != kind:
            supported = self.supported(kind)
            shown = namespace or "(no namespace)"
            raise Rejection(
                "UNKNOWN_SCHEMA",
                f"unknown or unsupported document namespace {shown}; supported: {', '.join(supported)}",
                [Problem(message=f"supported namespaces: {', '.join(supported)}",
                         path="/" + etree.QName(tree.getroot()).localname, rule="namespace", line=1)],
                details={"supported_namespaces": " ".join(supported)},
            )
        return entry

    def validate(self, tree: etree._ElementTree, kind: str, max_problems: int = 25) -> SchemaEntry:
        """Fast libxml2 check; on failure a SCHEMA_INVALID rejection with detailed problems."""
        entry = self.entry_for(tree, kind)
        try:
            if entry.fast.validate(tree):
                return entry
        except etree.XMLSchemaError:
            pass  # libxml2 gave up (e.g. an xsi:type it cannot resolve): the document is not valid
        raise Rejection(
            "SCHEMA_INVALID",
            f"the document does not conform to {entry.namespace}",
            self.explain(entry, tree, max_problems),
        )

    def explain(self, entry: SchemaEntry, tree: etree._ElementTree, limit: int) -> list[Problem]:
        """Each schema problem once, with line, path, rule and message; at most ``limit``."""
        problems: list[Problem] = []
        if _worth_detailing(tree):
            try:
                self._detailed_problems(entry, tree, limit, problems)
            except Exception as exc:  # noqa: BLE001 - explaining must never turn a 4xx into a 500
                problems.append(Problem(message=f"the document cannot be validated: {type(exc).__name__}",
                                        rule="xsd:schema"))
        if not problems:
            problems = self._libxml2_problems(entry, tree, limit)
        return problems

    @staticmethod
    def _libxml2_problems(entry: SchemaEntry, tree: etree._ElementTree, limit: int) -> list[Problem]:
        """The fast validator's own log, with its paths made readable: used for large documents
        and crowded elements, where re-validating with xmlschema would take seconds. Reads the
        log no further than ``limit`` problems need (and ``LOG_ENTRIES_PER_PROBLEM`` times that
        at most, however many repeat)."""
        problems: list[Problem] = []
        seen: set[tuple[str | None, str]] = set()
        paths = ElementPaths()
        for log_entry in itertools.islice(entry.fast.error_log, limit * LOG_ENTRIES_PER_PROBLEM):
            message = _plain_names(log_entry.message.replace("Element '", "'", 1)).rstrip(".")
            if len(message) > MESSAGE_LIMIT:
                message = message[:MESSAGE_LIMIT] + f"… ({len(message) - MESSAGE_LIMIT} more characters)"
            if (log_entry.path, message) in seen:
                continue
            seen.add((log_entry.path, message))
            found = tree.xpath(log_entry.path) if log_entry.path else []
            element = found[0] if found and isinstance(found[0], etree._Element) else None
            path = paths.of(element) if element is not None else None
            facet = _LIBXML2_FACET.search(log_entry.message)
            if facet:
                rule = f"xsd:{facet.group(1)}"
            elif "Duplicate key-sequence" in log_entry.message:
                rule = "xsd:unique"
            elif "not expected" in log_entry.message or "Missing child" in log_entry.message:
                rule = "xsd:content"
            elif ": The attribute '" in log_entry.message:
                rule = "xsd:attribute"
            else:
                rule = "xsd:schema"
            problems.append(Problem(message=message, path=path, rule=rule, line=log_entry.line or None))
            if len(problems) >= limit:
                break
        return problems

    def _detailed_problems(self, entry: SchemaEntry, tree: etree._ElementTree, limit: int,
                           problems: list[Problem]) -> None:
        seen: set[tuple[str | None, str]] = set()
        paths = ElementPaths()
        # xmlschema validates lxml trees (documented), but its type hints list only ElementTree's and its protocols.
        for error in entry.detailed.iter_errors(tree):  # type: ignore[arg-type]
            element = error.elem if isinstance(error.elem, etree._Element) else None
            path = paths.of(element) if element is not None else error.path
            message = _plain_names(error.reason or str(error.message))
            if len(message) > MESSAGE_LIMIT:
                message = message[:MESSAGE_LIMIT] + f"… ({len(message) - MESSAGE_LIMIT} more characters)"
            value = element.text.strip() if element is not None and element.text else None
            if value and len(element) == 0 and "value" in message and "attribute" not in message:
                message = f"{message} (found {value[:60]!r})"
            key = (path, message)
            if key in seen:
                continue
            seen.add(key)
            problems.append(Problem(
                message=message,
                path=path,
                rule=_rule_for(error.validator, message),
                line=element.sourceline if element is not None else error.sourceline,
            ))
            if len(problems) >= limit:
                break


class DocumentChecker:
    """Untrusted bytes -> a parsed, schema-valid tree of ``kind`` (or a precise rejection): the
    first steps of every XML intake, declarations and e-lock telemetry alike."""

    def __init__(self, schema_dir: Path, max_problems: int = 25) -> None:
        self.registry = SchemaRegistry(schema_dir)
        self.max_problems = max_problems

    def check(self, body: bytes, kind: str, max_attributes: int = MAX_ATTRIBUTES) -> etree._ElementTree:
        """Parse and schema-validate a document of ``kind`` (declaration, cancellation, ...)."""
        tree = parse_untrusted(body, max_attributes)
        self.registry.validate(tree, kind, self.max_problems)
        return tree
