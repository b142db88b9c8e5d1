"""The trainer's device check (components.train.trainer.check_devices): fail at once, never train on the CPU."""
import pytest

from components.train.preflight import PreflightError
from components.train.settings import Settings
from components.train.trainer import DeviceError, check_devices, main

BASE = dict(train_data="gs://b/out/train/*.tfrecord", eval_data="gs://b/out/eval/*.tfrecord",
            label_map="gs://b/out/label_map.pbtxt", model_dir="gs://b/runs/r1")


def settings(**hardware) -> Settings:
    return Settings(**BASE, **hardware)


def test_a_gpu_job_that_sees_no_gpu_fails_naming_what_was_asked_and_seen():
    with pytest.raises(DeviceError) as err:
        check_devices(settings(accelerator_type="NVIDIA_TESLA_P100", accelerator_count=1), visible_gpus=0,
                      tpu_found=False)
    message = str(err.value)
    assert message.startswith("--accelerator-count: asked for 1 x NVIDIA_TESLA_P100 but TensorFlow sees 0 GPU(s)")
    assert "LD_LIBRARY_PATH" in message and "/usr/local/nvidia/lib64" in message
    assert isinstance(err.value, PreflightError) and err.value.field == "accelerator_count"


def test_fewer_gpus_than_asked_fail_and_enough_pass():
    four = settings(accelerator_type="NVIDIA_L4", accelerator_count=4)
    with pytest.raises(DeviceError, match="asked for 4 x NVIDIA_L4 but TensorFlow sees 2 GPU"):
        check_devices(four, visible_gpus=2, tpu_found=False)
    assert check_devices(four, visible_gpus=4, tpu_found=False) is None
    assert check_devices(four, visible_gpus=8, tpu_found=False) is None


@pytest.mark.parametrize("hardware", [dict(accelerator_type="TPU_V3", accelerator_count=8, train_batch_size=64),
                                      dict(accelerator_type="TPU_V5_LITEPOD", tpu_topology="2x2")])
def test_a_tpu_job_without_a_tpu_fails(hardware):
    tpu = settings(**hardware)
    with pytest.raises(DeviceError, match=f"^--accelerator-type: asked for {hardware['accelerator_type']} but "
                                          "this machine shows no TPU"):
        check_devices(tpu, visible_gpus=0, tpu_found=False)
    assert check_devices(tpu, visible_gpus=0, tpu_found=True) is None


def test_cpu_jobs_take_whatever_the_machine_has():
    for gpus in (0, 2):
        assert check_devices(settings(), visible_gpus=gpus, tpu_found=False) is None


def test_the_trainer_exits_with_the_message_before_reading_any_data(caplog):
    """A job asking for 8 GPUs on this machine stops in detect_runtime with exit status 2 (the data is not there)."""
    args = [f"--{k.replace('_', '-')}={v}" for k, v in BASE.items()]
    assert main(args + ["--accelerator-type=NVIDIA_L4", "--accelerator-count=8"]) == 2
    assert "--accelerator-count: asked for 8 x NVIDIA_L4 but TensorFlow sees" in caplog.text
