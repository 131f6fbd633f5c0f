"""Server-rendered charts and the Traditional Chinese catalogue of the officers' pages."""
from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from app.web.officer.charts import bar_chart, track

TRANSLATIONS = Path(__file__).resolve().parents[2] / "app" / "translations"


def test_bar_chart_escapes_labels_and_scales_bars() -> None:
    svg = str(bar_chart(["<script>", "b"], [10, 5], "Lane & mix"))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "<title>Lane &amp; mix</title>" in svg
    heights = [float(part.split('"')[0]) for part in svg.split('height="')[1:]]
    assert heights[0] == 2 * heights[1]


def test_bar_chart_of_nothing_draws_no_bars() -> None:
    svg = str(bar_chart([], [], "empty"))
    assert svg.startswith("<svg") and "<rect" not in svg


def test_track_marks_start_and_end() -> None:
    svg = str(track([(114.10, 22.50), (114.15, 22.40), (114.17, 22.30)], "track"))
    assert svg.count("<circle") == 2 and "<polyline" in svg
    assert str(track([], "none")) == ""


def test_every_message_has_a_traditional_chinese_translation_compiled() -> None:
    with (TRANSLATIONS / "messages.pot").open("rb") as handle:
        template = read_po(handle)
    with (TRANSLATIONS / "zh_Hant" / "LC_MESSAGES" / "messages.mo").open("rb") as handle:
        compiled = read_mo(handle)
    missing = [m.id for m in template if m.id and not (compiled.get(m.id) and compiled.get(m.id).string)]
    assert missing == []
    assert compiled.get("Case queue").string == "案件隊列"
