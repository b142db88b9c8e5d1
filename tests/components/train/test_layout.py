from components.train.layout import resolve, sibling, with_vertex_dirs
from components.train.settings import Settings

BASE = dict(train_data="gs://b/out/train/*.tfrecord", eval_data="gs://b/out/eval/*.tfrecord",
            label_map="gs://b/out/label_map.pbtxt", model_dir="gs://b/runs/r1/")


def test_defaults_keep_everything_under_the_model_dir_and_read_beside_the_label_map():
    layout = resolve(Settings(**BASE))
    assert layout.model_dir == "gs://b/runs/r1" and layout.tensorboard_dir == "gs://b/runs/r1"
    assert layout.export_dir == "gs://b/runs/r1/export"
    assert layout.saved_model_dir == "gs://b/runs/r1/export/saved_model"
    assert layout.metrics_file == "gs://b/runs/r1/eval_metrics.json"
    assert layout.stats == "gs://b/out/stats.json" and layout.annotation_file == "gs://b/out/eval_coco.json"


def test_vertex_tensorboard_dir_receives_the_summaries():
    env = {"AIP_TENSORBOARD_LOG_DIR": "gs://b/base/logs/", "AIP_MODEL_DIR": "gs://b/base/model/"}
    layout = resolve(Settings(**BASE, export_dir="gs://b/exp"), env)
    assert layout.tensorboard_dir == "gs://b/base/logs" and layout.export_dir == "gs://b/exp"


def test_aip_dirs_fill_in_only_what_the_flags_leave_out():
    env = {"AIP_CHECKPOINT_DIR": "gs://b/base/checkpoints/", "AIP_MODEL_DIR": "gs://b/base/model/"}
    assert with_vertex_dirs({"model_dir": None, "export_dir": ""}, env) == {
        "model_dir": "gs://b/base/checkpoints/", "export_dir": "gs://b/base/model/"}
    assert with_vertex_dirs({"model_dir": "gs://x", "export_dir": "gs://y"}, env) == {
        "model_dir": "gs://x", "export_dir": "gs://y"}
    assert with_vertex_dirs({"model_dir": None}, {}) == {"model_dir": None}


def test_explicit_stats_and_annotation_paths_win(tmp_path):
    settings = Settings(**{**BASE, "label_map": str(tmp_path / "lm.pbtxt")}, stats="s.json", annotation_file="a.json")
    layout = resolve(settings)
    assert (layout.stats, layout.annotation_file) == ("s.json", "a.json")
    assert sibling(str(tmp_path / "lm.pbtxt"), "stats.json") == str(tmp_path / "stats.json")
