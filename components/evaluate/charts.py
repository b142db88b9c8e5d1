"""Charts as PNG bytes, drawn with matplotlib's Agg canvas (no display, no pyplot state)."""
from __future__ import annotations

import io
from typing import Mapping, Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import LogLocator, MaxNLocator, NullFormatter, ScalarFormatter

MAX_LEGEND = 10
SPLIT_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd")


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=100, bbox_inches="tight")
    return out.getvalue()


def _bar_height(count: int) -> float:
    return min(max(2.2, 0.28 * count + 1.2), 40.0)


def ap_bars(names: Sequence[str], ap: Sequence[float], ap50: Sequence[float]) -> bytes:
    """Horizontal bars of AP@[.5:.95] and AP@0.5 per class, best class on top."""
    order = sorted(range(len(names)), key=lambda i: (ap[i], ap50[i]))
    fig = Figure(figsize=(7.5, _bar_height(len(names))))
    ax = fig.add_subplot()
    ys = list(range(len(order)))
    ax.barh([y + 0.2 for y in ys], [ap50[i] for i in order], height=0.4, color="#9ecae1", label="AP@0.5")
    ax.barh([y - 0.2 for y in ys], [ap[i] for i in order], height=0.4, color="#08519c", label="AP@[.5:.95]")
    ax.set_yticks(ys, [names[i] for i in order], fontsize=8 if len(names) > 20 else 10)
    ax.set_xlim(0, 1)
    ax.set_xlabel("average precision")
    ax.set_title("Average precision per class")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    return _png(fig)


def pr_curves(recall: Sequence[float], curves: Mapping[float, Mapping[str, Sequence[float]]]) -> bytes:
    """One panel per IoU threshold: a line per class (thin grey when many) and their mean in black."""
    fig = Figure(figsize=(5.2 * len(curves), 4.4))
    for n, (iou, by_class) in enumerate(sorted(curves.items()), start=1):
        ax = fig.add_subplot(1, len(curves), n)
        many = len(by_class) > MAX_LEGEND
        for name, precision in sorted(by_class.items()):
            if many:
                ax.plot(recall, precision, color="#b0b0b0", linewidth=0.7)
            else:
                ax.plot(recall, precision, linewidth=1.4, label=name)
        if by_class:
            columns = list(zip(*by_class.values()))
            ax.plot(recall, [sum(c) / len(c) for c in columns], color="black", linewidth=2.2,
                    label=f"mean of {len(by_class)} classes")
            ax.legend(loc="lower left", fontsize=8)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("recall")
        ax.set_ylabel("precision (interpolated)")
        ax.set_title(f"Precision-recall at IoU {iou:.2f}")
        ax.grid(alpha=0.3)
    return _png(fig)


def grouped_bars(names: Sequence[str], counts: Mapping[str, Sequence[int]], title: str, xlabel: str) -> bytes:
    """Horizontal bars per name, one colour per group (e.g. split), in the order given."""
    fig = Figure(figsize=(7.5, _bar_height(len(names))))
    ax = fig.add_subplot()
    groups = list(counts)
    width = 0.8 / max(1, len(groups))
    ys = list(range(len(names)))[::-1]
    for g, group in enumerate(groups):
        offset = 0.4 - width * (g + 0.5)
        ax.barh([y + offset for y in ys], counts[group], height=width,
                color=SPLIT_COLOURS[g % len(SPLIT_COLOURS)], label=group)
    ax.set_yticks(ys, list(names), fontsize=8 if len(names) > 20 else 10)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    if len(groups) > 1:
        ax.legend(loc="lower right", fontsize=8)
    return _png(fig)


def histogram(values: Sequence[float], bins: int | Sequence[float], title: str, xlabel: str,
              integer: bool = False) -> bytes:
    """A histogram of plain numbers (``integer``: whole-number ticks on both axes)."""
    fig = Figure(figsize=(5.2, 3.4))
    ax = fig.add_subplot()
    ax.hist(list(values), bins=bins, color="#4c72b0", edgecolor="white")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if integer:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("count")
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def scatter(xs: Sequence[float], ys: Sequence[float], title: str, xlabel: str, ylabel: str) -> bytes:
    """A scatter plot on log-log axes (box sizes span orders of magnitude)."""
    fig = Figure(figsize=(5.2, 3.4))
    ax = fig.add_subplot()
    few = len(xs) < 500
    ax.scatter(list(xs), list(ys), s=16 if few else 5, alpha=0.7 if few else 0.35, color="#4c72b0",
               edgecolors="none")
    if xs:
        ax.set_xscale("log")
        ax.set_yscale("log")
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            axis.set_major_formatter(ScalarFormatter())
            axis.set_minor_formatter(NullFormatter())
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    return _png(fig)
