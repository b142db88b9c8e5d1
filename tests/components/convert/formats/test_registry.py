"""The format registry: every reader is a Format, and the planner reaches formats only through it."""
import json
import types

import pytest

from components.common import uris
from components.convert.discover import FORMATS
from components.convert.formats import REGISTRY, get
from components.convert.frames import Box, Frame, Skip
from components.convert.plan import make_plan, parse_unit, read_json


def test_every_registered_format_has_the_protocol():
    assert list(REGISTRY) == ["perception", "solo", "coco", "unity-real"]
    assert FORMATS == ("auto", *REGISTRY)
    for name, reader in REGISTRY.items():
        assert reader.NAME == name and isinstance(reader.BY_CONTENT, bool) and reader.LOOKED_FOR
        assert reader.SKIP_REASONS and all(r.islower() and " " not in r for r in reader.SKIP_REASONS)
        for function in ("detect", "recognizes", "definitions", "parse", "image_count"):
            assert callable(getattr(reader, function))
        assert reader.image_count(None) is None
    with pytest.raises(ValueError, match="unknown dataset format 'yolo'"):
        get("yolo")


def toy_format():
    """A format of one module's worth: {"toy": [{"file": ..., "box": [x, y, w, h], "label": ...}]}."""
    def parse(doc, source, dataset):
        for item in doc["toy"]:
            if not isinstance(item, dict):
                yield Skip(source, "bad_toy", "not an object")
                continue
            yield Frame(item["file"], (Box(*item["box"], label_name=dataset.spec[item["label"]]),), source)

    return types.SimpleNamespace(
        NAME="toy", BY_CONTENT=True, LOOKED_FOR="toy JSON", SKIP_REASONS=frozenset({"bad_toy"}),
        detect=lambda files, file_set: [],
        recognizes=lambda doc: isinstance(doc, dict) and "toy" in doc,
        definitions=lambda doc, source, definition_id=None: (None, {1: "duck"}),
        parse=parse, image_count=lambda doc: len(doc["toy"]) if isinstance(doc, dict) else None)


def test_a_new_format_is_one_registered_module(tmp_path, monkeypatch):
    monkeypatch.setitem(REGISTRY, "toy", toy_format())
    (tmp_path / "pics").mkdir()
    (tmp_path / "pics" / "a.png").write_bytes(b"png")
    (tmp_path / "labels.json").write_text(json.dumps({"toy": [{"file": "a.png", "box": [1, 2, 3, 4], "label": 1}, 5],
                                                      "images": [{"file_name": "a.png"}]}))
    plan = make_plan(str(tmp_path))
    assert plan.format == "toy" and plan.labels == {1: "duck"}
    (dataset,) = plan.datasets
    assert (dataset.ref.root, dataset.ref.image_prefix) == ("", "pics")
    out = list(parse_unit(dataset, "labels.json", read_json(uris.join(plan.source, "labels.json"))))
    assert out == [Frame("a.png", (Box(1, 2, 3, 4, "duck"),), "labels.json"), Skip("labels.json", "bad_toy",
                                                                                  "not an object")]
    (lost,) = parse_unit(dataset, "labels.json", {"toy": 3})
    assert (lost.reason, lost.images) == ("bad_annotation_file", None)
