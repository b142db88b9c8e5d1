import json
import os
import shutil
import time

import pytest

from components.common import uris
from components.train import layout as layout_lib
from components.train.preflight import PreflightError, check, check_init_checkpoint, checkpoint_step, match_files
from tests.components.train.conftest import settings_for
from tests.conftest import EMULATOR_BUCKET, upload_tree


def run_check(settings, **kwargs):
    return check(settings, layout_lib.resolve(settings), **kwargs)


def expect(flag, settings, **kwargs):
    with pytest.raises(PreflightError, match=flag) as err:
        run_check(settings, **kwargs)
    return str(err.value)


@pytest.fixture
def data(records, tmp_path):
    """A private copy of the records folder that a test may damage."""
    folder = str(tmp_path / "data")
    shutil.copytree(records, folder)
    return folder


def rewrite_stats(folder, **changes):
    path = os.path.join(folder, "stats.json")
    stats = json.load(open(path))
    stats.update(changes)
    json.dump(stats, open(path, "w"))


def test_a_good_run_passes_and_reports_what_it_read(records, tmp_path):
    checked = run_check(settings_for(records, str(tmp_path / "m"), num_eval_images=8, num_classes=3))
    assert checked.labels == {1: "rectangle", 2: "ellipse", 3: "triangle"}
    assert checked.num_classes == 4 and checked.eval_examples == 8 and checked.checkpoint_step is None


def test_num_classes_counts_object_classes_and_must_match_the_label_map(records, tmp_path):
    message = expect("--num-classes", settings_for(records, str(tmp_path / "m"), num_classes=4, num_eval_images=8))
    assert "label_map.pbtxt" in message and "id 3" in message


def test_record_labels_beyond_the_label_map_are_refused(data, tmp_path):
    rewrite_stats(data, num_classes=6)
    assert "background" in expect("--label-map", settings_for(data, str(tmp_path / "m"), num_eval_images=8))


def test_label_names_must_agree_with_stats(data, tmp_path):
    rewrite_stats(data, labels={"1": "rectangle", "2": "circle", "3": "triangle"})
    assert "circle" in expect("--label-map", settings_for(data, str(tmp_path / "m"), num_eval_images=8))


def test_num_eval_images_cannot_exceed_the_eval_split(records, tmp_path):
    message = expect("--num-eval-images", settings_for(records, str(tmp_path / "m")))
    assert "200" in message and "8 eval" in message and "stats.json" in message


def test_empty_splits_are_refused(data, tmp_path):
    rewrite_stats(data, examples={"train": 0, "eval": 8})
    expect("--train-data", settings_for(data, str(tmp_path / "m"), num_eval_images=8))


def test_tpu_eval_split_must_fill_a_batch(data, tmp_path):
    rewrite_stats(data, examples={"train": 24, "eval": 5})
    tpu = settings_for(data, "gs://b/m", num_eval_images=5, accelerator_type="TPU_V2", accelerator_count=8,
                       train_data="gs://b/t/*", eval_data="gs://b/e/*", train_batch_size=8)
    with pytest.raises(PreflightError, match="--eval-data.*8 replicas"):
        check(tpu, layout_lib.resolve(tpu))


def test_a_missing_stats_file_skips_the_count_unless_named(data, tmp_path):
    os.remove(os.path.join(data, "stats.json"))
    assert run_check(settings_for(data, str(tmp_path / "m"))).eval_examples is None
    expect("--stats", settings_for(data, str(tmp_path / "m2"), stats=os.path.join(data, "stats.json")))


def test_unreadable_label_map_names_the_flag(data, tmp_path):
    open(os.path.join(data, "label_map.pbtxt"), "w").write("item { id: 0 name: 'x' }")
    expect("--label-map", settings_for(data, str(tmp_path / "m"), num_eval_images=8))
    os.remove(os.path.join(data, "label_map.pbtxt"))
    expect("--label-map", settings_for(data, str(tmp_path / "m"), num_eval_images=8))


