"""Where a training run reads and writes.

- checkpoints, ``params.yaml`` and summaries: ``--model-dir`` (Model Garden's model_dir); a trainer
  started without the flag takes Vertex AI's ``AIP_CHECKPOINT_DIR``.
- the SavedModel: ``<export dir>/saved_model``; ``--export-dir``, else ``AIP_MODEL_DIR``, else
  ``<model dir>/export``.
- TensorBoard summaries: ``AIP_TENSORBOARD_LOG_DIR`` when Vertex sets it (a Vertex TensorBoard streams
  only from there), else the model dir (``train/``, ``validation/``).
- the eval metrics of the last evaluation: ``<model dir>/eval_metrics.json``; every evaluation's
  step, time and AP: ``<model dir>/eval_history.json``.
- ``stats.json`` and ``eval_coco.json`` default to the label map's folder (the convert output).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from components.common import uris
from components.train.settings import Settings

METRICS_FILE = "eval_metrics.json"
HISTORY_FILE = "eval_history.json"


@dataclass(frozen=True)
class Layout:
    model_dir: str
    export_dir: str
    tensorboard_dir: str
    stats: str
    annotation_file: str

    @property
    def saved_model_dir(self) -> str:
        return uris.join(self.export_dir, "saved_model")

    @property
    def metrics_file(self) -> str:
        return uris.join(self.model_dir, METRICS_FILE)

    @property
    def history_file(self) -> str:
        """Step, seconds since the start of this process's training, AP and AP50 of each evaluation."""
        return uris.join(self.model_dir, HISTORY_FILE)


def sibling(path: str, name: str) -> str:
    """A file beside ``path`` (local or gs://)."""
    if uris.is_gcs(path):
        return path.rsplit("/", 1)[0] + "/" + name
    import os

    return os.path.join(os.path.dirname(path), name)


def with_vertex_dirs(given: dict, environ: Mapping[str, str]) -> dict:
    """Fill ``model_dir`` / ``export_dir`` from AIP_CHECKPOINT_DIR / AIP_MODEL_DIR when not given."""
    out = dict(given)
    if not out.get("model_dir") and environ.get("AIP_CHECKPOINT_DIR"):
        out["model_dir"] = environ["AIP_CHECKPOINT_DIR"]
    if not out.get("export_dir") and environ.get("AIP_MODEL_DIR"):
        out["export_dir"] = environ["AIP_MODEL_DIR"]
    return out


def resolve(settings: Settings, environ: Mapping[str, str] | None = None) -> Layout:
    """The run's paths; ``environ`` holds Vertex's AIP_* variables when running there."""
    env = environ or {}
    model_dir = settings.model_dir.rstrip("/") or settings.model_dir
    export_dir = (settings.export_dir or uris.join(model_dir, "export")).rstrip("/")
    tensorboard_dir = (env.get("AIP_TENSORBOARD_LOG_DIR") or model_dir).rstrip("/")
    return Layout(model_dir=model_dir, export_dir=export_dir, tensorboard_dir=tensorboard_dir,
                  stats=settings.stats or sibling(settings.label_map, "stats.json"),
                  annotation_file=settings.annotation_file or sibling(settings.label_map, "eval_coco.json"))
