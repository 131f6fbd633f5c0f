"""Every message a person can see has its Traditional Chinese translation, compiled.

The messages are extracted from the sources as ``pybabel extract`` does (``babel.cfg``), so a
new ``_("...")`` in a page or a view fails here until the catalogue translates it, and an
edited catalogue fails until it is compiled."""
from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "app" / "translations" / "zh_Hant" / "LC_MESSAGES"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None, "N_": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdf]")


def _method_map() -> list[tuple[str, str]]:
    """``babel.cfg``'s sections: ``[python: app/web/**.py]`` -> ("app/web/**.py", "python")."""
    sections = re.findall(r"^\[(\w+):\s*([^\]]+)\]", (ROOT / "babel.cfg").read_text(), flags=re.MULTILINE)
    return [(pattern.strip(), method) for method, pattern in sections]


def _messages() -> dict[str, str]:
    """Every message id the sources mark, with where it is."""
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), _method_map(), keywords=KEYWORDS, options_map={"**.html": {"extensions": "jinja2.ext.do"}}):
        for text in message if isinstance(message, tuple) else (message,):
            if text:
                found.setdefault(text, f"{filename}:{lineno}")
    return found


def test_every_marked_message_has_a_compiled_traditional_chinese_translation() -> None:
    messages = _messages()
    assert len(messages) > 300, "extraction found too little: is babel.cfg right?"
    with (CATALOGUE / "messages.po").open("rb") as handle:
        source = read_po(handle)
    with (CATALOGUE / "messages.mo").open("rb") as handle:
        compiled = read_mo(handle)
    untranslated = [f"{where}: {text!r}" for text, where in messages.items()
                    if not (source.get(text) and source.get(text).string)]
    assert untranslated == [], "translate these in messages.po:\n" + "\n".join(untranslated)
    stale = [text for text in messages if not (compiled.get(text) and compiled.get(text).string
                                               == source.get(text).string)]
    assert stale == [], "compile the catalogue (pybabel compile -d app/translations): " + repr(stale[:5])


def test_translations_keep_their_placeholders() -> None:
    with (CATALOGUE / "messages.po").open("rb") as handle:
        source = read_po(handle)
    broken = []
    for message in source:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(PLACEHOLDER.findall(ids[0]))
        if any(set(PLACEHOLDER.findall(text)) != wanted for text in strings):
            broken.append(ids[0])
    assert broken == []


def test_a_known_message_reads_in_chinese() -> None:
    with (CATALOGUE / "messages.mo").open("rb") as handle:
        compiled = read_mo(handle)
    assert compiled.get("Case queue").string == "案件隊列"