def test_a_malformed_label_map_names_the_file_and_line(data, tmp_path):
    path = os.path.join(data, "label_map.pbtxt")
    open(path, "w").write("item {\n  id: 1\n  name: 'rectangle'\n\nitem {\n  id: 2\n  name: 'ellipse'\n}\n")
    message = expect("--label-map", settings_for(data, str(tmp_path / "m"), num_eval_images=8))
    assert f"{path} line 1: item opened here is not closed" in message


def test_data_globs_must_match_files(records, tmp_path):
    expect("--eval-data", settings_for(records, str(tmp_path / "m"), num_eval_images=8,
                                       eval_data=os.path.join(records, "eval", "*.gz")))


NESTED = ("train-00000-of-00001.tfrecord", "nested/train-00000-of-00001.tfrecord",
          "gen-1/train/train-00000-of-00001.tfrecord")


def nested_matches(root):
    """What each glob matches of NESTED under ``root``, as paths relative to it."""
    for rel in NESTED:
        uris.write_bytes(uris.join(root, rel), b"")
    globs = (f"{root}/*.tfrecord", f"{root}/*/train-*.tfrecord", f"{root}/*/*/train-*.tfrecord",
             f"{root}/*.tfrecord,{root}/nested/*.tfrecord")
    return [[path[len(root) + 1:] for path in match_files(pattern)] for pattern in globs]


EXPECTED = [["train-00000-of-00001.tfrecord"], ["nested/train-00000-of-00001.tfrecord"],
            ["gen-1/train/train-00000-of-00001.tfrecord"],
            ["train-00000-of-00001.tfrecord", "nested/train-00000-of-00001.tfrecord"]]


def test_a_star_stays_within_one_folder_locally(tmp_path):
    os.makedirs(tmp_path / "data" / "folder.tfrecord")  # a folder is not a record file
    assert nested_matches(str(tmp_path / "data")) == EXPECTED


def test_a_star_stays_within_one_folder_on_gcs(gcs_emulator):
    assert nested_matches(f"gs://{EMULATOR_BUCKET}/preflight-nested") == EXPECTED


def write_checkpoint_state(model_dir, step):
    os.makedirs(model_dir, exist_ok=True)
    with open(os.path.join(model_dir, "checkpoint"), "w") as f:
        f.write(f'model_checkpoint_path: "ckpt-{step}"\nall_model_checkpoint_paths: "ckpt-{step}"\n')


def test_model_dir_must_be_empty_unless_resuming(records, tmp_path):
    model_dir = str(tmp_path / "m")
    write_checkpoint_state(model_dir, 600)
    message = expect("--model-dir", settings_for(records, model_dir, num_eval_images=8))
    assert "--resume" in message and "600" in message
    assert run_check(settings_for(records, model_dir, num_eval_images=8, resume=True)).checkpoint_step == 600
    os.makedirs(str(tmp_path / "empty"))
    assert run_check(settings_for(records, str(tmp_path / "empty"), num_eval_images=8)).checkpoint_step is None


def test_resume_needs_a_checkpoint_and_steps_left(records, tmp_path):
    expect("--resume", settings_for(records, str(tmp_path / "none"), num_eval_images=8, resume=True))
    model_dir = str(tmp_path / "m")
    write_checkpoint_state(model_dir, 75000)
    message = expect("--max-steps", settings_for(records, model_dir, num_eval_images=8, resume=True))
    assert "75000" in message and "only evaluate" in message


def test_a_restarted_worker_skips_the_empty_dir_check(records, tmp_path):
    model_dir = str(tmp_path / "m")
    write_checkpoint_state(model_dir, 40)
    assert run_check(settings_for(records, model_dir, num_eval_images=8), check_dir=False).checkpoint_step == 40


def test_checkpoint_step_reads_the_state_file(tmp_path):
    assert checkpoint_step(str(tmp_path)) is None
    write_checkpoint_state(str(tmp_path), 2000)
    assert checkpoint_step(str(tmp_path)) == 2000


