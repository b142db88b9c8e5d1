"""The launch command of a lightweight component, run as a container would run it, then terminated."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from kfp import dsl

from components.common.kfp_command import exec_python


@dsl.component(install_kfp_package=False)
def probe(pid_file: str):
    import os
    import time

    with open(pid_file, "w") as f:
        f.write(str(os.getpid()))
    time.sleep(120)


def start(component, tmp_path):
    pid_file = tmp_path / f"pid-{time.monotonic_ns()}"
    spec = component.component_spec.implementation.container
    executor_input = {"inputs": {"parameterValues": {"pid_file": str(pid_file)}},
                      "outputs": {"outputFile": str(tmp_path / "executor_output.json")}}
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    proc = subprocess.Popen([*spec.command, "--executor_input", json.dumps(executor_input),
                             "--function_to_execute", "probe"], env=env)
    deadline = time.monotonic() + 60
    while not (pid_file.exists() and pid_file.read_text()):
        assert proc.poll() is None and time.monotonic() < deadline, "the probe component did not start"
        time.sleep(0.1)
    return proc, int(pid_file.read_text())


def test_python_is_the_launched_process_and_gets_sigterm(tmp_path):
    plain_proc, plain_pid = start(probe, tmp_path)
    plain_proc.kill()
    plain_proc.wait()
    # KFP's own command keeps the shell in between: a signal to the process started stops at sh.
    assert plain_pid != plain_proc.pid

    proc, pid = start(exec_python(probe), tmp_path)
    try:
        assert pid == proc.pid
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == -signal.SIGTERM
    finally:
        if proc.poll() is None:
            proc.kill()


def test_every_project_component_execs_python():
    from components.convert.component import convert
    from components.evaluate.component import evaluate, preview
    from components.train.component import train
    from components.transfer.component import transfer
    from components.workflow.component import pass_dataset_uri, serving_model

    for component in (transfer, convert, preview, train, evaluate, pass_dataset_uri, serving_model):
        script = component.component_spec.implementation.container.command[2]
        assert "exec python3 -m kfp.dsl.executor_main" in script, component.name


def test_an_unknown_command_shape_is_refused():
    @dsl.container_component
    def echo():
        return dsl.ContainerSpec(image="alpine", command=["echo", "hi"])

    with pytest.raises(RuntimeError, match="unexpected KFP launch command"):
        exec_python(echo)
