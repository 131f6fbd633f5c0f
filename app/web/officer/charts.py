"""Server-rendered SVG charts (no JavaScript, no CDN): bar charts and an e-lock track.
Every label is escaped; the markup is safe to embed in a page."""
from __future__ import annotations

from collections.abc import Sequence

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


def track(points: Sequence[tuple[float, float]], title: str, width: int = 560, height: int = 260) -> Markup:
    """An e-lock's reported positions (longitude, latitude) as a polyline, start and end marked."""
    if not points:
        return Markup("")
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    span_x = max(max(xs) - min(xs), 1e-6)
    span_y = max(max(ys) - min(ys), 1e-6)
    scale = min((width - 20) / span_x, (height - 20) / span_y)

    def project(lon: float, lat: float) -> tuple[float, float]:
        return 10 + (lon - min(xs)) * scale, height - 10 - (lat - min(ys)) * scale

    projected = [project(lon, lat) for lon, lat in points]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in projected)
    (sx, sy), (ex, ey) = projected[0], projected[-1]
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart track" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%"><title>{escape(title)}</title>'
        f'<polyline points="{path}" fill="none" stroke="{PALETTE[0]}" stroke-width="2"/>'
        f'<circle cx="{sx:.1f}" cy="{sy:.1f}" r="5" fill="{PALETTE[3]}"/>'
        f'<circle cx="{ex:.1f}" cy="{ey:.1f}" r="5" fill="{PALETTE[2]}"/></svg>')
