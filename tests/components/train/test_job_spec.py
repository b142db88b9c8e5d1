import pytest

from components.train.job_spec import (TRAINER_COMMAND, Vertex, custom_job, machine_type, trainer_image,
                                       vertex_environment, worker_pool_specs)
from components.train.launcher import VertexClient
from components.train.settings import Settings, SettingsError, parse_args

BASE = dict(train_data="gs://b/out/train/*.tfrecord", eval_data="gs://b/out/eval/*.tfrecord",
            label_map="gs://b/out/label_map.pbtxt", model_dir="gs://b/runs/r1", export_dir="gs://b/runs/r1/export")
IMAGES = {"trainer_image": "us-docker.pkg.dev/p/r/synthdet-train:0.1.0",
          "trainer_tpu_image": "us-docker.pkg.dev/p/r/synthdet-train-tpu:0.1.0"}
VERTEX = Vertex(**IMAGES, project="proj", region="us-central1", service_account="sa@proj.iam.gserviceaccount.com")


def gpu_settings(**changes) -> Settings:
    return Settings(**BASE, accelerator_type="NVIDIA_TESLA_P100", accelerator_count=1, **changes)


def test_gpu_job_is_one_pool_running_the_trainer_with_every_flag(monkeypatch):
    monkeypatch.setenv("SYNTHDET_IMAGE_REGISTRY", "us-docker.pkg.dev/p/r")
    settings = gpu_settings()
    job = custom_job(settings, VERTEX)
    [pool] = job["job_spec"]["worker_pool_specs"]
    assert pool["machine_spec"] == {"machine_type": "n1-standard-4", "accelerator_type": "NVIDIA_TESLA_P100",
                                    "accelerator_count": 1}
    assert pool["replica_count"] == 1 and pool["disk_spec"]["boot_disk_size_gb"] == 100
    container = pool["container_spec"]
    assert container["image_uri"] == "us-docker.pkg.dev/p/r/synthdet-train:0.1.0"
    assert container["command"] == TRAINER_COMMAND == ["python", "-m", "components.train.trainer"]
    assert parse_args(container["args"]) == settings
    spec = job["job_spec"]
    assert spec["base_output_directory"] == {"output_uri_prefix": "gs://b/runs/r1"}
    assert spec["service_account"] == "sa@proj.iam.gserviceaccount.com" and "tensorboard" not in spec
    assert spec["scheduling"] == {"timeout": "604800s", "restart_job_on_worker_restart": False}
    assert job["display_name"] == "synthdet-train" and job["labels"] == {"app": "synthdet"}


def test_tpu_v3_runs_on_a_cloud_tpu_vm_from_the_tpu_image():
    settings = Settings(**BASE, accelerator_type="TPU_V3", accelerator_count=8, train_batch_size=64)
    [pool] = worker_pool_specs(settings, VERTEX)
    assert pool["machine_spec"] == {"machine_type": "cloud-tpu", "accelerator_type": "TPU_V3", "accelerator_count": 8}
    assert pool["container_spec"]["image_uri"] == "us-docker.pkg.dev/p/r/synthdet-train-tpu:0.1.0"
    assert trainer_image(settings, VERTEX) == IMAGES["trainer_tpu_image"]


@pytest.mark.parametrize("field, value, message", [
    ("trainer_image", "", "no trainer image given"),
    ("trainer_image", "us-docker.pkg.dev/YOUR_PROJECT/synthdet/synthdet-train:0.1.0", "placeholder registry"),
])
def test_the_trainer_image_must_be_given_and_real(monkeypatch, field, value, message):
    # The image comes with the settings only: a registry in this process's environment changes nothing.
    monkeypatch.setenv("SYNTHDET_IMAGE_REGISTRY", "us-docker.pkg.dev/p/r")
    settings = Settings(**BASE)
    with pytest.raises(SettingsError, match=f"--trainer-image: .*{message}.*SYNTHDET_IMAGE_REGISTRY"):
        custom_job(settings, Vertex(**{**IMAGES, field: value}, project="p", region="r"))


def test_tpu_v5e_uses_a_topology_and_no_accelerator_fields():
    settings = Settings(**BASE, accelerator_type="TPU_V5_LITEPOD", tpu_topology="2x2")
    [pool] = worker_pool_specs(settings, VERTEX)
    assert pool["machine_spec"] == {"machine_type": "ct5lp-hightpu-4t", "tpu_topology": "2x2"}
    with pytest.raises(SettingsError, match="--machine-type"):
        worker_pool_specs(settings, Vertex(**IMAGES, project="p", region="r", machine_type="ct5lp-hightpu-8t"))


def test_more_machines_add_a_worker_pool():
    settings = Settings(**BASE, accelerator_type="NVIDIA_L4", accelerator_count=2, replica_count=3)
    chief, workers = worker_pool_specs(settings, VERTEX)
    assert chief["replica_count"] == 1 and workers["replica_count"] == 2
    assert chief["machine_spec"] == workers["machine_spec"] == {
        "machine_type": "g2-standard-24", "accelerator_type": "NVIDIA_L4", "accelerator_count": 2}


