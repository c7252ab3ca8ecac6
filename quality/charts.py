"""Small inline-SVG charts for the report: no script, no network, readable when printed."""

from __future__ import annotations

import html
import math

INK, MUTED = "#1d2733", "#66717d"


def bars(labels: list[str], values: list[float], title: str, color: str = "#2f6fb0", width: int = 1000) -> str:
    """A vertical bar chart."""
    height, bottom = 240, 40
    top = max(values) if values and max(values) > 0 else 1
    step = (width - 60) / max(len(values), 1)
    parts = []
    for i, (label, value) in enumerate(zip(labels, values)):
        h = (height - bottom - 20) * value / top
        x = 50 + i * step
        parts.append(f"<rect x='{x + 2:.1f}' y='{height - bottom - h:.1f}' width='{step - 4:.1f}' height='{h:.1f}' "
                     f"fill='{color}'><title>{html.escape(label)}: {value:,.0f}</title></rect>"
                     f"<text x='{x + step / 2:.1f}' y='{height - bottom + 14}' font-size='10' "
                     f"text-anchor='middle'>{html.escape(label)}</text>")
        if value:
            parts.append(f"<text x='{x + step / 2:.1f}' y='{height - bottom - h - 4:.1f}' font-size='10' "
                         f"text-anchor='middle'>{value:,.0f}</text>")
    return _svg(width, height, title, parts)


def log_histogram(counts: list[int], title: str, marks: dict[str, float], width: int = 1000) -> str:
    """Pairs per probability band on a log scale (thousands of sure non-matches next to a
    few dozen uncertain pairs), with vertical marks at the thresholds (value in [0, 1])."""
    height, bottom, left = 260, 40, 50
    plot_w, plot_h = width - left - 10, height - bottom - 30
    top = math.log10(max(max(counts, default=1), 1) + 1)
    step = plot_w / max(len(counts), 1)
    parts = []
    for i, count in enumerate(counts):
        h = plot_h * math.log10(count + 1) / top if top else 0
        x = left + i * step
        lower = i / len(counts)
        parts.append(f"<rect x='{x + 1:.1f}' y='{height - bottom - h:.1f}' width='{step - 2:.1f}' height='{h:.1f}' "
                     f"fill='#2f6fb0'><title>{lower:.2f}–{lower + 1 / len(counts):.2f}: {count:,} pairs</title></rect>")
        if i % max(len(counts) // 10, 1) == 0:
            parts.append(f"<text x='{x:.1f}' y='{height - bottom + 14}' font-size='10'>{lower:.1f}</text>")
    for power in range(0, int(top) + 1):
        y = height - bottom - plot_h * math.log10(10 ** power + 1) / top
        parts.append(f"<text x='{left - 6}' y='{y + 3:.1f}' font-size='10' text-anchor='end' fill='{MUTED}'>"
                     f"{10 ** power:,}</text><line x1='{left}' x2='{width - 10}' y1='{y:.1f}' y2='{y:.1f}' "
                     f"stroke='#eef1f4'/>")
    for number, (label, value) in enumerate(marks.items()):
        x = left + plot_w * value
        # Near the right edge the label goes left of its line; labels step down so none overlap.
        anchor, dx = ("end", -3) if value > 0.85 else ("start", 3)
        parts.append(f"<line x1='{x:.1f}' x2='{x:.1f}' y1='28' y2='{height - bottom}' stroke='#b42318' "
                     f"stroke-dasharray='4 3'/><text x='{x + dx:.1f}' y='{38 + 13 * number}' font-size='11' "
                     f"fill='#b42318' text-anchor='{anchor}'>{html.escape(label)} {value:g}</text>")
    return _svg(width, height, title, parts)


def trend(points: list[tuple[str, float]], title: str, width: int = 320, percent: bool = False) -> str:
    """A small line chart of one figure over the runs (oldest left)."""
    height, pad = 110, 24
    values = [v for _, v in points]
    low, high = min(values, default=0), max(values, default=1)
    span = (high - low) or 1
    step = (width - 2 * pad) / max(len(points) - 1, 1)
    xy = [(pad + i * step, height - pad - (height - 2 * pad - 10) * (v - low) / span) for i, v in enumerate(values)]
    shown = (lambda v: f"{v:.1%}") if percent else (lambda v: f"{v:,.0f}")
    parts = ["<polyline fill='none' stroke='#2f6fb0' stroke-width='2' points='"
             + " ".join(f"{x:.1f},{y:.1f}" for x, y in xy) + "'/>"]
    parts += [f"<circle cx='{x:.1f}' cy='{y:.1f}' r='3' fill='#2f6fb0'><title>{html.escape(when)}: {shown(v)}"
              f"</title></circle>" for (x, y), (when, v) in zip(xy, points)]
    if values:
        parts.append(f"<text x='{width - pad}' y='{height - 6}' font-size='11' text-anchor='end'>now {shown(values[-1])}</text>")
    return _svg(width, height, title, parts)


def _svg(width: int, height: int, title: str, parts: list[str]) -> str:
    return (f"<svg width='{width}' height='{height}' role='img' aria-label='{html.escape(title)}'>"
            f"<text x='8' y='16' font-size='13' font-weight='600' fill='{INK}'>{html.escape(title)}</text>"
            f"{''.join(parts)}</svg>")
