"""The preview's charts as small SVG documents, written as text: no plotting library needed.

Each function returns the SVG as UTF-8 bytes, for ``pages.img(svg, MIME, ...)``. Bars and points
carry ``class="bar"`` and ``class="point"``, so a page can be checked by counting them.
"""
from __future__ import annotations

import math
from html import escape
from typing import Mapping, Sequence

MIME = "image/svg+xml"
SPLIT_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd")
BAR_COLOUR = "#4c72b0"
FONT = 'font-family="DejaVu Sans, Arial, sans-serif"'
CHAR_WIDTH = 6.5  # px per character of 11 px text, to size the label margin
PLOT_WIDTH, PLOT_HEIGHT = 420, 220
TOP, BOTTOM, RIGHT = 30, 42, 16


def linear_ticks(top: float, integer: bool = False, most: int = 6) -> list[float]:
    """Ticks from 0 to at least ``top`` in steps of 1, 2 or 5 times a power of ten."""
    top = max(top, 1.0 if integer else 1e-9)
    raw = top / (most - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    if integer:
        step = max(1, round(step))
    return [round(i * step, 12) for i in range(int(math.ceil(top / step - 1e-9)) + 1)]


def log_ticks(low: float, high: float) -> list[float]:
    """1, 2 and 5 times the powers of ten between ``low`` and ``high``."""
    ticks = []
    for power in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
        ticks += [m * 10.0 ** power for m in (1, 2, 5) if low <= m * 10.0 ** power <= high]
    return ticks


def _number(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e6 else f"{value:.0e}"


def _text(x: float, y: float, text: str, anchor: str = "middle", size: int = 11, extra: str = "") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" {FONT}{extra}>'
            f"{escape(str(text))}</text>")


def _document(width: float, height: float, title: str, parts: list[str]) -> bytes:
    body = "".join(parts)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}"><rect width="100%" height="100%" fill="white"/>'
            f"{_text(width / 2, 18, title, size=13)}{body}</svg>").encode("utf-8")


def _frame(left: float, width: float, height: float, xlabel: str, ylabel: str) -> list[str]:
    parts = [f'<rect x="{left}" y="{TOP}" width="{width}" height="{height}" fill="none" stroke="#888"/>',
             _text(left + width / 2, TOP + height + 34, xlabel)]
    if ylabel:
        parts.append(_text(14, TOP + height / 2, ylabel, extra=f' transform="rotate(-90 14 {TOP + height / 2})"'))
    return parts


def grouped_bars(names: Sequence[str], counts: Mapping[str, Sequence[int]], title: str, xlabel: str) -> bytes:
    """Horizontal bars per name, one colour per group (e.g. split), names top to bottom as given."""
    groups = list(counts)
    row = 8 + 10 * max(1, len(groups))
    height = max(60, row * len(names))
    left = 12 + CHAR_WIDTH * min(28, max((len(n) for n in names), default=1))
    ticks = linear_ticks(max((max(c, default=0) for c in counts.values()), default=0), integer=True)
    scale = PLOT_WIDTH / ticks[-1]
    parts = _frame(left, PLOT_WIDTH, height, xlabel, "")
    for tick in ticks:
        x = left + tick * scale
        parts += [f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{TOP + height}" stroke="#ddd"/>',
                  _text(x, TOP + height + 15, _number(tick))]
    bar = (row - 8) / max(1, len(groups))
    for n, name in enumerate(names):
        y = TOP + n * row + 4
        parts.append(_text(left - 6, y + row / 2, name[:28], anchor="end", extra=' dominant-baseline="middle"'))
        for g, group in enumerate(groups):
            value = counts[group][n]
            parts.append(f'<rect class="bar" x="{left}" y="{y + g * bar:.1f}" width="{value * scale:.1f}" '
                         f'height="{bar:.1f}" fill="{SPLIT_COLOURS[g % len(SPLIT_COLOURS)]}">'
                         f"<title>{escape(f'{name}, {group}: {value:,}')}</title></rect>")
    if len(groups) > 1:
        for g, group in enumerate(groups):
            x = left + PLOT_WIDTH + 8
            parts += [f'<rect x="{x}" y="{TOP + g * 16}" width="10" height="10" '
                      f'fill="{SPLIT_COLOURS[g % len(SPLIT_COLOURS)]}"/>', _text(x + 14, TOP + g * 16 + 9, group, "start")]
    legend = 90 if len(groups) > 1 else 0
    return _document(left + PLOT_WIDTH + RIGHT + legend, TOP + height + BOTTOM, title, parts)


