"""The dataset preview page, built from a ``summary.DatasetSummary`` and the optional ``stats.json``.

Sample images are JPEGs drawn with Pillow; charts are inline SVG (``charts``), so the page needs
no plotting library.
"""
from __future__ import annotations

import io
import math

from components.preview import pages
from components.preview import charts, drawing
from components.preview.summary import DatasetSummary

MAX_SIZE_ROWS = 15
MAX_SKIP_PATHS = 3


def _overview(summary: DatasetSummary, stats: dict | None, max_records: int) -> str:
    objects = sum(sum(c.values()) for c in summary.objects.values())
    rows = [("records read", pages.fmt(summary.records))]
    rows += [(f"records in {split}", pages.fmt(n)) for split, n in sorted(summary.per_split.items())]
    rows += [("objects", pages.fmt(objects)),
             ("objects per image (mean)", f"{objects / max(summary.records, 1):.2f}"),
             ("classes seen", pages.fmt(len({k for c in summary.objects.values() for k in c}))),
             ("image formats", ", ".join(f"{k} {v:,}" for k, v in summary.formats.most_common()))]
    note = ""
    if summary.limit_reached:
        note = (f'<p class="note">Counts below cover the first {max_records:,} records (shards read in '
                "turn); the converter's counts for the whole dataset are under \u201cConversion\u201d.</p>")
    parts = [pages.table(("records", "value"), rows, numeric=(1,)), note]
    if stats:
        conv = [("source", stats.get("source", "")), ("format", stats.get("format", "")),
                ("images read", pages.fmt(stats.get("images_read")))]
        for split, n in sorted((stats.get("examples") or {}).items()):
            conv.append((f"{split} examples / objects", f"{n:,} / {(stats.get('objects') or {}).get(split, 0):,}"))
        conv += [("images skipped", pages.fmt(sum((stats.get("skipped") or {}).values())))]
        conv += [(f"boxes dropped: {reason}", pages.fmt(n))
                 for reason, n in sorted((stats.get("dropped_boxes") or {}).items())]
        conv += [(f"images with {reason.replace('_', ' ')}", pages.fmt(n))
                 for reason, n in sorted((stats.get("warnings") or {}).items())]
        conv += [("eval share", f"{stats.get('eval_pct', '?')} %"),
                 ("num_classes (Model Garden)", pages.fmt(stats.get("num_classes")))]
        parts.append("<h3>Conversion (stats.json)</h3>" + pages.table(("what", "value"), conv))
    return '<div class="row"><div>' + "</div><div>".join(p for p in parts if p) + "</div></div>"


def _grid(summary: DatasetSummary) -> str:
    if not summary.samples:
        return '<p class="note">No images sampled.</p>'
    from PIL import Image

    figures = []
    for ex in summary.samples:
        boxes = tuple(drawing.Box(*(float(v) for v in box), summary.name(int(label)))
                      for box, label in zip(ex.pixel_boxes(), ex.labels))
        try:
            jpeg = drawing.render(ex.encoded, [(boxes, drawing.GROUND_TRUTH, False)], max_side=480)
            with Image.open(io.BytesIO(ex.encoded)) as image:
                actual = image.size
        # Pillow raises OSError for damaged data, DecompressionBombError for an implausible size and
        # ValueError or SyntaxError for some malformed headers: each is a record to name, not a crash.
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as err:
            where = f"{ex.filename} (record {ex.source_id or '?'} in {ex.file.rsplit('/', 1)[-1]})"
            summary.problem("image/encoded does not decode", where)
            figures.append(f"<figure><figcaption>{pages.esc(where)}: cannot decode ({pages.esc(err)})"
                           "</figcaption></figure>")
            continue
        if actual != (ex.width, ex.height):
            summary.problem("image/width, image/height differ from the image", ex.filename)
        caption = f"{pages.esc(ex.filename)}<br>{ex.width}\u00d7{ex.height}, {ex.num_objects} objects"
        figures.append(f"<figure>{pages.img(jpeg, 'image/jpeg', ex.filename)}<figcaption>{caption}"
                       "</figcaption></figure>")
    return (f"<p>{pages.key(drawing.GROUND_TRUTH, 'box and class as stored in the record')}</p>"
            f'<div class="grid small">{"".join(figures)}</div>')


