"""The convert launcher: the Dataflow job's lifecycle with stand-ins at the cloud edge, DirectRunner's
empty handle, and the offline dry-run translation against the GCS emulator."""
import json
import os
import signal
from types import SimpleNamespace

import pytest

from components.common import gcp_resources, uris
from components.convert import launcher
from components.convert.options import Settings
from components.convert.pipeline import run, translate_dataflow_job
from components.samples import generate
from tests.components.common.fakes import ScriptedStates
from tests.components.convert.builders import legacy_dataset
from tests.conftest import EMULATOR_BUCKET, upload_tree

JOB_ID = "2026-11-24_01_02_03-123"
URI = f"https://dataflow.googleapis.com/v1b3/projects/proj/locations/europe-west4/jobs/{JOB_ID}"
CONSOLE = f"https://console.cloud.google.com/dataflow/jobs/europe-west4/{JOB_ID}?project=proj"
DATAFLOW = dict(runner="DataflowRunner", project="proj", region="europe-west4",
                temp_location="gs://b/tmp", job_name="synthdet-convert-1")


class FakeDataflowClient(ScriptedStates):
    """What the launcher uses of the Dataflow API for a resumed job: get(...) and cancel(...)."""

    def __init__(self, states, on_poll=None):
        super().__init__(states, on_poll)
        self.gets, self.cancelled = [], []

    def get(self, project, region, job_id):
        self.gets.append((project, region, job_id))
        return SimpleNamespace(name="synthdet-convert-0", current_state=SimpleNamespace(name=self.next_state()))

    def cancel(self, project, region, job_id):
        self.cancelled.append((project, region, job_id))


class FakeResult(ScriptedStates):
    """What the launcher uses of a DataflowRunner PipelineResult: job_id(), state, cancel()."""

    def __init__(self, states, on_poll=None):
        super().__init__(states, on_poll)
        self.cancelled = False

    def job_id(self):
        return JOB_ID

    @property
    def state(self):
        return self.next_state()

    def cancel(self):
        self.cancelled = True


def never_start():
    raise AssertionError("a second job was launched")


def test_job_handle_round_trip(tmp_path):
    path = str(tmp_path / "gcp_resources")
    assert launcher.launched_job(path) is None
    gcp_resources.write(path, launcher.RESOURCE_TYPE, gcp_resources.dataflow_job_uri("proj", "europe-west4", JOB_ID))
    doc = json.loads(open(path).read())
    assert doc == {"resources": [{"resourceType": "DataflowJob", "resourceUri": URI}]}
    assert launcher.launched_job(path) == ("proj", "europe-west4", JOB_ID)
    assert launcher.parse_job_uri("https://example.com/other") is None


def test_launch_writes_the_handle_then_polls_the_result(tmp_path, marker_handler, caplog):
    path = str(tmp_path / "gcp_resources")
    seen = []
    result = FakeResult(["PENDING", "RUNNING", "DONE"],
                        on_poll=lambda r: seen.append(gcp_resources.read(path, "DataflowJob")))
    caplog.set_level("INFO")
    job = launcher.run_dataflow(Settings(source="gs://b/src", **DATAFLOW), lambda: result, path,
                                client=FakeDataflowClient(["JOB_STATE_FAILED"]), sleep=lambda s: None)
    assert job.name == JOB_ID and seen == [URI] * 3 and not result.cancelled
    assert CONSOLE in caplog.text and "JOB_STATE_RUNNING (after" in caplog.text
    assert signal.getsignal(signal.SIGTERM) is marker_handler


def test_sigterm_during_a_launched_wait_cancels_through_the_result(tmp_path, marker_handler):
    result = FakeResult(["RUNNING"], on_poll=lambda r: r.polls == 2 and os.kill(os.getpid(), signal.SIGTERM))
    with pytest.raises(SystemExit, match=f"cancelled DataflowJob {JOB_ID}"):
        launcher.run_dataflow(Settings(source="gs://b/src", **DATAFLOW), lambda: result, str(tmp_path / "g"),
                              client=FakeDataflowClient(["JOB_STATE_FAILED"]), sleep=lambda s: None)
    assert result.cancelled and signal.getsignal(signal.SIGTERM) is marker_handler


def test_a_restarted_task_waits_on_the_recorded_job(tmp_path, marker_handler):
    path = str(tmp_path / "gcp_resources")
    gcp_resources.write(path, "DataflowJob", URI)
    client = FakeDataflowClient(["JOB_STATE_RUNNING", "JOB_STATE_RUNNING", "JOB_STATE_DONE"])
    launcher.run_dataflow(Settings(source="gs://b/src", **DATAFLOW), never_start, path, client=client,
                          sleep=lambda s: None)
    assert set(client.gets) == {("proj", "europe-west4", JOB_ID)} and client.cancelled == []
    assert signal.getsignal(signal.SIGTERM) is marker_handler


