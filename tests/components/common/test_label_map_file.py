import pytest

from components.common.label_map import LabelMapError, parse_csv, read_label_map


def test_reads_pbtxt_and_csv(tmp_path):
    (tmp_path / "m.pbtxt").write_text("item {\n  id: 1\n  name: 'cube'\n}\nitem { id: 4 name: \"ball, red\" }\n")
    (tmp_path / "m.csv").write_text("1,cube\n4,ball, red\n\n")
    assert read_label_map(str(tmp_path / "m.pbtxt")) == {1: "cube", 4: "ball, red"}
    assert read_label_map(str(tmp_path / "m.csv")) == {1: "cube", 4: "ball, red"}


@pytest.mark.parametrize("text, message", [
    ("0,background\n", "line 1"), ("x,cube\n", "line 1"), ("1,a\n1,b\n", "id 1 listed twice"),
    ("", "no classes"), ("1\n", "expected 'id,name'")])
def test_bad_csv_is_named(text, message):
    with pytest.raises(ValueError, match=message):
        parse_csv(text, "map.csv")


def test_missing_file_names_the_flag(tmp_path):
    with pytest.raises(ValueError, match="--label-map .*absent.pbtxt"):
        read_label_map(str(tmp_path / "absent.pbtxt"))


def test_a_malformed_pbtxt_names_the_line(tmp_path):
    path = tmp_path / "m.pbtxt"
    path.write_text("item {\n  id: 1\n  name: 'cube'\n}\nitem {\n  id: 2\n  nam: 'ball'\n}\n")
    with pytest.raises(LabelMapError, match=f"{path} line 7: unknown field 'nam'"):
        read_label_map(str(path))