def test_batch_must_divide_over_the_replicas(records, tmp_path):
    settings = settings_for(records, str(tmp_path / "m"), num_eval_images=8, train_batch_size=12)
    expect("--train-batch-size", settings, replicas=8)
    gpus = settings_for(records, str(tmp_path / "m"), num_eval_images=8, train_batch_size=6,
                        accelerator_type="NVIDIA_TESLA_T4", accelerator_count=4)
    assert "4 replicas" in expect("--train-batch-size", gpus)


def test_tpu_needs_gcs_data_and_model_dir(records, tmp_path):
    tpu = settings_for(records, "gs://b/model", num_eval_images=8, accelerator_type="TPU_V3", accelerator_count=8)
    assert "gs://" in expect("--train-data", tpu)
    tpu = tpu.replace(train_data="gs://b/train-*", eval_data="gs://b/eval-*", model_dir=str(tmp_path))
    expect("--model-dir", tpu)


def test_vertex_jobs_cannot_read_local_files(records, tmp_path):
    remote = settings_for(records, "gs://b/model", num_eval_images=8, train_data="gs://b/t/*", eval_data="gs://b/e/*")
    expect("--label-map", remote, remote=True)


def test_gcs_paths_are_checked_through_the_storage_api(gcs_emulator, records):
    root = f"gs://{EMULATOR_BUCKET}/preflight"
    upload_tree(records, root + "/data")
    assert len(match_files(root + "/data/train/*.tfrecord")) == 2
    both = match_files(root + "/data/train/*.tfrecord," + root + "/data/eval/eval-*")
    assert len(both) == 4 and both[-1] == root + "/data/eval/eval-00001-of-00002.tfrecord"
    settings = settings_for(root + "/data", root + "/model", num_eval_images=8).replace(
        train_data=root + "/data/train/*.tfrecord", eval_data=root + "/data/eval/*.tfrecord",
        label_map=root + "/data/label_map.pbtxt")
    assert run_check(settings, remote=True).num_classes == 4
    uris.write_text(root + "/model/checkpoint", 'model_checkpoint_path: "ckpt-10"\n')
    expect("--model-dir", settings, remote=True)
    assert run_check(settings.replace(resume=True), remote=True).checkpoint_step == 10


def test_no_init_checkpoint_needs_no_check(records, tmp_path):
    assert check_init_checkpoint(settings_for(records, str(tmp_path / "m"), init_checkpoint="none")) is None
    assert check_init_checkpoint(settings_for(records, str(tmp_path / "m"), resnet_depth=101)) is None


def test_a_local_init_checkpoint_needs_its_index_file(records, tmp_path):
    ckpt = str(tmp_path / "backbone" / "ckpt-7")
    settings = settings_for(records, str(tmp_path / "m"), init_checkpoint=ckpt)
    with pytest.raises(PreflightError, match="--init-checkpoint") as err:
        check_init_checkpoint(settings)
    message = str(err.value)
    assert f"{ckpt}.index does not exist" in message
    assert "--init-checkpoint none" in message and "--preset local" in message and "bucket" in message
    os.makedirs(os.path.dirname(ckpt))
    open(ckpt + ".index", "wb").close()
    assert check_init_checkpoint(settings) == ckpt
    folder = settings.replace(init_checkpoint=os.path.dirname(ckpt))
    with pytest.raises(PreflightError, match="--init-checkpoint"):
        check_init_checkpoint(folder)
    open(os.path.join(os.path.dirname(ckpt), "checkpoint"), "w").write('model_checkpoint_path: "ckpt-7"\n')
    assert check_init_checkpoint(folder) == os.path.dirname(ckpt)


def test_an_unreachable_gcs_init_checkpoint_fails_fast_naming_the_flag(records, tmp_path):
    ckpt = "gs://synthdet-no-such-bucket-7f3a9c/resnet50_imagenet/ckpt-28080"
    settings = settings_for(records, str(tmp_path / "m"), init_checkpoint=ckpt)
    started = time.monotonic()
    with pytest.raises(PreflightError, match="--init-checkpoint") as err:
        check_init_checkpoint(settings, timeout_s=5)
    assert time.monotonic() - started < 8
    assert ckpt + ".index" in str(err.value) and "--init-checkpoint none" in str(err.value)


