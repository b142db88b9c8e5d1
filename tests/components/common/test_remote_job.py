"""The shared remote-job lifecycle, with a stand-in job."""
import json
import os
import signal

import pytest

from components.common import gcp_resources
from components.common.remote_job import RemoteJob, RemoteJobFailed, run_remote, write_no_resources
from tests.components.common.fakes import ScriptedStates

URI = "https://example.googleapis.com/v1/jobs/7"
TERMINAL = {"DONE", "FAILED"}


class Service(ScriptedStates):
    """A remote service with one job: its states in order, what was asked of it."""

    def __init__(self, states, on_poll=None, cancel_error=None):
        super().__init__(states, on_poll)
        self.cancels = self.launches = 0
        self.resumed = []
        self.cancel_error = cancel_error

    def cancel(self):
        self.cancels += 1
        if self.cancel_error:
            raise self.cancel_error

    def job(self):
        return RemoteJob(resource_type="TestJob", uri=URI, name="jobs/7", console_url="https://console/jobs/7",
                         fetch_state=self.next_state, cancel=self.cancel, display_name="nightly",
                         failure_detail=lambda: "worker 0 ran out of memory")

    def launch(self):
        self.launches += 1
        return self.job()

    def resume(self, uri):
        self.resumed.append(uri)
        return self.job()


def run(service, path, **kwargs):
    return run_remote(path, "TestJob", service.launch, service.resume, terminal=TERMINAL, succeeded="DONE",
                      timeout=3600, interval=1, sleep=lambda s: None, **kwargs)


def test_launch_writes_the_handle_before_the_first_poll_and_logs_states_and_link(tmp_path, caplog):
    path = str(tmp_path / "out" / "gcp_resources")
    seen = []
    service = Service(["PENDING", "RUNNING", "DONE"],
                      on_poll=lambda s: seen.append(gcp_resources.read(path, "TestJob")))
    caplog.set_level("INFO")
    job = run(service, path)
    assert job.name == "jobs/7" and service.launches == 1 and service.resumed == []
    assert seen == [URI] * 3
    assert json.loads(open(path).read()) == {"resources": [{"resourceType": "TestJob", "resourceUri": URI}]}
    assert "https://console/jobs/7" in caplog.text
    assert "TestJob jobs/7 (nightly): RUNNING (after " in caplog.text


def test_a_named_job_is_resumed_not_launched_again(tmp_path):
    path = str(tmp_path / "gcp_resources")
    gcp_resources.write(path, "TestJob", URI)
    service = Service(["RUNNING", "DONE"])
    run(service, path)
    assert service.launches == 0 and service.resumed == [URI] and service.polls == 2


def test_no_path_keeps_no_handle(tmp_path):
    service = Service(["DONE"])
    run(service, "")
    assert service.launches == 1 and os.listdir(tmp_path) == []


def test_failure_names_the_job_its_state_detail_and_link(tmp_path, marker_handler):
    with pytest.raises(RuntimeError) as err:
        run(Service(["RUNNING", "FAILED"]), str(tmp_path / "g"))
    assert isinstance(err.value, RemoteJobFailed) and err.value.state == "FAILED"
    assert str(err.value) == ("TestJob jobs/7 (nightly) ended in FAILED: worker 0 ran out of memory; "
                              "see https://console/jobs/7")
    assert signal.getsignal(signal.SIGTERM) is marker_handler


@pytest.mark.parametrize("resume", [False, True])
def test_sigterm_while_waiting_cancels_the_job_then_the_previous_handler_is_back(tmp_path, marker_handler,
                                                                                resume):
    path = str(tmp_path / "gcp_resources")
    if resume:
        gcp_resources.write(path, "TestJob", URI)

    def terminate(service):
        if service.polls == 2:
            os.kill(os.getpid(), signal.SIGTERM)

    service = Service(["RUNNING"], on_poll=terminate)
    with pytest.raises(SystemExit, match="cancelled TestJob jobs/7"):
        run(service, path)
    assert service.cancels == 1 and service.launches == (0 if resume else 1)
    assert signal.getsignal(signal.SIGTERM) is marker_handler


def test_a_failed_cancel_still_exits(tmp_path, marker_handler, caplog):
    service = Service(["RUNNING"], on_poll=lambda s: os.kill(os.getpid(), signal.SIGTERM),
                      cancel_error=ConnectionError("no route"))
    with pytest.raises(SystemExit):
        run(service, str(tmp_path / "g"))
    assert service.cancels == 1 and "Could not cancel TestJob jobs/7" in caplog.text
    assert signal.getsignal(signal.SIGTERM) is marker_handler


def test_success_puts_the_previous_handler_back(tmp_path, marker_handler):
    run(Service(["DONE"]), str(tmp_path / "g"))
    assert signal.getsignal(signal.SIGTERM) is marker_handler


def test_no_remote_job_writes_an_empty_resource_list(tmp_path):
    path = tmp_path / "sub" / "gcp_resources"
    write_no_resources(str(path))
    assert json.loads(path.read_text()) == {"resources": []}
    assert gcp_resources.read(str(path), "DataflowJob") is None
    write_no_resources("")
    write_no_resources(None)
