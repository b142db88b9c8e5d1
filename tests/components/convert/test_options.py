import os

import pytest

from components.convert.options import Settings, beam_args


def dataflow(**kw):
    base = dict(source="gs://b/run", runner="DataflowRunner", project="p", region="us-central1",
                temp_location="gs://b/tmp")
    base.update(kw)
    return Settings(**base)


MB = 1 << 20


def direct(megabytes: float, cores: int, **kw) -> list[str]:
    return beam_args(Settings(source="/data", **kw), image_bytes=int(megabytes * MB), cores=cores)[1:]


IN_PROCESS = ["--direct_num_workers=1", "--direct_running_mode=in_memory"]
THREADS = ["--direct_num_workers=0", "--direct_running_mode=multi_threading"]
PROCESSES = ["--direct_num_workers=0", "--direct_running_mode=multi_processing"]


@pytest.mark.parametrize("megabytes, cores, expected", [
    # 2 cores: threads from 512 MB (about 180 of the benchmark's 2.8 MB PNGs), never processes.
    (511.9, 2, IN_PROCESS), (512, 2, THREADS), (300_000, 2, THREADS),
    (300_000, 1, IN_PROCESS),  # one core: nothing to share
    (14 * 1024 - 1, 16, THREADS), (14 * 1024, 16, PROCESSES), (14 * 1024, 7, THREADS), (14 * 1024, 8, PROCESSES),
    (100, 64, IN_PROCESS),     # 2,000 small images (50 KB): in-process whatever the cores
])
def test_auto_mode_follows_the_images_bytes_and_cores(megabytes, cores, expected):
    assert direct(megabytes, cores) == expected


def test_auto_mode_keeps_a_given_worker_count_and_an_external_environment():
    assert direct(5000, 4, direct_num_workers=3) == ["--direct_num_workers=3", "--direct_running_mode=multi_threading"]
    external = direct(30_000, 16, extra_beam_args=("--environment_type=EXTERNAL", "--environment_config=h:1"))
    assert external[:2] == IN_PROCESS


def test_auto_mode_counts_the_cores_this_process_may_use(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert beam_args(Settings(source="/data"), image_bytes=30_000 * MB)[1:] == IN_PROCESS


def test_forced_modes_pass_through():
    forced = Settings(source="/data", direct_running_mode="multi_threading", direct_num_workers=3)
    assert beam_args(forced)[1:] == ["--direct_num_workers=3", "--direct_running_mode=multi_threading"]
    assert Settings(source="/data").output_uri.endswith("/data/output")


def test_dataflow_args_with_extra_args_last():
    s = dataflow(sdk_container_image="us-docker.pkg.dev/p/r/synthdet-convert:1", num_workers=2,
                 max_num_workers=32, autoscaling_algorithm="THROUGHPUT_BASED", service_account="sa@p.iam",
                 job_name="synthdet-convert-1", labels={"app": "synthdet"}, no_use_public_ips=True,
                 extra_beam_args=("--max_num_workers=64",))
    args = beam_args(s)
    assert args[0] == "--runner=DataflowRunner"
    for expected in ["--project=p", "--region=us-central1", "--temp_location=gs://b/tmp",
                     "--sdk_container_image=us-docker.pkg.dev/p/r/synthdet-convert:1", "--num_workers=2",
                     "--max_num_workers=32", "--autoscaling_algorithm=THROUGHPUT_BASED",
                     "--service_account_email=sa@p.iam", "--job_name=synthdet-convert-1",
                     "--labels=app=synthdet", "--no_use_public_ips"]:
        assert expected in args
    assert args[-1] == "--max_num_workers=64"
    assert not any(a.startswith("--direct") for a in args)


@pytest.mark.parametrize("kwargs, message", [
    (dict(eval_pct=100.5), "--eval-pct"),
    (dict(eval_pct=-1), "--eval-pct"),
    (dict(format="yolo"), "--format"),
    (dict(runner="SparkRunner"), "--runner"),
    (dict(max_bad_fraction=2), "--max-bad-fraction"),
    (dict(max_dropped_box_fraction=-0.1), "--max-dropped-box-fraction"),
    (dict(source=""), "--source"),
])
def test_bad_settings_fail_early(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Settings(**{"source": "/data", **kwargs})


@pytest.mark.parametrize("kwargs, message", [
    (dict(project=None), "--project"),
    (dict(temp_location="/local/tmp"), "gs://"),
    (dict(source="/local/data"), "gs://"),
    (dict(job_name="Bad_Name"), "--job-name"),
    (dict(sdk_container_image="img", setup_file="setup.py"), "not both"),
    (dict(num_workers=10, max_num_workers=2), "--max-num-workers"),
])
def test_bad_dataflow_settings_fail_before_submission(kwargs, message):
    with pytest.raises(ValueError, match=message):
        dataflow(**kwargs)
