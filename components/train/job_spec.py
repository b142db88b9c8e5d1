"""Settings -> Vertex AI CustomJob worker pools and job dicts (REST field names).

Nothing here talks to Google Cloud; ``launcher.py`` submits what these functions build, e.g.::

    vertex = Vertex(project="p", region="us-central1")
    custom_job(settings, vertex)   # {"display_name": ..., "job_spec": {"worker_pool_specs": [...], ...}}
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from components.common import images
from components.train import machines
from components.train.settings import Settings, SettingsError

TRAINER_COMMAND = ["python", "-m", "components.train.trainer"]
_TENSORBOARD = re.compile(r"^projects/[^/]+/locations/[^/]+/tensorboards/[^/]+$")


def trainer_image(settings: Settings, vertex: "Vertex") -> str:
    """The image the CustomJob runs: ``vertex.trainer_image``, or ``trainer_tpu_image`` for TPUs.

    Image names come in with the settings (the compiled spec carries them, the CLI fills them in
    from the registry it sees); nothing here looks them up. Raises SettingsError when the image is
    unset or still names the placeholder registry, so no job pulls an image that does not exist.
    """
    field_name = "trainer_tpu_image" if settings.is_tpu else "trainer_image"
    image = getattr(vertex, field_name)
    if not image:
        raise SettingsError(field_name, f"no trainer image given for the CustomJob; {images.REGISTRY_HINT}")
    if images.is_placeholder(image):
        raise SettingsError(field_name, f"{image} names the placeholder registry; {images.REGISTRY_HINT}")
    return image


@dataclass(frozen=True)
class Vertex:
    """Where and how the CustomJob runs. Empty strings mean "not set"."""

    project: str
    region: str
    machine_type: str = ""          # "" = derived from the accelerator (machines.default_machine_type)
    trainer_image: str = ""         # synthdet-train image (GPU/CPU jobs); required for those
    trainer_tpu_image: str = ""     # synthdet-train-tpu image; required for TPU jobs
    service_account: str = ""
    base_output_dir: str = ""        # "" = the model dir; Vertex derives AIP_*_DIR from it
    tensorboard: str = ""           # projects/P/locations/R/tensorboards/ID
    display_name: str = "synthdet-train"
    timeout_s: int = 7 * 24 * 3600
    boot_disk_size_gb: int = 100
    restart_job_on_worker_restart: bool = False
    labels: dict = field(default_factory=lambda: {"app": "synthdet"})

    def __post_init__(self) -> None:
        for name in ("project", "region"):
            if not getattr(self, name).strip():
                raise SettingsError(name, "is required to run on Vertex AI (or pass --local)")
        if self.tensorboard and not _TENSORBOARD.match(self.tensorboard):
            raise SettingsError("tensorboard", f"expected projects/P/locations/R/tensorboards/ID, got "
                                f"{self.tensorboard!r}")
        if self.tensorboard and not self.service_account:
            raise SettingsError("service_account", "Vertex AI TensorBoard uploads need a service account")
        if self.timeout_s < 60:
            raise SettingsError("timeout_s", f"must be at least 60 seconds, got {self.timeout_s}")


def machine_type(settings: Settings, vertex: Vertex) -> str:
    """The chosen or derived machine type, checked against the accelerator (``machines.check_pairing``)."""
    return machines.check_pairing(vertex.machine_type, settings.accelerator_type, settings.accelerator_count,
                                  settings.tpu_topology)


def machine_spec(settings: Settings, vertex: Vertex) -> dict:
    spec: dict = {"machine_type": machine_type(settings, vertex)}
    if settings.accelerator_type == "TPU_V5_LITEPOD":
        spec["tpu_topology"] = settings.tpu_topology
    elif settings.accelerator_type:
        spec["accelerator_type"] = settings.accelerator_type
        spec["accelerator_count"] = settings.accelerator_count
    return spec


def worker_pool_specs(settings: Settings, vertex: Vertex) -> list[dict]:
    """Pool 0 = the chief; a second pool holds the other ``replica_count - 1`` workers."""
    pool = {
        "machine_spec": machine_spec(settings, vertex),
        "replica_count": 1,
        "disk_spec": {"boot_disk_type": "pd-ssd", "boot_disk_size_gb": vertex.boot_disk_size_gb},
        "container_spec": {"image_uri": trainer_image(settings, vertex),
                           "command": list(TRAINER_COMMAND), "args": settings.to_args()},
    }
    pools = [pool]
    if settings.replica_count > 1:
        pools.append({**pool, "replica_count": settings.replica_count - 1})
    return pools


def base_output_directory(settings: Settings, vertex: Vertex) -> str:
    return vertex.base_output_dir or settings.model_dir


def custom_job(settings: Settings, vertex: Vertex) -> dict:
    """The CustomJob resource as the REST API spells it."""
    job_spec: dict = {
        "worker_pool_specs": worker_pool_specs(settings, vertex),
        "base_output_directory": {"output_uri_prefix": base_output_directory(settings, vertex)},
        "scheduling": {"timeout": f"{vertex.timeout_s}s",
                       "restart_job_on_worker_restart": vertex.restart_job_on_worker_restart},
    }
    if vertex.service_account:
        job_spec["service_account"] = vertex.service_account
    if vertex.tensorboard:
        job_spec["tensorboard"] = vertex.tensorboard
    return {"display_name": vertex.display_name, "job_spec": job_spec, "labels": dict(vertex.labels)}


def vertex_environment(settings: Settings, vertex: Vertex) -> dict[str, str]:
    """The AIP_* variables Vertex sets in the container (for checks made before submission)."""
    base = base_output_directory(settings, vertex).rstrip("/")
    return {"AIP_MODEL_DIR": f"{base}/model/", "AIP_CHECKPOINT_DIR": f"{base}/checkpoints/",
            "AIP_TENSORBOARD_LOG_DIR": f"{base}/logs/"}
