"""Plain payload dicts as XML or JSON documents: the API's response envelope and the routed
messages share this one mapping, each with its own namespace and names.

Keys are snake_case; XML element names are their UpperCamelCase forms (``declaration_id`` ->
``DeclarationID``), absent (None) fields are left out, and a list becomes a wrapper element
with one child per item (``errors`` -> ``Errors/Error``). An lxml element as a value is
embedded as it is (a stored message inside the pull queue's answer).
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from lxml import etree


def iso(moment: datetime) -> str:
    """UTC ISO 8601."""
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return iso(value)
    return str(value)


def compact(value: Any) -> Any:
    """Drop absent (None) fields, as the XML form does."""
    if isinstance(value, dict):
        return {k: compact(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [compact(v) for v in value]
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value).__name__)


def to_json(payload: dict[str, Any], separators: tuple[str, str] | None = None) -> bytes:
    """The payload as UTF-8 JSON (Chinese text kept readable), absent fields left out."""
    return json.dumps(compact(payload), default=_json_default, ensure_ascii=False,
                      separators=separators).encode()


@dataclass(frozen=True)
class XmlVocabulary:
    """One schema's namespace, the words written in capitals (``id`` -> ``ID``) and the
    element name of each list's items."""

    namespace: str
    words: Mapping[str, str]
    item_names: Mapping[str, str]

    def element_name(self, key: str) -> str:
        return "".join(self.words.get(word, word.capitalize()) for word in key.split("_"))

    def to_xml(self, root: str, payload: dict[str, Any]) -> bytes:
        element = etree.Element(f"{{{self.namespace}}}{root}", nsmap={None: self.namespace})
        self._fill(element, payload)
        return etree.tostring(element, xml_declaration=True, encoding="UTF-8")

    def _fill(self, element: etree._Element, value: Any) -> None:
        if isinstance(value, etree._Element):
            element.append(value)
        elif isinstance(value, dict):
            for key, child in value.items():
                if child is None:
                    continue
                if isinstance(child, list):
                    wrapper = etree.SubElement(element, f"{{{self.namespace}}}{self.element_name(key)}")
                    for item in child:
                        self._fill(etree.SubElement(wrapper, f"{{{self.namespace}}}{self.item_names[key]}"), item)
                else:
                    self._fill(etree.SubElement(element, f"{{{self.namespace}}}{self.element_name(key)}"), child)
        else:
            element.text = _text(value)
