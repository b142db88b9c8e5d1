import pickle

import pytest

from components.common import label_map
from components.common.label_map import LabelMapError, parse_csv, parse_pbtxt

GOOD = """# classes of the shapes set
item {
  id: 1
  name: 'cube'
  display_name: "Cube"
}
item: { id: 4; name: "ball, \\"red\\"" }
"""


def test_reads_what_it_writes_and_the_od_api_forms():
    assert parse_pbtxt(GOOD, "m.pbtxt") == {1: "cube", 4: 'ball, "red"'}
    labels = {2: "it's", 7: 'back\\slash "q"', 3: "plain"}
    assert parse_pbtxt(label_map.to_pbtxt(labels)) == labels
    assert parse_csv(label_map.to_csv({1: "a", 3: "b, c"})) == {1: "a", 3: "b, c"}


@pytest.mark.parametrize("text, line, problem", [
    ("item {\n  id: 1\n  name: 'a'\n\nitem {\n  id: 2\n  name: 'b'\n}\n", 1, "not closed with '}' before the next "
                                                                            "item on line 5"),
    ("item { id: 1 name: 'a' }\nitem {\n  id: 2\n  name: 'b'\n", 2, "not closed"),
    ("item { id: 1 name: 'a' }\n}\n", 2, "'}' without an open item"),
    ("item { id: 1 name: 'a' }\n\nitem {\n  id: 1\n  name: 'b'\n}\n", 4, "id 1 listed twice (first on line 1)"),
    ("item { id: 1 name: 'a' }\nitem {\n  id: 2\n  name: 'a'\n}\n", 4, "name 'a' listed twice"),
    ("item {\n  id: 1.5\n  name: 'a'\n}\n", 2, "id '1.5' is not an integer"),
    ("item {\n  id: 'one'\n  name: 'a'\n}\n", 2, "is not an integer"),
    ("item { id: 2 name: 'a' }\nitem {\n  id: 0\n  name: 'background'\n}\n", 3, "id 0 is reserved for the background"),
    ("item {\n  id: -3\n  name: 'a'\n}\n", 2, "id -3 is negative"),
    ("item {\n  id: 1\n  label: 'a'\n}\n", 3, "unknown field 'label'"),
    ("item { id: 1 name: 'a' }\n\nitem {\n  id: 2\n}\n", 3, "item has no name"),
    ("item {\n  name: 'a'\n}\n", 1, "item has no id"),
    ("item {\n  id: 1\n  name: cube\n}\n", 3, "not a quoted string"),
    ("item {\n  id: 1\n  name: 'cube\n}\n", 3, "unterminated string"),
    ("item {\n  id: 1\n  id: 2\n}\n", 3, "field 'id' given twice"),
    ("item { id: 1 name: 'a' }\nitems { id: 2 name: 'b' }\n", 2, "expected 'item {'"),
    ("# nothing here\n", 1, "no items"),
])
def test_malformed_pbtxt_names_file_and_line(text, line, problem):
    with pytest.raises(LabelMapError) as err:
        parse_pbtxt(text, "gs://b/label_map.pbtxt")
    assert (err.value.path, err.value.line) == ("gs://b/label_map.pbtxt", line)
    assert problem in err.value.problem
    assert str(err.value).startswith(f"gs://b/label_map.pbtxt line {line}: ")
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize("text, line, problem", [
    ("1,a\n\n0,background\n", 3, "expected 'id,name' with id >= 1"),
    ("1,a\nx,b\n", 2, "expected 'id,name'"),
    ("1,a\n1,b\n", 2, "id 1 listed twice"),
    ("1,a\n2,a\n", 2, "name 'a' listed twice"),
    ("", 1, "no classes"),
])
def test_malformed_csv_names_file_and_line(text, line, problem):
    with pytest.raises(LabelMapError) as err:
        parse_csv(text, "map.csv")
    assert (err.value.path, err.value.line) == ("map.csv", line)
    assert problem in err.value.problem


def test_error_survives_pickling():
    err = pickle.loads(pickle.dumps(LabelMapError("m.pbtxt", 3, "item has no name")))
    assert (err.path, err.line, err.problem, str(err)) == ("m.pbtxt", 3, "item has no name",
                                                          "m.pbtxt line 3: item has no name")


def test_read_picks_the_format_by_extension(tmp_path):
    (tmp_path / "m.pbtxt").write_text(GOOD)
    (tmp_path / "m.csv").write_text("1,cube\n4,ball\n")
    assert label_map.read(str(tmp_path / "m.pbtxt")) == {1: "cube", 4: 'ball, "red"'}
    assert label_map.read(str(tmp_path / "m.csv")) == {1: "cube", 4: "ball"}
    with pytest.raises(FileNotFoundError):
        label_map.read(str(tmp_path / "absent.pbtxt"))
