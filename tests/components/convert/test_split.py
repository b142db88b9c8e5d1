from components.convert.split import source_id, split_key, split_of


def test_split_is_deterministic_and_close_to_the_percentage():
    keys = [f"urn:app_params:a/instance:{i % 7}/attempt:0/RGB/rgb_{i}.png" for i in range(20000)]
    first = [split_of(k, 20) for k in keys]
    assert first == [split_of(k, 20) for k in keys]
    share = first.count("eval") / len(keys)
    assert 0.19 < share < 0.21
    assert all(split_of(k, 0) == "train" for k in keys[:500])


def test_split_grows_monotonically_with_the_percentage():
    keys = [f"k{i}" for i in range(2000)]
    at10 = {k for k in keys if split_of(k, 10) == "eval"}
    at30 = {k for k in keys if split_of(k, 30) == "eval"}
    assert at10 < at30


def test_source_ids_are_positive_unique_and_json_safe():
    ids = [source_id(f"a/b/rgb_{i}.png") for i in range(50000)]
    assert len(set(ids)) == len(ids)
    assert all(0 < i < 2**52 for i in ids)
    assert source_id("x/y.png") == source_id("x/y.png") != source_id("x/y2.png")


def test_frames_of_one_group_share_a_split_and_ungrouped_frames_split_by_key():
    assert split_key("seq.1/step0.camera.png", None) == "seq.1/step0.camera.png"
    keys = [f"solo/sequence.{i // 4}/step{i % 4}.camera.png" for i in range(400)]
    splits = {}
    for key in keys:
        splits.setdefault(key.split("/")[1], set()).add(split_of(split_key(key, key.split("/")[1]), 30))
    assert all(len(s) == 1 for s in splits.values())
    assert {s for group in splits.values() for s in group} == {"train", "eval"}
    # A group never hashes like an image of the same name.
    assert split_key("a.png", "a.png") != split_key("a.png", None)
