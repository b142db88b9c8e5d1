import pytest

from components.convert.options import Settings, beam_args


def dataflow(**kw):
    base = dict(source="gs://b/run", runner="DataflowRunner", project="p", region="us-central1",
                temp_location="gs://b/tmp")
    base.update(kw)
    return Settings(**base)


def test_direct_runner_picks_processes_for_large_sources_only():
    assert beam_args(Settings(source="/data"), image_files=999) == [
        "--runner=DirectRunner", "--direct_num_workers=1", "--direct_running_mode=in_memory"]
    assert beam_args(Settings(source="/data"), image_files=1000) == [
        "--runner=DirectRunner", "--direct_num_workers=0", "--direct_running_mode=multi_processing"]
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
