"""Hand-built legacy Perception datasets with chosen defects, for pipeline tests."""
from __future__ import annotations

import json
import os

from tests.components.convert.helpers import png_bytes

BOX_ID = "f9f22e05-443f-4602-a422-ebe4ea9b55cb"


def legacy_dataset(root: str, frames: int = 12, *, corrupt: tuple[int, ...] = (), missing: tuple[int, ...] = (),
                   unsafe: tuple[int, ...] = (), no_box: tuple[int, ...] = (), bad_json: bool = False) -> list[str]:
    """A Perception dataset at ``root`` (Dataset0/ + RGB0/); returns the keys of the good images."""
    os.makedirs(os.path.join(root, "Dataset0"), exist_ok=True)
    os.makedirs(os.path.join(root, "RGB0"), exist_ok=True)
    with open(os.path.join(root, "Dataset0", "annotation_definitions.json"), "w") as f:
        json.dump({"version": "0.0.1", "annotation_definitions": [
            {"id": "seg", "name": "semantic segmentation", "format": "PNG", "spec": []},
            {"id": BOX_ID, "name": "bounding box", "format": "json",
             "spec": [{"label_id": 1, "label_name": "cube"}, {"label_id": 2, "label_name": "ball"}]}]}, f)
    captures, good = [], []
    for i in range(frames):
        name = f"RGB0/rgb_{i + 3}.png"
        if i in corrupt:
            data = png_bytes(64, 48)[:200]
        else:
            data = png_bytes(64 + i, 48)
        if i not in missing:
            with open(os.path.join(root, name), "wb") as f:
                f.write(data)
        annotations = [{"annotation_definition": "seg", "filename": f"Seg/s_{i}.png"}]
        if i not in no_box:
            annotations.append({"annotation_definition": BOX_ID, "values": [
                {"label_id": 1 + i % 2, "label_name": "x", "instance_id": 1, "x": 2, "y": 3, "width": 10, "height": 12}]})
        captures.append({"id": str(i), "filename": "../outside.png" if i in unsafe else name,
                         "sensor": {"modality": "camera"}, "annotations": annotations})
        if not ({i} & set(corrupt + missing + unsafe + no_box)):
            good.append(name)
    half = len(captures) // 2
    for n, part in enumerate([captures[:half], captures[half:]]):
        with open(os.path.join(root, "Dataset0", f"captures_{n:03d}.json"), "w") as f:
            json.dump({"version": "0.0.1", "captures": part}, f)
    if bad_json:
        with open(os.path.join(root, "Dataset0", "captures_002.json"), "w") as f:
            f.write('{"version": "0.0.1", "captures": [{"id": ')  # a killed simulation
    return good
