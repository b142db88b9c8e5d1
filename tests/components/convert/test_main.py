import os
import subprocess
import sys

from tests.components.convert.builders import legacy_dataset

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def cli(*args):
    return subprocess.run([sys.executable, "-m", "components.convert", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)


def test_help_lists_the_flags():
    proc = cli("--help")
    assert proc.returncode == 0
    for flag in ("--source", "--output", "--format", "--eval-pct", "--max-bad-fraction", "--runner",
                 "--sdk-container-image", "--max-num-workers", "--service-account", "--max-listed-errors",
                 "--image-sha256", "--max-dropped-box-fraction"):
        assert flag in proc.stdout


def test_success_prints_a_summary_table(tmp_path):
    legacy_dataset(str(tmp_path / "ds"), 10, corrupt=(0,))
    proc = cli("--source", str(tmp_path / "ds"), "--output", str(tmp_path / "out"), "--max-bad-fraction", "0.2")
    assert proc.returncode == 0, proc.stderr
    lines = dict(line.split(None, 1) if "  " not in line else [p.strip() for p in line.split("  ", 1)]
                 for line in proc.stdout.splitlines())
    assert lines["skipped: bad_image"] == "1 (RGB0/rgb_3.png)"
    assert lines["images read"] == "10"
    assert "Published" in proc.stderr


def test_usage_and_input_errors_exit_2_with_a_message(tmp_path):
    proc = cli("--source", str(tmp_path / "missing"))
    assert proc.returncode == 2 and "does not exist" in proc.stderr
    proc = cli("--source", str(tmp_path), "--eval-pct", "150")
    assert proc.returncode == 2 and "--eval-pct 150.0" in proc.stderr
    proc = cli("--source", "/data", "--runner", "DataflowRunner")
    assert proc.returncode == 2 and "DataflowRunner needs --project, --region, --temp-location" in proc.stderr


def test_rejected_conversion_exits_1(tmp_path):
    legacy_dataset(str(tmp_path / "ds"), 4, corrupt=(0, 1, 2, 3))
    proc = cli("--source", str(tmp_path / "ds"))
    assert proc.returncode == 1 and "no valid image was found" in proc.stderr


def test_flags_reach_the_settings():
    from components.convert.__main__ import parser, settings_from

    args, extra = parser().parse_known_args(["--source", "s", "--image-sha256", "--max-listed-errors", "7"])
    settings = settings_from(args, extra)
    assert (settings.image_sha256, settings.max_listed_errors) == (True, 7)
    args, extra = parser().parse_known_args(["--source", "s", "--max-dropped-box-fraction", "0.2"])
    assert settings_from(args, extra).max_dropped_box_fraction == 0.2
    args, extra = parser().parse_known_args(["--source", "s"])
    assert settings_from(args, extra).max_dropped_box_fraction == 0.05
    assert (settings_from(args, extra).image_sha256, settings_from(args, extra).max_listed_errors) == (False, 1000)
