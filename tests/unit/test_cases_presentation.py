"""Server-rendered charts: bars, and the e-lock track over its corridor."""
from __future__ import annotations

from app.web.officer.charts import TrackLabels, bar_chart, track


def test_bar_chart_escapes_labels_and_scales_bars() -> None:
    svg = str(bar_chart(["<script>", "b"], [10, 5], "Lane & mix"))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "<title>Lane &amp; mix</title>" in svg
    heights = [float(part.split('"')[0]) for part in svg.split('height="')[1:]]
    assert heights[0] == 2 * heights[1]


def test_bar_chart_of_nothing_draws_no_bars() -> None:
    svg = str(bar_chart([], [], "empty"))
    assert svg.startswith("<svg") and "<rect" not in svg


LABELS = TrackLabels(title="E-lock track", corridor="corridor", route="route", track="track", start="start",
                     end="end", outside="outside", deviation="left the route here")


def test_track_is_drawn_over_the_corridor_with_the_deviation_marked_and_a_legend() -> None:
    corridor = [(114.09, 22.29), (114.19, 22.29), (114.19, 22.51), (114.09, 22.51), (114.09, 22.29)]
    readings = [(114.10, 22.30, True), (114.15, 22.40, True), (114.30, 22.42, False), (114.31, 22.43, False),
                (114.17, 22.50, True)]
    svg = str(track(readings, LABELS, corridor, [(114.10, 22.30), (114.17, 22.50)],
                    [("HKLMC", 114.17, 22.50), ("<x>", 114.10, 22.30)]))
    assert 'class="corridor"' in svg and 'class="route"' in svg and 'class="track"' in svg
    assert svg.count('class="outside"') == 2  # every position outside the corridor
    assert svg.count('class="deviation"') == 1 and "left the route here" in svg  # where it began
    assert 'class="start"' in svg and 'class="end"' in svg
    legend = svg.split('class="legend"')[1]
    for word in ("corridor", "route", "track", "start", "end", "outside"):
        assert f">{word}</text>" in legend
    assert "&lt;x&gt;" in svg and "<x>" not in svg
    first_cross = svg.split('class="outside" d="M')[1].split(",")[0]
    ring = svg.split('class="deviation" cx="')[1].split('"')[0]
    assert abs(float(first_cross) + 5 - float(ring)) < 0.2  # the ring is on the first position outside


def test_a_track_inside_its_corridor_has_no_deviation_and_nothing_draws_nothing() -> None:
    svg = str(track([(114.10, 22.30, True), (114.17, 22.50, True)], LABELS,
                    [(114.09, 22.29), (114.19, 22.29), (114.19, 22.51), (114.09, 22.29)]))
    assert 'class="deviation"' not in svg and 'class="outside"' not in svg
    assert str(track([], LABELS)) == ""
