import json

from components.evaluate.__main__ import main
from tests.components.evaluate.pagecheck import Page


def test_evaluate_cli_writes_outputs_and_exit_status_follows_the_gate(exported, eval_set, tmp_path, capsys):
    root, _ = eval_set
    args = ["--model", exported, "--eval-data", str(root / "eval" / "*.tfrecord"),
            "--label-map", str(root / "label_map.pbtxt"), "--output", str(tmp_path / "out")]
    assert main(args + ["--min-map", "0.9", "--num-report-images", "3"]) == 0
    printed = capsys.readouterr().out
    assert "AP50=1.0000" in printed and "gate: AP50 1.0000 >= 0.9000: passed" in printed
    doc = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert doc["metrics"]["AP"] > 0.999 and doc["gate"]["passed"] is True
    assert len(Page((tmp_path / "out" / "report.html").read_text()).data_images("image/jpeg")) == 3
    assert main(args + ["--min-map", "0.5", "--box-coordinates", "normalized"]) == 1


def test_preview_cli(eval_set, tmp_path, capsys):
    root, images = eval_set
    out = tmp_path / "preview.html"
    assert main(["preview", "--data", str(root / "eval"), "--label-map", str(root / "label_map.pbtxt"),
                 "--output", str(out)]) == 0
    assert f"{len(images)} records previewed, 0 problem(s) found" in capsys.readouterr().out
    assert len(Page(out.read_text()).data_images("image/jpeg")) == len(images)


def test_input_errors_exit_2_with_the_reason(tmp_path, caplog):
    assert main(["--model", str(tmp_path), "--eval-data", "x", "--output", str(tmp_path / "o")]) == 2
    assert "no saved_model.pb" in caplog.text
    assert main(["preview", "--data", str(tmp_path / "none*.tfrecord"), "--output", str(tmp_path / "p.html")]) == 2
    assert "no TFRecord files match" in caplog.text


def test_the_convert_output_folder_stands_for_its_published_shards(exported, converted, tmp_path, capsys):
    from components.common import manifest

    out, stats = converted
    assert main(["--model", exported, "--eval-data", str(out), "--label-map", str(out / "label_map.pbtxt"),
                 "--output", str(tmp_path / "eval")]) == 0
    doc = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert doc["num_images"] == stats["examples"]["eval"]
    assert doc["details"]["eval_data"] == str(manifest.generation_uri(str(out))) + "/eval"
    assert main(["preview", "--data", str(out), "--output", str(tmp_path / "p.html")]) == 0
    total = stats["examples"]["train"] + stats["examples"]["eval"]
    assert f"{total} records previewed, 0 problem(s) found" in capsys.readouterr().out
