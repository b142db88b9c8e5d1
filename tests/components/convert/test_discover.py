import pytest

from components.convert.discover import discover, image_prefix

RUN = "urn:app_params:A/instance:{i}/attempt:{k}"


def legacy(prefix):
    return [f"{prefix}/Dataset0a/annotation_definitions.json", f"{prefix}/Dataset0a/captures_000.json",
            f"{prefix}/Dataset0a/captures_001.json", f"{prefix}/Dataset0a/sensors.json",
            f"{prefix}/RGB1/rgb_2.png"]


def test_only_the_highest_attempt_per_instance_is_used():
    files = sorted(legacy(RUN.format(i=0, k=0)) + legacy(RUN.format(i=1, k=1)) + legacy(RUN.format(i=1, k=2))
                   + legacy(RUN.format(i=1, k=10)))
    found = discover(files)
    assert [d.root for d in found.datasets] == [RUN.format(i=0, k=0), RUN.format(i=1, k=10)]
    assert sorted(found.superseded_attempts) == [RUN.format(i=1, k=1), RUN.format(i=1, k=2)]
    d = found.datasets[0]
    assert d.format == "perception" and d.definitions.endswith("Dataset0a/annotation_definitions.json")
    assert [f.rsplit("/", 1)[1] for f in d.annotation_files] == ["captures_000.json", "captures_001.json"]
    assert found.json_candidates == ()


def test_datasets_found_at_any_depth_and_solo_by_content():
    files = sorted(legacy("deep/er/x") + ["solo_2/metadata.json", "solo_2/annotation_definitions.json",
                                          "solo_2/sequence.0/step0.frame_data.json",
                                          "solo_2/sequence.10/step2.frame_data.json",
                                          "solo_2/sequence.0/step0.camera.png"] + legacy(""))
    found = discover(sorted(f.lstrip("/") for f in files))
    assert {(d.format, d.root) for d in found.datasets} == {("perception", ""), ("perception", "deep/er/x"),
                                                           ("solo", "solo_2")}
    assert discover(sorted(f.lstrip("/") for f in files), "solo").datasets[0].root == "solo_2"


def test_other_json_files_are_coco_candidates():
    found = discover(["coco/annotations.json", "coco/images/a.jpg"])
    assert found.json_candidates == ("coco/annotations.json",)
    assert image_prefix("coco/annotations.json", ["a.jpg"], {"coco/images/a.jpg"}) == "images"
    assert image_prefix("coco/annotations.json", ["a.jpg"], {"coco/a.jpg"}) == ""


def test_unknown_format_is_rejected():
    with pytest.raises(ValueError, match="--format"):
        discover([], "yolo")
