"""``label_map.pbtxt`` (StringIntLabelMap text format) and ``label_map.csv``: write and read.

The one reader of label maps for convert (``--label-map``), train and evaluate:
``read(uri)`` (local or gs://), or ``parse_pbtxt`` / ``parse_csv`` on text already read.
Ids are 1-based; 0 is the background and never listed. A malformed file raises
``LabelMapError`` naming the file and the line, rather than dropping classes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator, Mapping

from components.common import uris

_FIELDS = ("id", "name", "display_name")
_TOKEN = re.compile(r"""
    (?P<space>[ \t\r\f\v]+) | (?P<newline>\n) | (?P<comment>\#[^\n]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<word>[A-Za-z0-9_.+-]+) | (?P<punct>[{}:;,])
  | (?P<other>.)""", re.VERBOSE)


class LabelMapError(ValueError):
    """A label map that cannot be read as written: the file, the line (1-based) and the problem."""

    def __init__(self, path: str, line: int, problem: str):
        super().__init__(f"{path} line {line}: {problem}")
        self.path, self.line, self.problem = path, line, problem

    def __reduce__(self):
        return type(self), (self.path, self.line, self.problem)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    line: int


def _quote(name: str) -> str:
    return "'" + name.replace("\\", "\\\\").replace("'", "\\'").replace('"', '\\"') + "'"


def _unquote(token: str) -> str:
    return re.sub(r"\\(.)", r"\1", token[1:-1])


def to_pbtxt(labels: Mapping[int, str]) -> str:
    """``{id: name}`` -> pbtxt text, items in id order."""
    return "".join(f"item {{\n  id: {i}\n  name: {_quote(labels[i])}\n}}\n" for i in sorted(labels))


def to_csv(labels: Mapping[int, str]) -> str:
    """``{id: name}`` -> ``id,name`` lines (Model Garden's TfExampleDecoderLabelMap format)."""
    return "".join(f"{i},{labels[i]}\n" for i in sorted(labels))


def _tokens(text: str, source: str) -> Iterator[_Token]:
    line = 1
    for match in _TOKEN.finditer(text):
        kind, value = match.lastgroup or "other", match.group()
        if kind == "newline":
            line += 1
        elif kind == "other":
            problem = "unterminated string" if value in "'\"" else f"unexpected character {value!r}"
            raise LabelMapError(source, line, problem)
        elif kind not in ("space", "comment"):
            yield _Token(kind, value, line)


class _Items:
    """Collects items, checking ids and names against those seen before."""

    def __init__(self, source: str):
        self.source, self.labels = source, {}
        self.id_lines: dict[int, int] = {}
        self.name_lines: dict[str, int] = {}

    def add(self, label_id: int, id_line: int, name: str, name_line: int) -> None:
        if label_id < 1:
            problem = ("id 0 is reserved for the background and never listed; class ids start at 1" if label_id == 0
                       else f"id {label_id} is negative; class ids start at 1")
            raise LabelMapError(self.source, id_line, problem)
        if label_id in self.id_lines:
            raise LabelMapError(self.source, id_line, f"id {label_id} listed twice (first on line "
                                                      f"{self.id_lines[label_id]})")
        if name in self.name_lines:
            raise LabelMapError(self.source, name_line, f"name {name!r} listed twice (first on line "
                                                        f"{self.name_lines[name]})")
        self.id_lines[label_id], self.name_lines[name] = id_line, name_line
        self.labels[label_id] = name


def _item(tokens: Iterator[_Token], opened: _Token, source: str) -> tuple[int, int, str, int]:
    """Reads one ``item`` body up to its ``}``; returns (id, id line, name, name line)."""
    values: dict[str, _Token] = {}
    for token in tokens:
        if token.text in (";", ","):
            continue
        if token.text == "}":
            break
        if token.text == "item":
            raise LabelMapError(source, opened.line, f"item opened here is not closed with '}}' before the next "
                                                     f"item on line {token.line}")
        if token.kind != "word" or not re.fullmatch(r"[A-Za-z_]\w*", token.text):
            raise LabelMapError(source, token.line, f"expected a field name or '}}', got {token.text!r}")
        if token.text not in _FIELDS:
            raise LabelMapError(source, token.line, f"unknown field {token.text!r}; an item has "
                                                    f"{', '.join(_FIELDS)}")
        if token.text in values:
            raise LabelMapError(source, token.line, f"field {token.text!r} given twice in one item")
        colon = next(tokens, None)
        if colon is None or colon.text != ":":
            raise LabelMapError(source, colon.line if colon else token.line, f"expected ':' after {token.text!r}")
        value = next(tokens, None)
        if value is None:
            raise LabelMapError(source, opened.line, "item opened here is not closed with '}'")
        if token.text == "id" and not (value.kind == "word" and re.fullmatch(r"[+-]?\d+", value.text)):
            raise LabelMapError(source, value.line, f"id {value.text!r} is not an integer")
        if token.text != "id" and value.kind != "string":
            raise LabelMapError(source, value.line, f"{token.text} {value.text!r} is not a quoted string")
        values[token.text] = value
    else:
        raise LabelMapError(source, opened.line, "item opened here is not closed with '}'")
    for field in ("id", "name"):
        if field not in values:
            raise LabelMapError(source, opened.line, f"item has no {field}")
    name = _unquote(values["name"].text)
    if not name:
        raise LabelMapError(source, values["name"].line, "empty name")
    return int(values["id"].text), values["id"].line, name, values["name"].line


def parse_pbtxt(text: str, source: str = "label map") -> dict[int, str]:
    """pbtxt text -> ``{id: name}``.

    Raises:
        LabelMapError: unbalanced braces, an unknown field, an item without id or name, a
            non-integer id, id 0 or below, or an id or name listed twice.
    """
    items, tokens = _Items(source), _tokens(text, source)
    for token in tokens:
        if token.text != "item":
            problem = "'}' without an open item" if token.text == "}" else f"expected 'item {{', got {token.text!r}"
            raise LabelMapError(source, token.line, problem)
        brace = next(tokens, None)
        if brace is not None and brace.text == ":":
            brace = next(tokens, None)
        if brace is None or brace.text != "{":
            raise LabelMapError(source, brace.line if brace else token.line, "expected '{' after 'item'")
        items.add(*_item(tokens, token, source))
    if not items.labels:
        raise LabelMapError(source, 1, "no items")
    return items.labels


def parse_csv(text: str, source: str = "label map") -> dict[int, str]:
    """``id,name`` lines (no header) -> ``{id: name}``.

    Raises:
        LabelMapError: a line that is not ``id,name`` with id >= 1, or an id or name listed twice.
    """
    items = _Items(source)
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        head, sep, name = line.partition(",")
        try:
            label_id = int(head)
        except ValueError:
            label_id = 0
        if not sep or label_id < 1 or not name:
            raise LabelMapError(source, number, f"{line!r}; expected 'id,name' with id >= 1")
        items.add(label_id, number, name, number)
    if not items.labels:
        raise LabelMapError(source, 1, "no classes")
    return items.labels


def read(uri: str) -> dict[int, str]:
    """``{id: name}`` from a label map file, local or gs://: ``.csv`` as ``id,name`` lines, else pbtxt.

    Raises:
        FileNotFoundError: no such file.
        LabelMapError: the file is malformed.
    """
    text = uris.read_text(uri)
    return parse_csv(text, uri) if uri.lower().endswith(".csv") else parse_pbtxt(text, uri)


def read_label_map(uri: str) -> dict[int, str]:
    """``read`` for a user's ``--label-map``: a missing file is a ValueError naming the flag.

    Raises:
        ValueError: the file is missing; ``LabelMapError`` (a ValueError) names the line of a malformed one.
    """
    try:
        return read(uri)
    except FileNotFoundError as err:
        raise ValueError(f"--label-map {uri!r}: no such file") from err


def num_classes(labels: Mapping[int, str]) -> int:
    """Model Garden's ``num_classes``: the highest id plus the background slot."""
    return max(labels) + 1