def test_sigterm_during_a_resumed_wait_in_run_cancels_the_job(tmp_path, marker_handler, monkeypatch):
    path = str(tmp_path / "gcp_resources")
    gcp_resources.write(path, "DataflowJob", URI)

    def terminate(client):
        if len(client.gets) == 2:  # the first poll, after the look-up of the job's name
            os.kill(os.getpid(), signal.SIGTERM)

    client = FakeDataflowClient(["JOB_STATE_RUNNING"], on_poll=terminate)
    monkeypatch.setattr(launcher, "DataflowClient", lambda: client)
    # The source does not exist: a resumed run must not plan or launch anything.
    with pytest.raises(SystemExit, match=f"cancelled DataflowJob {JOB_ID}"):
        run(Settings(source=f"gs://{EMULATOR_BUCKET}/nowhere", **DATAFLOW), gcp_resources_path=path)
    assert client.cancelled == [("proj", "europe-west4", JOB_ID)]
    assert signal.getsignal(signal.SIGTERM) is marker_handler


def test_a_failed_job_raises_with_its_id_name_state_and_link(tmp_path, marker_handler):
    path = str(tmp_path / "gcp_resources")
    gcp_resources.write(path, "DataflowJob", URI)
    client = FakeDataflowClient(["JOB_STATE_RUNNING", "JOB_STATE_FAILED"])
    with pytest.raises(RuntimeError) as err:
        launcher.run_dataflow(Settings(source="gs://b/src", **DATAFLOW), never_start, path, client=client,
                              sleep=lambda s: None)
    text = str(err.value)
    assert JOB_ID in text and "synthdet-convert-0" in text and "JOB_STATE_FAILED" in text and CONSOLE in text
    assert signal.getsignal(signal.SIGTERM) is marker_handler


def test_a_failed_launched_job_raises_with_its_state(tmp_path):
    with pytest.raises(RuntimeError, match=f"DataflowJob {JOB_ID} \\(synthdet-convert-1\\) ended in "
                                           "JOB_STATE_CANCELLED; see https://console"):
        launcher.run_dataflow(Settings(source="gs://b/src", **DATAFLOW), lambda: FakeResult(["CANCELLED"]),
                              str(tmp_path / "g"), client=FakeDataflowClient([]), sleep=lambda s: None)


def test_direct_runner_writes_an_empty_gcp_resources(tmp_path):
    src = str(tmp_path / "ds")
    legacy_dataset(src, 6)
    path = tmp_path / "outputs" / "gcp_resources"
    stats = run(Settings(source=src), gcp_resources_path=str(path))
    assert stats["ok"] and json.loads(path.read_text()) == {"resources": []}


def test_dry_run_translation_describes_the_job_without_submitting(tmp_path, gcs_emulator, monkeypatch):
    from apache_beam.runners.dataflow.internal import apiclient

    def no_client(*args, **kwargs):
        raise AssertionError("a dry run must not make a Dataflow client")

    monkeypatch.setattr(apiclient.DataflowApplicationClient, "__init__", no_client)
    sample = generate(str(tmp_path / "sample"), "solo", num_images=6, width=64, height=48)
    src = f"gs://{EMULATOR_BUCKET}/launcher-dry-run/run"
    upload_tree(sample.root, src)
    image = "europe-west4-docker.pkg.dev/proj/synthdet/convert:2026.11"
    temp = f"gs://{EMULATOR_BUCKET}/dataflow/tmp"
    settings = Settings(source=src, runner="DataflowRunner", project="proj", region="europe-west4",
                        temp_location=temp, sdk_container_image=image, job_name="synthdet-convert-dry",
                        max_num_workers=4, machine_type="n1-standard-4", labels={"app": "synthdet"})
    job_file = tmp_path / "rehearsal" / "job.json"
    job = translate_dataflow_job(settings, str(job_file))
    assert json.loads(job_file.read_text()) == job
    assert job["name"] == "synthdet-convert-dry" and job["type"] == "JOB_TYPE_BATCH"
    assert job["labels"] == {"app": "synthdet"}
    env = job["environment"]
    [pool] = env["workerPools"]
    assert pool["workerHarnessContainerImage"] == image
    assert {c["containerImage"] for c in pool["sdkHarnessContainerImages"]} == {image}
    assert pool["machineType"] == "n1-standard-4" and pool["autoscalingSettings"]["maxNumWorkers"] == 4
    assert "use_runner_v2" in env["experiments"]
    assert env["tempStoragePrefix"].startswith(f"storage.googleapis.com/{EMULATOR_BUCKET}/dataflow/tmp/")
    options = env["sdkPipelineOptions"]["options"]
    assert options["project"] == "proj" and options["region"] == "europe-west4"
    assert options["job_name"] == "synthdet-convert-dry" and options["sdk_container_image"] == image
    assert options["temp_location"].startswith(temp + "/synthdet-convert-dry.")
    assert options["runner"] == "DataflowRunner" and "dry_run" not in options
    # Nothing left behind: no output, no unit chunks under the output's temporary folder.
    assert list(uris.iter_files(uris.join(src, "output"))) == []


def test_dry_run_translation_needs_dataflow_settings(tmp_path):
    with pytest.raises(ValueError, match="DataflowRunner"):
        translate_dataflow_job(Settings(source=str(tmp_path)), str(tmp_path / "job.json"))
