"""Checks on pipeline parameters that can run before any data exists (used by ``submit``)."""
from __future__ import annotations

from typing import Any

from components.train.settings import Settings as TrainSettings


def validate_parameters(values: dict[str, Any]) -> None:
    """Raise ValueError naming the parameter when a run could not succeed."""
    if not values.get("dataset_uri"):
        missing = [n for n in ("unity_project_id", "run_definition_id", "run_execution_id", "bucket")
                   if not values.get(n)]
        if missing:
            raise ValueError("either --param dataset_uri=gs://... or the Unity Simulation run: "
                             f"missing {', '.join(missing)}")
    elif not str(values["dataset_uri"]).startswith("gs://"):
        raise ValueError(f"dataset_uri {values['dataset_uri']!r}: expected a gs:// folder")
    if values.get("convert_runner") == "DataflowRunner":
        if not values.get("project"):
            raise ValueError("project: Dataflow needs the Google Cloud project (--param project=...)")
        if not str(values.get("dataflow_temp_location", "")).startswith("gs://"):
            raise ValueError("dataflow_temp_location: Dataflow needs a gs:// temp folder")
    if not 0 <= float(values.get("eval_pct", 20)) < 100:
        raise ValueError(f"eval_pct {values.get('eval_pct')}: expected a percentage in [0, 100)")
    # The trainer's own checks on the seed's flags and the hardware (paths are placeholders).
    TrainSettings(
        train_data="gs://placeholder/train-*", eval_data="gs://placeholder/eval-*",
        label_map="gs://placeholder/label_map.pbtxt", model_dir="gs://placeholder/model",
        preset=values.get("training_preset", "seed"),
        **{name: values[name] for name in (
            "train_batch_size", "num_eval_images", "train_steps_per_eval", "max_steps",
            "warmup_learning_rate", "warmup_steps", "initial_learning_rate", "image_size", "fpn_type",
            "aug_scale_min", "aug_scale_max", "resnet_depth", "tpu_topology", "replica_count")
           if name in values},
        accelerator_type=values.get("accelerator_type", ""), accelerator_count=values.get("accelerator_count", 0))
