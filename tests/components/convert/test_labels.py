from components.convert.labels import merge_specs


def test_same_name_same_id_and_zero_based_sources_shift():
    labels, warnings = merge_specs([("a", {1: "cube", 2: "ball"}), ("b", {0: "cube", 1: "ball", 2: "cone"})])
    assert labels == {1: "cube", 2: "ball", 3: "cone"}
    assert any("shifted by +1" in w for w in warnings)


def test_clashing_ids_get_the_next_free_id():
    labels, warnings = merge_specs([("a", {1: "cube"}), ("b", {1: "ball"})])
    assert labels == {1: "cube", 2: "ball"}
    assert any("'ball' gets id 2" in w for w in warnings)


def test_gaps_are_kept():
    assert merge_specs([("a", {3: "x", 10: "y"})])[0] == {3: "x", 10: "y"}