def bin_counts(values: Sequence[float], bins: int | Sequence[float]) -> tuple[list[float], list[int]]:
    """(edges, counts) of a histogram; the last bin includes its right edge, as numpy's does."""
    values = list(values)
    if isinstance(bins, int):
        low, high = (min(values), max(values)) if values else (0.0, 1.0)
        high = high if high > low else low + 1.0
        edges = [low + (high - low) * i / bins for i in range(bins + 1)]
    else:
        edges = [float(e) for e in bins]
    counts = [0] * (len(edges) - 1)
    for value in values:
        for i in range(len(counts)):
            if edges[i] <= value < edges[i + 1] or (i == len(counts) - 1 and value == edges[-1]):
                counts[i] += 1
                break
    return edges, counts


def histogram(values: Sequence[float], bins: int | Sequence[float], title: str, xlabel: str,
              integer: bool = False) -> bytes:
    """A histogram of plain numbers (``integer``: whole numbers under the bars' centres)."""
    edges, counts = bin_counts(values, bins)
    left = 56
    ticks = linear_ticks(max(counts, default=0), integer=True)
    x_scale = PLOT_WIDTH / (edges[-1] - edges[0])
    y_scale = PLOT_HEIGHT / ticks[-1]
    parts = _frame(left, PLOT_WIDTH, PLOT_HEIGHT, xlabel, "count")
    for tick in ticks:
        y = TOP + PLOT_HEIGHT - tick * y_scale
        parts += [f'<line x1="{left}" y1="{y:.1f}" x2="{left + PLOT_WIDTH}" y2="{y:.1f}" stroke="#ddd"/>',
                  _text(left - 6, y + 4, _number(tick), anchor="end")]
    every = max(1, len(counts) // 10)
    for i, count in enumerate(counts):
        x0, x1 = left + (edges[i] - edges[0]) * x_scale, left + (edges[i + 1] - edges[0]) * x_scale
        height = count * y_scale
        parts.append(f'<rect class="bar" x="{x0 + 0.5:.1f}" y="{TOP + PLOT_HEIGHT - height:.1f}" '
                     f'width="{max(0.5, x1 - x0 - 1):.1f}" height="{height:.1f}" fill="{BAR_COLOUR}">'
                     f"<title>{escape(f'{_number(edges[i])} to {_number(edges[i + 1])}: {count:,}')}</title></rect>")
        if i % every == 0:
            label = _number(round((edges[i] + edges[i + 1]) / 2)) if integer else _number(edges[i])
            parts.append(_text((x0 + x1) / 2 if integer else x0, TOP + PLOT_HEIGHT + 15, label))
    return _document(left + PLOT_WIDTH + RIGHT, TOP + PLOT_HEIGHT + BOTTOM, title, parts)


def scatter(xs: Sequence[float], ys: Sequence[float], title: str, xlabel: str, ylabel: str) -> bytes:
    """Points on log-log axes (box sizes span orders of magnitude); values must be positive."""
    left = 56
    parts = _frame(left, PLOT_WIDTH, PLOT_HEIGHT, xlabel, ylabel)
    if xs:
        spans = []
        for values in (xs, ys):
            low, high = math.log10(min(values)), math.log10(max(values))
            spans.append((low - 0.05, high + 0.05 if high > low else low + 1.0))
        (x_low, x_high), (y_low, y_high) = spans

        def px(x: float) -> float:
            return left + (math.log10(x) - x_low) / (x_high - x_low) * PLOT_WIDTH

        def py(y: float) -> float:
            return TOP + PLOT_HEIGHT - (math.log10(y) - y_low) / (y_high - y_low) * PLOT_HEIGHT

        for tick in log_ticks(10 ** x_low, 10 ** x_high):
            parts += [f'<line x1="{px(tick):.1f}" y1="{TOP}" x2="{px(tick):.1f}" y2="{TOP + PLOT_HEIGHT}" '
                      'stroke="#ddd"/>', _text(px(tick), TOP + PLOT_HEIGHT + 15, _number(tick))]
        for tick in log_ticks(10 ** y_low, 10 ** y_high):
            parts += [f'<line x1="{left}" y1="{py(tick):.1f}" x2="{left + PLOT_WIDTH}" y2="{py(tick):.1f}" '
                      'stroke="#ddd"/>', _text(left - 6, py(tick) + 4, _number(tick), anchor="end")]
        radius, opacity = (2.5, 0.7) if len(xs) < 500 else (1.5, 0.35)
        parts += [f'<circle class="point" cx="{px(x):.1f}" cy="{py(y):.1f}" r="{radius}" fill="{BAR_COLOUR}" '
                  f'fill-opacity="{opacity}"/>' for x, y in zip(xs, ys)]
    return _document(left + PLOT_WIDTH + RIGHT, TOP + PLOT_HEIGHT + BOTTOM, title, parts)
