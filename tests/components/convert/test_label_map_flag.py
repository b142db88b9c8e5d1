import os

from tests.components.convert.builders import legacy_dataset
from tests.components.convert.test_main import cli


def test_a_malformed_reference_label_map_exits_2_naming_file_and_line(tmp_path):
    legacy_dataset(str(tmp_path / "ds"), 2)
    reference = tmp_path / "label_map.pbtxt"
    reference.write_text("item { id: 1 name: 'cube' }\nitem {\n  id: 2\n  name: 'cube'\n}\n")
    proc = cli("--source", str(tmp_path / "ds"), "--output", str(tmp_path / "out"), "--label-map", str(reference))
    assert proc.returncode == 2
    assert f"{reference} line 4: name 'cube' listed twice (first on line 1)" in proc.stderr
    assert not os.path.exists(tmp_path / "out" / "manifest.json")
