"""Server-rendered SVG charts (no JavaScript, no CDN): bar charts and an e-lock track.
Every label is escaped; the markup is safe to embed in a page."""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

PALETTE = ("#1f5fa8", "#c77c02", "#b3261e", "#2e7d32", "#6a1b9a", "#546e7a")


def bar_chart(labels: Sequence[str], values: Sequence[float], title: str, width: int = 560, height: int = 200,
              colours: Sequence[str] | None = None, value_format: str = "{:g}") -> Markup:
    """Vertical bars with value labels; ``title`` becomes the accessible name."""
    count = max(1, len(values))
    top = max([*values, 1])
    plot_height = height - 40
    slot = width / count
    bar = max(4.0, slot * 0.7)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
             f'width="100%" preserveAspectRatio="xMidYMid meet"><title>{escape(title)}</title>']
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        bar_height = plot_height * (value / top) if top else 0
        x = index * slot + (slot - bar) / 2
        y = 20 + plot_height - bar_height
        colour = (colours or PALETTE)[index % len(colours or PALETTE)] if colours else PALETTE[0]
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{bar_height:.1f}" fill="{colour}">'
                     f'<title>{escape(label)}: {escape(value_format.format(value))}</title></rect>')
        parts.append(f'<text x="{x + bar / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle" font-size="11">'
                     f'{escape(value_format.format(value))}</text>')
        parts.append(f'<text x="{x + bar / 2:.1f}" y="{height - 6}" text-anchor="middle" font-size="10">'
                     f'{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True, slots=True)
class TrackLabels:
    """The words of the track drawing, in the reader's language."""

    title: str
    corridor: str
    route: str
    track: str
    start: str
    end: str
    outside: str
    deviation: str


def track(readings: Sequence[tuple[float, float, bool | None]], labels: TrackLabels,
          corridor: Sequence[tuple[float, float]] = (), route: Sequence[tuple[float, float]] = (),
          points: Sequence[tuple[str, float, float]] = (), width: int = 640, height: int = 360) -> Markup:
    """An e-lock's reported positions drawn over the approved route: the corridor (shaded),
    the route's line, its clearance points, the track, every position outside the corridor,
    the first of them ringed (where the deviation began), start and end, and a legend.
    Longitude is scaled by the cosine of the latitude so distances look as on a map."""
    if not readings and not corridor:
        return Markup("")
    legend_height = 64
    plot_height = height - legend_height
    everything = [(lon, lat) for lon, lat, _inside in readings] + list(corridor) + [(x, y) for _c, x, y in points]
    lats = [lat for _lon, lat in everything]
    squeeze = math.cos(math.radians(sum(lats) / len(lats)))
    xs = [lon * squeeze for lon, _lat in everything]
    min_x, max_x, min_y, max_y = min(xs), max(xs), min(lats), max(lats)
    span = max(max_x - min_x, max_y - min_y, 1e-6)
    scale = min((width - 40) / max(max_x - min_x, span * 0.2), (plot_height - 40) / max(max_y - min_y, span * 0.2))

    def at(lon: float, lat: float) -> tuple[float, float]:
        return 20 + (lon * squeeze - min_x) * scale, plot_height - 20 - (lat - min_y) * scale

    def line(coords: Sequence[tuple[float, float]]) -> str:
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in (at(lon, lat) for lon, lat in coords))

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart track" role="img" viewBox="0 0 {width} {height}" '
             f'width="100%"><title>{escape(labels.title)}</title>',
             f'<rect x="0" y="0" width="{width}" height="{plot_height}" fill="#f7f9fb"/>']
    if corridor:
        parts.append(f'<polygon class="corridor" points="{line(corridor)}" fill="#cfe3f7" stroke="#7fa8cf" '
                     'stroke-width="1"/>')
    if route:
        parts.append(f'<polyline class="route" points="{line(route)}" fill="none" stroke="#546e7a" '
                     'stroke-width="1.5" stroke-dasharray="6 4"/>')
    for code, lon, lat in points:
        x, y = at(lon, lat)
        parts.append(f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="#0f2f57"/>'
                     f'<text x="{x + 7:.1f}" y="{y - 6:.1f}" font-size="12" fill="#0f2f57">{escape(code)}</text>')
    coords = [(lon, lat) for lon, lat, _inside in readings]
    if len(coords) > 1:
        parts.append(f'<polyline class="track" points="{line(coords)}" fill="none" stroke="{PALETTE[0]}" '
                     'stroke-width="2.5"/>')
    first_outside = None
    for lon, lat, inside in readings:
        if inside is False:
            x, y = at(lon, lat)
            parts.append(f'<path class="outside" d="M{x - 5:.1f},{y - 5:.1f} L{x + 5:.1f},{y + 5:.1f} '
                         f'M{x - 5:.1f},{y + 5:.1f} L{x + 5:.1f},{y - 5:.1f}" stroke="{PALETTE[2]}" '
                         'stroke-width="2.5"/>')
            if first_outside is None:
                first_outside = (x, y)
    if first_outside is not None:
        x, y = first_outside
        parts.append(f'<circle class="deviation" cx="{x:.1f}" cy="{y:.1f}" r="11" fill="none" stroke="{PALETTE[2]}" '
                     f'stroke-width="2"/><text x="{x + 14:.1f}" y="{y + 4:.1f}" font-size="12" font-weight="bold" '
                     f'fill="{PALETTE[2]}">{escape(labels.deviation)}</text>')
    if coords:
        (sx, sy), (ex, ey) = at(*coords[0]), at(*coords[-1])
        parts.append(f'<circle class="start" cx="{sx:.1f}" cy="{sy:.1f}" r="6" fill="{PALETTE[3]}"/>'
                     f'<circle class="end" cx="{ex:.1f}" cy="{ey:.1f}" r="6" fill="#fff" stroke="{PALETTE[0]}" '
                     'stroke-width="3"/>')
    legend = [
        '<rect x="0" y="0" width="18" height="10" fill="#cfe3f7" stroke="#7fa8cf"/>', labels.corridor,
        '<line x1="0" y1="5" x2="18" y2="5" stroke="#546e7a" stroke-width="1.5" stroke-dasharray="6 4"/>',
        labels.route,
        f'<line x1="0" y1="5" x2="18" y2="5" stroke="{PALETTE[0]}" stroke-width="2.5"/>', labels.track,
        f'<circle cx="9" cy="5" r="5" fill="{PALETTE[3]}"/>', labels.start,
        f'<circle cx="9" cy="5" r="5" fill="#fff" stroke="{PALETTE[0]}" stroke-width="3"/>', labels.end,
        f'<path d="M4,0 L14,10 M4,10 L14,0" stroke="{PALETTE[2]}" stroke-width="2.5"/>', labels.outside,
    ]
    parts.append(f'<g class="legend" transform="translate(12 {plot_height + 10})" font-size="12">')
    for index in range(0, len(legend), 2):
        column, row = (index // 2) % 3, (index // 2) // 3
        parts.append(f'<g transform="translate({column * (width - 24) / 3:.1f} {row * 22})">{legend[index]}'
                     f'<text x="24" y="10" fill="#1b1b1b">{escape(legend[index + 1])}</text></g>')
    parts.append("</g></svg>")
    return Markup("".join(parts))
