"""Small inline SVG plots (no plotting library): score vs cost, score by level."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f")
WIDTH, HEIGHT = 560, 330
LEFT, RIGHT, TOP, BOTTOM = 60, 150, 30, 45


@dataclass(frozen=True)
class Point:
    label: str
    x: float
    y: float
    y_low: float | None = None
    y_high: float | None = None
    reference: bool = False


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    if not math.isfinite(low) or not math.isfinite(high):
        return []
    if high <= low:
        return [low]
    raw = (high - low) / count
    step = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= step * factor:
            step *= factor
            break
    start = math.ceil(low / step) * step
    return [start + i * step for i in range(int((high - start) / step + 1e-9) + 1)]


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def _frame(title: str, x_label: str, y_label: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(title)}">',
        f'<text x="{LEFT}" y="18" class="plot-title">{escape(title)}</text>',
        f'<text x="{LEFT + (WIDTH - LEFT - RIGHT) / 2}" y="{HEIGHT - 8}" text-anchor="middle">{escape(x_label)}</text>',
        f'<text transform="translate(14 {TOP + (HEIGHT - TOP - BOTTOM) / 2}) rotate(-90)" '
        f'text-anchor="middle">{escape(y_label)}</text>',
    ]


def _axes(parts: list[str], y_low: float, y_high: float, y_of: Callable[[float], float]) -> None:
    right = WIDTH - RIGHT
    for tick in _ticks(y_low, y_high):
        y = y_of(tick)
        parts.append(f'<line x1="{LEFT}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(tick)}</text>')
    parts.append(f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" class="axis"/>')
    parts.append(
        f'<line x1="{LEFT}" x2="{right}" y1="{HEIGHT - BOTTOM}" y2="{HEIGHT - BOTTOM}" class="axis"/>'
    )


def _range(values: Sequence[float]) -> tuple[float, float]:
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return (0.0, 1.0)
    low, high = min(finite), max(finite)
    pad = (high - low) * 0.08 or max(abs(high) * 0.05, 0.05)
    return (low - pad, high + pad)


def scatter_svg(points: Sequence[Point], *, title: str, x_label: str, y_label: str) -> str:
    """Score (with CI whiskers) against cost per sample; reference rows drawn hollow."""
    parts = _frame(title, x_label, y_label)
    ys = [p.y for p in points] + [v for p in points for v in (p.y_low, p.y_high) if v is not None]
    y_low, y_high = _range(ys)
    x_low, x_high = _range([p.x for p in points])
    if all(p.x >= 0 for p in points):  # costs: the axis starts at zero
        x_low = 0.0
        if max((p.x for p in points), default=0.0) <= 0:
            x_high = 1.0
            parts.append(
                f'<text x="{LEFT + 8}" y="{HEIGHT - BOTTOM - 8}" class="plot-note">no costs recorded</text>'
            )
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_of(v: float) -> float:
        return LEFT + (v - x_low) / (x_high - x_low) * plot_w

    def y_of(v: float) -> float:
        return TOP + (1 - (v - y_low) / (y_high - y_low)) * plot_h

    _axes(parts, y_low, y_high, y_of)
    for tick in _ticks(x_low, x_high):
        parts.append(
            f'<text x="{x_of(tick):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">{_fmt(tick)}</text>'
        )
    for index, point in enumerate(points):
        colour = PALETTE[index % len(PALETTE)]
        cx, cy = x_of(point.x), y_of(point.y)
        if point.y_low is not None and point.y_high is not None:
            parts.append(
                f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{y_of(point.y_low):.1f}" y2="{y_of(point.y_high):.1f}" '
                f'stroke="{colour}" stroke-width="2"/>'
            )
        fill = "white" if point.reference else colour
        parts.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="5" fill="{fill}" stroke="{colour}" stroke-width="2">'
            f"<title>{escape(point.label)}: {_fmt(point.y)} at ${_fmt(point.x)}</title></circle>"
        )
        legend_y = TOP + 14 * index
        parts.append(
            f'<circle cx="{WIDTH - RIGHT + 14}" cy="{legend_y}" r="4" fill="{fill}" stroke="{colour}"/>'
        )
        suffix = " (ref)" if point.reference else ""
        parts.append(
            f'<text x="{WIDTH - RIGHT + 22}" y="{legend_y + 4}">{escape(point.label[:18] + suffix)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def bars_svg(
    groups: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], *, title: str, y_label: str
) -> str:
    """Grouped bars: one group per level, one bar per editor."""
    parts = _frame(title, "level", y_label)
    values = [v for _, vs in series for v in vs if v is not None]
    y_low, y_high = _range(values + [0.0] if values and min(values) >= 0 else values)
    y_low = 0.0 if values and min(values) >= 0 else y_low
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y_of(v: float) -> float:
        return TOP + (1 - (v - y_low) / (y_high - y_low)) * plot_h

    _axes(parts, y_low, y_high, y_of)
    group_w = plot_w / max(1, len(groups))
    bar_w = group_w * 0.8 / max(1, len(series))
    for g, group in enumerate(groups):
        gx = LEFT + g * group_w
        parts.append(
            f'<text x="{gx + group_w / 2:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">{escape(group)}</text>'
        )
        for s, (label, vs) in enumerate(series):
            value = vs[g]
            if value is None:
                continue
            top = y_of(value)
            x = gx + group_w * 0.1 + s * bar_w
            parts.append(
                f'<rect x="{x:.1f}" y="{top:.1f}" width="{bar_w:.1f}" height="{max(0.0, y_of(y_low) - top):.1f}" '
                f'fill="{PALETTE[s % len(PALETTE)]}"><title>{escape(label)} {escape(group)}: {_fmt(value)}</title></rect>'
            )
    for s, (label, _) in enumerate(series):
        legend_y = TOP + 14 * s
        parts.append(
            f'<rect x="{WIDTH - RIGHT + 10}" y="{legend_y - 5}" width="9" height="9" fill="{PALETTE[s % len(PALETTE)]}"/>'
        )
        parts.append(f'<text x="{WIDTH - RIGHT + 24}" y="{legend_y + 4}">{escape(label[:18])}</text>')
    parts.append("</svg>")
    return "\n".join(parts)
