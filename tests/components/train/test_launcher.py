"""The Vertex launcher against the GCS emulator, with a stand-in for the aiplatform job at the client edge."""
import json
import os
import signal

import pytest

from components.common import gcp_resources, uris
from components.train.job_spec import Vertex
from components.train.launcher import console_url, run_vertex
from components.train.preflight import PreflightError
from components.train.settings import Settings
from tests.components.common.fakes import ScriptedStates
from tests.conftest import EMULATOR_BUCKET, upload_tree

NAME = "projects/proj/locations/us-central1/customJobs/4242"


class FakeState:
    def __init__(self, name):
        self.name = name


class FakeJob(ScriptedStates):
    """What the launcher uses of ``aiplatform.CustomJob``: resource_name, state, error, cancel()."""

    def __init__(self, states, on_poll=None):
        super().__init__(states, on_poll)
        self.resource_name = NAME
        self.cancelled = False
        self.error = None

    @property
    def state(self):
        return FakeState(self.next_state())

    def cancel(self):
        self.cancelled = True


class FakeClient:
    def __init__(self, job):
        self.job, self.submitted, self.fetched = job, [], []

    def submit(self, spec):
        self.submitted.append(spec)
        return self.job

    def get(self, resource_name):
        self.fetched.append(resource_name)
        return self.job


@pytest.fixture
def remote(gcs_emulator, records, request):
    root = f"gs://{EMULATOR_BUCKET}/launcher/{request.node.name}"
    upload_tree(records, root + "/data")
    return Settings(train_data=root + "/data/train/*.tfrecord", eval_data=root + "/data/eval/*.tfrecord",
                    label_map=root + "/data/label_map.pbtxt", model_dir=root + "/model", num_eval_images=8,
                    accelerator_type="NVIDIA_L4", accelerator_count=1)


VERTEX = Vertex(project="proj", region="us-central1", trainer_image="us-docker.pkg.dev/proj/synthdet/synthdet-train:1")


def finish(job):
    """The job writes its metrics file when it reaches the last state, as the trainer would."""
    if len(job.states) == 1 and job.states[0] == "JOB_STATE_SUCCEEDED":
        uris.write_text(job.model_dir + "/eval_metrics.json", json.dumps({"AP50": 0.9, "step": 75000.0}))


def test_submits_records_the_handle_and_waits_for_success(remote, tmp_path, caplog):
    job = FakeJob(["JOB_STATE_PENDING", "JOB_STATE_RUNNING", "JOB_STATE_SUCCEEDED"], on_poll=finish)
    job.model_dir = remote.model_dir
    client = FakeClient(job)
    path = str(tmp_path / "gcp_resources")
    caplog.set_level("INFO")
    layout, metrics = run_vertex(remote, VERTEX, path, client=client, sleep=lambda s: None)
    assert metrics == {"AP50": 0.9, "step": 75000.0}
    assert layout.saved_model_dir == remote.model_dir + "/export/saved_model"
    [spec] = client.submitted
    args = spec["job_spec"]["worker_pool_specs"][0]["container_spec"]["args"]
    assert f"--export-dir={remote.model_dir}/export" in args
    assert gcp_resources.read(path, "CustomJob") == f"https://us-central1-aiplatform.googleapis.com/v1/{NAME}"
    assert console_url(NAME) in caplog.text and "JOB_STATE_RUNNING" in caplog.text
    assert job.polls >= 3 and not job.cancelled


def test_a_restarted_launcher_resumes_the_job_it_recorded(remote, tmp_path):
    path = str(tmp_path / "gcp_resources")
    gcp_resources.write(path, "CustomJob", f"https://us-central1-aiplatform.googleapis.com/v1/{NAME}")
    uris.write_text(remote.model_dir + "/checkpoint", 'model_checkpoint_path: "ckpt-2000"\n')
    job = FakeJob(["JOB_STATE_RUNNING", "JOB_STATE_SUCCEEDED"], on_poll=finish)
    job.model_dir = remote.model_dir
    client = FakeClient(job)
    # The model dir already holds the job's checkpoint: no pre-flight, no second job.
    _, metrics = run_vertex(remote, VERTEX, path, client=client, sleep=lambda s: None)
    assert client.submitted == [] and client.fetched == [NAME] and metrics["AP50"] == 0.9


def test_failure_names_the_job_its_state_and_the_console(remote, tmp_path):
    job = FakeJob(["JOB_STATE_RUNNING", "JOB_STATE_FAILED"])
    job.error = type("Status", (), {"message": "OOM in worker 0"})()
    with pytest.raises(RuntimeError) as err:
        run_vertex(remote, VERTEX, str(tmp_path / "g"), client=FakeClient(job), sleep=lambda s: None)
    text = str(err.value)
    assert NAME in text and "JOB_STATE_FAILED" in text and "OOM in worker 0" in text and console_url(NAME) in text


def test_sigterm_cancels_the_job(remote, tmp_path):
    def terminate(job):
        if job.polls == 2:
            os.kill(os.getpid(), signal.SIGTERM)

    job = FakeJob(["JOB_STATE_RUNNING"], on_poll=terminate)
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit, match="cancelled"):
        run_vertex(remote, VERTEX, str(tmp_path / "g"), client=FakeClient(job), sleep=lambda s: None)
    assert job.cancelled and signal.getsignal(signal.SIGTERM) == before


def test_preflight_fails_before_anything_is_submitted(remote, tmp_path):
    client = FakeClient(FakeJob(["JOB_STATE_SUCCEEDED"]))
    with pytest.raises(PreflightError, match="--num-eval-images"):
        run_vertex(remote.replace(num_eval_images=500), VERTEX, str(tmp_path / "g"), client=client)
    local = remote.replace(label_map=os.path.join(str(tmp_path), "label_map.pbtxt"))
    with pytest.raises(PreflightError, match="--label-map"):
        run_vertex(local, VERTEX, str(tmp_path / "g"), client=client)
    assert client.submitted == [] and not os.path.exists(str(tmp_path / "g"))


def test_the_callers_sigterm_handler_is_back_after_the_wait(remote, tmp_path, marker_handler):
    with pytest.raises(RuntimeError, match="JOB_STATE_CANCELLED"):
        run_vertex(remote, VERTEX, str(tmp_path / "g1"), client=FakeClient(FakeJob(["JOB_STATE_CANCELLED"])),
                   sleep=lambda s: None)
    assert signal.getsignal(signal.SIGTERM) is marker_handler
    job = FakeJob(["JOB_STATE_RUNNING", "JOB_STATE_SUCCEEDED"], on_poll=finish)
    job.model_dir = remote.model_dir
    run_vertex(remote, VERTEX, str(tmp_path / "g2"), client=FakeClient(job), sleep=lambda s: None)
    assert signal.getsignal(signal.SIGTERM) is marker_handler


def test_a_resumed_wait_cancels_the_job_on_sigterm(remote, tmp_path):
    path = str(tmp_path / "gcp_resources")
    gcp_resources.write(path, "CustomJob", f"https://us-central1-aiplatform.googleapis.com/v1/{NAME}")
    job = FakeJob(["JOB_STATE_RUNNING"], on_poll=lambda j: j.polls == 2 and os.kill(os.getpid(), signal.SIGTERM))
    client = FakeClient(job)
    with pytest.raises(SystemExit, match="cancelled"):
        run_vertex(remote, VERTEX, path, client=client, sleep=lambda s: None)
    assert job.cancelled and client.submitted == [] and client.fetched == [NAME]