@pytest.mark.parametrize("kind, count, expected", [
    ("", 0, "n1-standard-16"), ("NVIDIA_TESLA_T4", 4, "n1-standard-16"), ("NVIDIA_TESLA_V100", 1, "n1-standard-4"),
    ("NVIDIA_L4", 1, "g2-standard-4"), ("NVIDIA_TESLA_A100", 8, "a2-highgpu-8g"),
    ("NVIDIA_TESLA_A100", 16, "a2-megagpu-16g"), ("NVIDIA_H100_80GB", 1, "a3-highgpu-1g"),
    ("NVIDIA_H200_141GB", 8, "a3-ultragpu-8g"), ("TPU_V3", 8, "cloud-tpu")])
def test_default_machine_types_fit_the_gpu(kind, count, expected):
    settings = Settings(**BASE, accelerator_type=kind, accelerator_count=count)
    assert machine_type(settings, VERTEX) == expected


def test_gpu_on_the_wrong_machine_family_is_refused():
    with pytest.raises(SettingsError, match="--machine-type.*g2-"):
        machine_type(Settings(**BASE, accelerator_type="NVIDIA_L4", accelerator_count=1),
                     Vertex(**IMAGES, project="p", region="r", machine_type="n1-standard-8"))


@pytest.mark.parametrize("kind, count, given", [
    ("NVIDIA_TESLA_A100", 2, "a2-highgpu-3g"), ("NVIDIA_L4", 1, "g2-standard-100"), ("", 0, "n1-standard-7"),
    ("NVIDIA_L4", 1, "g2-standard-24"), ("NVIDIA_TESLA_V100", 1, "n1-standard-16"),
    ("NVIDIA_TESLA_A100", 1, "a2-ultragpu-1g")])
def test_no_job_is_built_for_a_machine_type_that_does_not_carry_the_accelerator(kind, count, given):
    settings = Settings(**BASE, accelerator_type=kind, accelerator_count=count)
    with pytest.raises(SettingsError, match="--machine-type: .*use"):
        custom_job(settings, Vertex(**IMAGES, project="p", region="r", machine_type=given))


def test_no_job_is_built_for_a_gpu_count_no_machine_carries():
    settings = Settings(**BASE, accelerator_type="NVIDIA_TESLA_T4", accelerator_count=3)
    with pytest.raises(SettingsError, match="--accelerator-count: NVIDIA_TESLA_T4 machines \\(n1\\) carry 1, 2 or 4"):
        custom_job(settings, VERTEX)


def test_a_chosen_machine_type_that_fits_is_kept():
    settings = Settings(**BASE, accelerator_type="NVIDIA_L4", accelerator_count=1)
    [pool] = worker_pool_specs(settings, Vertex(**IMAGES, project="p", region="r", machine_type="g2-standard-16"))
    assert pool["machine_spec"] == {"machine_type": "g2-standard-16", "accelerator_type": "NVIDIA_L4",
                                    "accelerator_count": 1}


def test_tensorboard_needs_its_resource_name_and_a_service_account():
    name = "projects/p/locations/us-central1/tensorboards/123"
    job = custom_job(gpu_settings(), Vertex(**IMAGES, project="p", region="us-central1", tensorboard=name,
                                            service_account="sa@p.iam.gserviceaccount.com"))
    assert job["job_spec"]["tensorboard"] == name
    with pytest.raises(SettingsError, match="--service-account"):
        Vertex(**IMAGES, project="p", region="r", tensorboard=name)
    with pytest.raises(SettingsError, match="--tensorboard"):
        Vertex(**IMAGES, project="p", region="r", tensorboard="my-board", service_account="x")
    with pytest.raises(SettingsError, match="--project"):
        Vertex(project="", region="r")


def test_vertex_environment_follows_the_base_output_directory():
    env = vertex_environment(gpu_settings(), Vertex(**IMAGES, project="p", region="r", base_output_dir="gs://b/base/"))
    assert env == {"AIP_MODEL_DIR": "gs://b/base/model/", "AIP_CHECKPOINT_DIR": "gs://b/base/checkpoints/",
                   "AIP_TENSORBOARD_LOG_DIR": "gs://b/base/logs/"}


def test_the_sdk_accepts_the_dicts_offline():
    from google.auth.credentials import AnonymousCredentials

    tpu = Settings(**BASE, accelerator_type="TPU_V5_LITEPOD", tpu_topology="2x4", train_batch_size=64)
    for settings in (gpu_settings(), tpu):
        job = VertexClient("proj", "us-central1", AnonymousCredentials()).build(custom_job(settings, VERTEX))
        spec = job._gca_resource.job_spec
        assert spec.base_output_directory.output_uri_prefix == "gs://b/runs/r1"
        machine = spec.worker_pool_specs[0].machine_spec
        if settings.is_tpu:
            assert machine.machine_type == "ct5lp-hightpu-8t" and machine.tpu_topology == "2x4"
            assert machine.accelerator_count == 0
        else:
            assert machine.accelerator_type.name == "NVIDIA_TESLA_P100" and machine.accelerator_count == 1
        assert list(spec.worker_pool_specs[0].container_spec.args) == settings.to_args()
        assert job.project == "proj" and job.location == "us-central1"
