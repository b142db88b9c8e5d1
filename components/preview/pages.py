"""Self-contained HTML pages: one style sheet, tables, and images embedded as data: URIs.

Nothing on a page points outside it, so a report opens the same from a laptop, a bucket or the
Vertex AI console.
"""
from __future__ import annotations

import base64
import html
from typing import Iterable, Sequence

CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; margin: 24px;
       color: #1f2328; background: #fff; max-width: 1400px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px;
     border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
.sub { color: #59636e; margin: 0 0 16px; font-size: 13px; word-break: break-all; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0 12px; }
th, td { border: 1px solid #d0d7de; padding: 4px 10px; text-align: left; }
th { background: #f6f8fa; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.pass { color: #1a7f37; font-weight: 600; } .fail { color: #cf222e; font-weight: 600; }
.note { color: #59636e; font-size: 12px; }
.row { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.chart { max-width: 100%; height: auto; border: 1px solid #eaeef2; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(400px, 1fr)); gap: 12px; }
.grid.small { grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); }
figure { margin: 0; align-self: start; border: 1px solid #d0d7de; padding: 6px; background: #f6f8fa; }
figure img { width: 100%; height: auto; display: block; }
figcaption { font-size: 12px; margin-top: 4px; word-break: break-all; }
.key { display: inline-block; width: 14px; height: 10px; margin: 0 4px 0 10px; vertical-align: middle; }
"""


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def fmt(value: float | int | None, digits: int = 3) -> str:
    """A number for a table cell; None (undefined) becomes an en dash."""
    if value is None:
        return "\u2013"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.{digits}f}"


def data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def img(data: bytes, mime: str, alt: str, css_class: str = "") -> str:
    cls = f' class="{esc(css_class)}"' if css_class else ""
    return f'<img{cls} alt="{esc(alt)}" src="{data_uri(data, mime)}">'


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], numeric: Sequence[int] = ()) -> str:
    """An HTML table; cells are escaped, columns listed in ``numeric`` are right-aligned."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = "".join(f'<td class="num">{esc(c)}</td>' if i in numeric else f"<td>{esc(c)}</td>"
                        for i, c in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def key(colour: tuple[int, int, int], label: str) -> str:
    """A small colour swatch and its meaning, for box legends."""
    r, g, b = colour
    return f'<span class="key" style="background:rgb({r},{g},{b})"></span>{esc(label)}'


def page(title: str, subtitle: str, sections: Sequence[tuple[str, str]]) -> str:
    """A whole HTML document; ``sections`` are (heading, already-built HTML body) pairs."""
    parts = [f"<h2>{esc(heading)}</h2>\n{body}" for heading, body in sections]
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title><style>{CSS}</style></head>\n<body>\n"
            f'<h1>{esc(title)}</h1><p class="sub">{esc(subtitle)}</p>\n'
            + "\n".join(parts) + "\n</body></html>\n")