def test_the_gcs_attempt_is_bounded(records, tmp_path, monkeypatch):
    import tensorflow as tf

    monkeypatch.setattr(tf.io.gfile, "exists", lambda path: time.sleep(30))
    settings = settings_for(records, str(tmp_path / "m"), init_checkpoint="gs://b/ckpt-1")
    started = time.monotonic()
    with pytest.raises(PreflightError, match="cannot reach gs://b/ckpt-1.index: no answer within 0.5 s"):
        check_init_checkpoint(settings, timeout_s=0.5)
    assert time.monotonic() - started < 5


def test_the_trainer_checks_the_init_checkpoint_before_building_the_model(records, tmp_path, caplog, monkeypatch):
    from components.train import trainer

    def no_model(*args, **kwargs):
        raise AssertionError("the model was built before the init checkpoint was checked")

    monkeypatch.setattr(trainer, "build_params", no_model)
    missing = str(tmp_path / "nowhere" / "ckpt-1")
    args = settings_for(records, str(tmp_path / "m"), preset="local", init_checkpoint=missing).to_args()
    assert trainer.main(args) == 2
    assert "--init-checkpoint" in caplog.text and missing + ".index" in caplog.text


def published(records, tmp_path):
    """The records folder in the convert step's published layout: OUT/gen-t/{train,eval}/ and OUT/manifest.json."""
    out = str(tmp_path / "published")
    shutil.copytree(records, out)
    splits = {}
    for split in ("train", "eval"):
        os.makedirs(os.path.join(out, "gen-t"), exist_ok=True)
        os.rename(os.path.join(out, split), os.path.join(out, "gen-t", split))
        names = sorted(os.listdir(os.path.join(out, "gen-t", split)))
        splits[split] = {"shards": [{"path": f"gen-t/{split}/{n}", "records": 1,
                                     "bytes": os.path.getsize(os.path.join(out, "gen-t", split, n))} for n in names]}
    json.dump({"version": 1, "run": "t", "generation": "gen-t", "splits": splits, "files": {}},
              open(os.path.join(out, "manifest.json"), "w"))
    return out


def settings_for_published(out, model_dir, **changes):
    return settings_for(out, model_dir, train_data=os.path.join(out, "gen-t", "train", "*.tfrecord"),
                        eval_data=os.path.join(out, "gen-t", "eval", "*.tfrecord"), num_eval_images=8, **changes)


def test_shards_beside_a_manifest_are_checked_against_it(records, tmp_path):
    out = published(records, tmp_path)
    assert run_check(settings_for_published(out, str(tmp_path / "m1"))).num_classes
    eval_shard = sorted(os.listdir(os.path.join(out, "gen-t", "eval")))[0]
    with open(os.path.join(out, "gen-t", "eval", eval_shard), "ab") as f:
        f.write(b"more")
    message = expect("--eval-data", settings_for_published(out, str(tmp_path / "m2")))
    assert eval_shard in message and "bytes" in message
    train_shard = sorted(os.listdir(os.path.join(out, "gen-t", "train")))[-1]
    os.remove(os.path.join(out, "gen-t", "train", train_shard))
    message = expect("--train-data", settings_for_published(out, str(tmp_path / "m3")))
    assert train_shard in message and "missing" in message


def test_a_generation_the_manifest_does_not_name_is_refused(records, tmp_path):
    out = published(records, tmp_path)
    shutil.copytree(os.path.join(out, "gen-t"), os.path.join(out, "gen-old"))
    stale = settings_for(out, str(tmp_path / "m"), train_data=os.path.join(out, "gen-old", "train", "*.tfrecord"),
                         eval_data=os.path.join(out, "gen-t", "eval", "*.tfrecord"), num_eval_images=8)
    message = expect("--train-data", stale)
    assert "not the published conversion" in message and os.path.join(out, "gen-t", "train") in message