def _classes(summary: DatasetSummary, stats: dict | None) -> str:
    ids = summary.class_ids()
    if not ids:
        return '<p class="note">No objects and no label map.</p>'
    splits = sorted(summary.objects) or ["records"]
    counts = {s: [summary.objects.get(s, {}).get(i, 0) for i in ids] for s in splits}
    chart = charts.grouped_bars([summary.name(i) for i in ids], counts, "Objects per class", "objects")
    full = (stats or {}).get("objects_per_class") or {}
    headers = ["id", "class", *splits] + (["all data (stats.json)"] if full else [])
    rows = [[i, summary.name(i), *(pages.fmt(counts[s][n]) for s in splits)]
            + ([pages.fmt(full.get(summary.name(i), 0))] if full else []) for n, i in enumerate(ids)]
    absent = [summary.name(i) for n, i in enumerate(ids) if not any(counts[s][n] for s in splits)]
    note = (f'<p class="note">Classes with no object in the records read: {pages.esc(", ".join(absent))}</p>'
            if absent else "")
    table = pages.table(headers, rows, numeric=tuple(range(2, len(headers))))
    return (f'<div class="row">{pages.img(chart, charts.MIME, "objects per class", "chart")}'
            f"<div>{table}{note}</div></div>")


def _sizes(summary: DatasetSummary) -> str:
    rows = [(f"{w}\u00d7{h}", pages.fmt(n), f"{100 * n / summary.records:.1f} %")
            for (w, h), n in summary.image_sizes.most_common(MAX_SIZE_ROWS)]
    more = len(summary.image_sizes) - MAX_SIZE_ROWS
    note = f'<p class="note">and {more:,} more sizes</p>' if more > 0 else ""
    top = max(summary.objects_per_image or [0])
    per_image = charts.histogram(summary.objects_per_image, [x - 0.5 for x in range(top + 2)],
                                 "Objects per image", "objects", integer=True)
    sizes = pages.table(("width\u00d7height", "images", "share"), rows, numeric=(1, 2))
    parts = [f"<div>{sizes}{note}</div>",
             pages.img(per_image, charts.MIME, "objects per image", "chart")]
    if summary.box_sizes:
        widths, heights = zip(*((max(w, 0.5), max(h, 0.5)) for w, h in summary.box_sizes))
        parts.append(pages.img(charts.scatter(widths, heights, "Box sizes", "width (px)", "height (px)"),
                               charts.MIME, "box sizes", "chart"))
        sides = [math.sqrt(w * h) for w, h in zip(widths, heights)]
        small = sum(s < 32 for s in sides) / len(sides)
        large = sum(s > 96 for s in sides) / len(sides)
        parts.append(f'<p class="note">COCO size ranges: {100 * small:.1f} % small (&lt; 32\u00b2 px), '
                     f"{100 * (1 - small - large):.1f} % medium, {100 * large:.1f} % large (&gt; 96\u00b2 px).</p>")
    return f'<div class="row">{"".join(parts)}</div>'


def _skips(stats: dict) -> str:
    skipped = stats.get("skipped") or {}
    if not skipped:
        return "<p>The converter skipped nothing.</p>"
    paths = stats.get("skipped_examples") or {}
    rows = [(reason, pages.fmt(n), ", ".join(paths.get(reason, [])[:MAX_SKIP_PATHS]))
            for reason, n in sorted(skipped.items(), key=lambda kv: -kv[1])]
    return pages.table(("reason", "count", "for example"), rows, numeric=(1,))


def _problems(summary: DatasetSummary) -> str:
    if not summary.problems:
        return "<p>None found in the records read.</p>"
    rows = [(reason, pages.fmt(n), ", ".join(summary.problem_examples.get(reason, [])))
            for reason, n in summary.problems.most_common()]
    return pages.table(("problem", "count", "for example"), rows, numeric=(1,))


def render_preview(summary: DatasetSummary, stats: dict | None, data: str, max_records: int) -> str:
    """The whole preview page."""
    sections = [("Overview", _overview(summary, stats, max_records)),
                (f"Sample images ({len(summary.samples)})", _grid(summary)),
                ("Classes", _classes(summary, stats)),
                ("Image and box sizes", _sizes(summary))]
    if stats is not None:
        sections.append(("Skipped by the converter", _skips(stats)))
    sections.append(("Problems in the records", _problems(summary)))
    return pages.page("Dataset preview", data, sections)
