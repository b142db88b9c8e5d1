"""Reads generated HTML pages back with html.parser: embedded images, table cells, headings."""
from __future__ import annotations

import base64
import io
from html.parser import HTMLParser

from PIL import Image


class Page(HTMLParser):
    """Collects <img> sources, the text of every table cell (row by row) and <h2> headings."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.images: list[str] = []
        self.rows: list[list[str]] = []
        self.headings: list[str] = []
        self.links: list[str] = []
        self._cell: list[str] | None = None
        self._heading: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        elif tag in ("link", "script", "a") and (attrs.get("href") or attrs.get("src")):
            self.links.append(attrs.get("href") or attrs.get("src"))
        elif tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "h2":
            self._heading = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "h2" and self._heading is not None:
            self.headings.append("".join(self._heading).strip())
            self._heading = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._heading is not None:
            self._heading.append(data)

    def data_images(self, mime: str) -> list[Image.Image]:
        """Decoded images embedded as ``data:<mime>;base64,...``."""
        prefix = f"data:{mime};base64,"
        return [Image.open(io.BytesIO(base64.b64decode(src[len(prefix):])))
                for src in self.images if src.startswith(prefix)]

    def row(self, first: str) -> list[str]:
        """The table row whose first cell is ``first``."""
        for row in self.rows:
            if row and row[0] == first:
                return row
        raise KeyError(first)
