import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def cli(*args):
    return subprocess.run([sys.executable, "-m", "components.train", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def data_flags(folder, model_dir):
    return ["--train-data", os.path.join(folder, "train", "*.tfrecord"),
            "--eval-data", os.path.join(folder, "eval", "*.tfrecord"),
            "--label-map", os.path.join(folder, "label_map.pbtxt"), "--model-dir", model_dir]


def test_help_lists_the_seed_flags_and_the_vertex_ones():
    proc = cli("--help")
    assert proc.returncode == 0
    for flag in ("--train-data", "--eval-data", "--label-map", "--model-dir", "--stats", "--local", "--resume",
                 "--train-batch-size", "--num-eval-images", "--train-steps-per-eval", "--max-steps", "--num-classes",
                 "--warmup-learning-rate", "--warmup-steps", "--initial-learning-rate", "--image-size",
                 "--fpn-type", "--aug-scale-min", "--aug-scale-max", "--project", "--region",
                 "--accelerator-type", "--tpu-topology", "--gcp-resources"):
        assert flag in proc.stdout


def test_preflight_failures_exit_before_training_and_name_the_flag(records, tmp_path):
    proc = cli("--local", *data_flags(records, str(tmp_path / "m")), "--num-classes", "63", "--num-eval-images", "8")
    assert proc.returncode == 2 and "--num-classes" in proc.stderr and "63" in proc.stderr
    assert not os.path.exists(str(tmp_path / "m"))
    proc = cli("--local", *data_flags(records, str(tmp_path / "m")))
    assert proc.returncode == 2 and "--num-eval-images" in proc.stderr


def test_bad_values_and_missing_vertex_settings_exit_2(records, tmp_path):
    proc = cli("--local", *data_flags(records, str(tmp_path / "m")), "--image-size", "960x1280")
    assert proc.returncode == 2 and "--image-size" in proc.stderr
    proc = cli(*data_flags(records, str(tmp_path / "m")), "--num-eval-images", "8")
    assert proc.returncode == 2 and "--project" in proc.stderr
    proc = cli(*data_flags(records, "gs://b/m"), "--num-eval-images", "8", "--project", "p", "--region", "r")
    assert proc.returncode == 2 and "local paths" in proc.stderr


def test_data_out_stands_for_the_published_generations_records(converted, tmp_path):
    # Pre-flight reads the label map (4 classes with the background) through --data alone.
    proc = cli("--local", "--data", converted, "--model-dir", str(tmp_path / "m"), "--num-classes", "63",
               "--num-eval-images", "8")
    assert proc.returncode == 2 and "--num-classes" in proc.stderr and "63" in proc.stderr
    assert "label map" in proc.stderr or "label_map" in proc.stderr


def test_without_data_the_three_data_flags_are_required(tmp_path):
    proc = cli("--local", "--model-dir", str(tmp_path / "m"))
    assert proc.returncode == 2
    assert "--train-data, --eval-data, --label-map (or --data OUT)" in proc.stderr
    (tmp_path / "not_out").mkdir()
    proc = cli("--local", "--data", str(tmp_path / "not_out"), "--model-dir", str(tmp_path / "m"))
    assert proc.returncode == 2 and "--data" in proc.stderr and "output folder of a conversion" in proc.stderr
