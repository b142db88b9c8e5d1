import json
import subprocess
import sys
from pathlib import Path

from components.samples.__main__ import main, options_from, parser

REPO = Path(__file__).resolve().parents[3]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "components.samples", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def test_help_lists_layouts_and_flags():
    result = run("--help")
    assert result.returncode == 0
    for word in ("--output", "--layout", "--images", "--width", "--height", "--seed", "unity-simulation",
                 "perception", "solo", "coco", "unity-real", "--background"):
        assert word in result.stdout


def test_cli_writes_a_dataset_and_logs_where(tmp_path):
    result = run("--output", str(tmp_path / "s"), "--layout", "coco", "--images", "5", "--width", "64",
                 "--height", "48", "--seed", "3")
    assert result.returncode == 0, result.stderr
    assert "wrote 5 images" in result.stderr and str(tmp_path / "s") in result.stderr
    doc = json.loads((tmp_path / "s" / "annotations.json").read_text())
    assert len(doc["images"]) == 5 and doc["images"][0]["width"] == 64


def test_cli_flags_reach_the_options(tmp_path):
    args = parser().parse_args(["--output", "o", "--layout", "unity-simulation", "--label-ids", "2,4,6",
                                "--app-param-ids", "a,b", "--instances-per-app-param", "3",
                                "--captures-per-file", "7", "--background", "noise", "--workers", "2"])
    options = options_from(args)
    assert (options.label_ids, options.app_param_ids, options.instances_per_app_param) == ((2, 4, 6), ("a", "b"), 3)
    assert (options.captures_per_file, options.background, options.workers) == (7, "noise", 2)
    assert args.num_images == 200


def test_bad_values_exit_2_with_a_message(tmp_path, caplog):
    assert main(["--output", str(tmp_path / "x"), "--layout", "coco", "--label-ids", "1,a,3"]) == 2
    assert "--label-ids" in caplog.text
    assert main(["--output", str(tmp_path / "x"), "--layout", "coco", "--images", "0"]) == 2
    assert "num_images 0" in caplog.text
