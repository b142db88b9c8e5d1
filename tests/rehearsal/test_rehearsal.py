"""The cloud rehearsal end to end, and proof that it bites: each deliberate break fails a named step.

Slow: the first run builds every image's dependency layer (see README, "The cloud rehearsal");
later runs reuse them from the rehearsal cache.
"""
import os
import shutil
import subprocess

import pytest

from pipeline import UPLOAD_SERVING_IMAGE
from rehearsal.images import ROOT
from rehearsal.run import PROJECT, REGION, STEPS, Rehearsal, StepFailed

# The first test also builds every image environment that is not cached yet (minutes, cold).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600)]


@pytest.fixture(scope="module")
def rehearsed(tmp_path_factory):
    rehearsal = Rehearsal(str(tmp_path_factory.mktemp("rehearsal")))
    rehearsal.run()
    return rehearsal


def test_every_step_passes(rehearsed):
    assert [s.name for s in rehearsed.report.steps] == list(STEPS)


def test_every_task_ran_in_its_own_image(rehearsed):
    ran = {r.name: r.image.rsplit("/", 1)[-1] for r in rehearsed.task_run.records if r.returncode == 0}
    assert ran == {"transfer": "synthdet-transfer:rehearsal", "convert": "synthdet-convert:rehearsal",
                   "train": "synthdet-train:rehearsal", "evaluate": "synthdet-evaluate:rehearsal",
                   "serving-model": "synthdet-evaluate:rehearsal"}
    # Google's upload task is resolved, not run.
    assert [r.name for r in rehearsed.task_run.records if r.returncode is None] == ["model-upload"]


def test_conversion_ran_on_workers_of_the_convert_image(rehearsed):
    facts = rehearsed.report.facts
    assert facts["beam_workers_started"] >= 1
    assert facts["dataflow"]["worker_image"] == facts["images"]["convert.sdk_container_image"]
    assert facts["dataflow"]["worker_image"].endswith("/synthdet-convert:rehearsal")


def test_the_customjob_ran_as_written_and_exported(rehearsed):
    job = rehearsed.report.facts["customjob"]
    assert job["image"].endswith("/synthdet-train:rehearsal")
    assert os.path.exists(os.path.join(job["saved_model"], "saved_model.pb"))


def test_the_serving_tensorflow_answers_with_normalized_boxes(rehearsed):
    answer = rehearsed.report.facts["serving"]
    assert answer["tf_version"].startswith("2.15.")
    assert answer["boxes_normalized"] is True
    assert answer["outputs"]["detection_boxes"][-1] == 4


def test_the_upload_goes_to_the_pipelines_project(rehearsed):
    upload = rehearsed.report.facts["upload"]
    assert (upload["project"], upload["location"]) == (PROJECT, REGION)
    assert upload["artifact_uri"] == rehearsed.report.facts["trained_model_uri"]
    assert upload["serving_image"] == UPLOAD_SERVING_IMAGE


def copy_repository(dst):
    """The working tree as a fresh clone plus uncommitted changes would have it."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                           capture_output=True).stdout.decode().split("\0")
    for rel in filter(None, files):
        if os.path.isfile(os.path.join(ROOT, rel)):
            os.makedirs(os.path.dirname(os.path.join(dst, rel)) or dst, exist_ok=True)
            shutil.copy2(os.path.join(ROOT, rel), os.path.join(dst, rel))
    return str(dst)


def edit(path, old, new):
    text = open(path).read()
    assert old in text, f"{path} no longer holds {old!r}"
    open(path, "w").write(text.replace(old, new))


def test_a_convert_image_without_the_code_fails_the_images_step(rehearsed, tmp_path):
    repo = copy_repository(tmp_path / "repo")
    edit(os.path.join(repo, "containers/convert/Dockerfile"), "COPY components ./components\n", "")
    with pytest.raises(StepFailed, match="image convert") as failed:
        Rehearsal(str(tmp_path / "work"), context=repo, images=("convert",)).run(until="images")
    assert failed.value.step == "images"


def test_a_transfer_image_without_kfp_fails_the_images_step(rehearsed, tmp_path):
    repo = copy_repository(tmp_path / "repo")
    edit(os.path.join(repo, "containers/transfer/requirements.txt"), "kfp==2.17.3\n", "")
    with pytest.raises(StepFailed, match=r"(?s)image transfer.*No module named 'kfp'") as failed:
        Rehearsal(str(tmp_path / "work"), context=repo, images=("transfer",)).run(until="images")
    assert failed.value.step == "images"


def test_a_pipeline_without_the_trainer_image_fails_the_compile_step(rehearsed, tmp_path):
    repo = copy_repository(tmp_path / "repo")
    edit(os.path.join(repo, "pipeline.py"), 'trainer_image=image_for("train"), ', "")
    with pytest.raises(StepFailed, match="passes trainer_image=''") as failed:
        Rehearsal(str(tmp_path / "work"), context=repo).run(until="compile")
    assert failed.value.step == "compile"
