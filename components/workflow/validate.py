"""Submit-time checks: every step's own Settings, built from the pipeline parameters as pipeline.py wires them.

``validate_parameters(values)`` (values: every pipeline parameter, defaults filled in) builds each
step's settings with the function that step runs at run time (``settings_for_task`` of the convert and
train tasks, the transfer's and the evaluation's ``Settings``), with placeholder gs:// URIs for the
artifacts, runs the translators that need no data (Beam args, the CustomJob dict, the Model Garden
overrides) and raises ``ParameterError`` naming the pipeline parameter (``--param max_bad_fraction``).

``STEPS`` holds, per task, which pipeline parameter feeds which component parameter; it must say what
``synthdet_pipeline`` wires (tests/test_pipeline.py compares it with the compiled spec).
"""
from __future__ import annotations

import importlib
import inspect
import re
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Mapping

from components.common import images, uris
from components.workflow.submit import check_region

PLACEHOLDER = "gs://synthdet-placeholder/run"
_FLAG = re.compile(r"(?<![\w-])--([a-z][a-z0-9]*(?:-[a-z0-9]+)*)")


class ParameterError(ValueError):
    """A pipeline parameter has a value a step would refuse; ``parameter`` is its name."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message if message.startswith(f"--param {parameter}") else f"--param {parameter}: {message}")
        self.parameter = parameter


# The checks: each builds the step's settings the way its task does, with placeholder artifact URIs.
def check_transfer(params: dict[str, Any], values: Mapping[str, Any]) -> None:
    from components.transfer import ids
    from components.transfer.transfer import Settings

    Settings(**{f.name: params[f.name] for f in fields(Settings) if f.name in params})
    if not params["token_secret"]:
        # Without a secret the task reads USIM_ACCESS_TOKEN or ~/.usim/token.json, which Vertex AI lacks.
        raise ValueError("--token-secret: empty; a run on Vertex AI reads the Unity token from Secret Manager "
                         "(projects/P/secrets/S/versions/V)")
    ids.secret_version(params["token_secret"])
    if params["buckets_root"]:
        raise ValueError(f"--buckets-root {params['buckets_root']!r}: for local runs only; leave it empty on "
                         "Vertex AI")


def _convert(params: dict[str, Any], source: str, label_map: str | None) -> None:
    from components.convert.options import beam_args
    from components.convert.task import settings_for_task

    names = set(inspect.signature(settings_for_task).parameters) - {"source", "output", "label_map"}
    given = {k: v for k, v in params.items() if k in names}
    beam_args(settings_for_task(source=source, output=f"{PLACEHOLDER}/examples", label_map=label_map, **given))


def check_convert(params: dict[str, Any], values: Mapping[str, Any]) -> None:
    # The source is the transfer's output, or dataset_uri passed through.
    _convert(params, values.get("dataset_uri") or f"{PLACEHOLDER}/dataset", None)


def check_real_convert(params: dict[str, Any], values: Mapping[str, Any]) -> None:
    _convert(params, params["source"], f"{PLACEHOLDER}/examples/label_map.pbtxt")


def check_train(params: dict[str, Any], values: Mapping[str, Any]) -> None:
    from components.train.task import check_launch, plan_for_task

    rest = {k: v for k, v in params.items() if k not in ("mode", "preset", "model_dir", "resume")}
    data = f"{PLACEHOLDER}/examples"
    check_launch(*plan_for_task(params["mode"], f"{data}/train", f"{data}/eval", f"{data}/label_map.pbtxt", data,
                                params["model_dir"] or f"{PLACEHOLDER}/checkpoints", params["preset"],
                                params["resume"], rest))


def check_evaluate(params: dict[str, Any], values: Mapping[str, Any]) -> None:
    from components.evaluate.evaluation import Settings

    given = {f.name: params[f.name] for f in fields(Settings)
             if f.name in params and f.name not in ("model", "eval_data", "label_map")}
    Settings(model=f"{PLACEHOLDER}/model", eval_data=(f"{PLACEHOLDER}/examples/eval",),
             label_map=f"{PLACEHOLDER}/examples/label_map.pbtxt", **given)


@dataclass(frozen=True)
class Step:
    """One task of the pipeline: its display name, its component, how pipeline parameters reach its
    component parameters, its constant inputs, when it runs, and the check that builds its settings."""

    task: str
    component: str                                     # components.<component>.component.<component>
    inputs: Mapping[str, str]                          # component parameter -> pipeline parameter
    check: Callable[[dict[str, Any], Mapping[str, Any]], None]
    constants: Mapping[str, Any] = field(default_factory=dict)
    images: Mapping[str, str] = field(default_factory=dict)   # constant image inputs: parameter -> image name
    renamed: Mapping[str, str] = field(default_factory=dict)  # settings field (flag) -> component parameter
    when: Callable[[Mapping[str, Any]], bool] = lambda values: True

    def parameter(self, name: str) -> str | None:
        """The pipeline parameter behind a settings field or flag name (``max-bad-fraction``)."""
        name = name.replace("-", "_")
        return self.inputs.get(self.renamed.get(name, name))

    def component_parameters(self, values: Mapping[str, Any], compiled: dict | None = None) -> dict[str, Any]:
        """The component's declared defaults, then its constants, then the wired pipeline values.

        ``compiled`` is this task in the compiled spec: its image constants are the ones the run gets
        (without it, the images this environment would compile in).
        """
        module = importlib.import_module(f"components.{self.component}.component")
        func = getattr(module, self.component).python_func
        # Artifacts either have no default or default to None (an optional input).
        params = {n: p.default for n, p in inspect.signature(func).parameters.items()
                  if p.default is not inspect.Parameter.empty and p.default is not None}
        params.update(self.constants)
        params.update({name: images.image_for(image) for name, image in self.images.items()})
        if compiled:
            params.update({name: value for name, value in constants(compiled).items()
                           if isinstance(value, str) and images.image_name(value) is not None})
        params.update({comp: values[pipe] for comp, pipe in self.inputs.items() if pipe in values})
        return params


_BEAM = {"runner": "convert_runner", "project": "project", "region": "region",
         "temp_location": "dataflow_temp_location", "max_num_workers": "dataflow_max_workers",
         "machine_type": "dataflow_machine_type", "service_account": "service_account",
         "extra_beam_args": "convert_extra_beam_args"}
_CONVERT_FIELDS = {"format": "dataset_format", "label_map": "reference_label_map"}
_TRAINING_FLAGS = ("train_batch_size", "num_eval_images", "train_steps_per_eval", "max_steps",
                   "warmup_learning_rate", "warmup_steps", "initial_learning_rate", "image_size", "fpn_type",
                   "aug_scale_min", "aug_scale_max", "resnet_depth", "params_override")
_TRAINING_HARDWARE = ("project", "region", "machine_type", "accelerator_type", "accelerator_count",
                      "tpu_topology", "replica_count", "service_account", "tensorboard")


def _from_unity(values: Mapping[str, Any]) -> bool:
    return not values.get("dataset_uri")


def _with_real(values: Mapping[str, Any]) -> bool:
    return bool(values.get("real_dataset_uri"))


STEPS = (
    Step("Transfer from Unity Simulation", "transfer", {
        "project_id": "unity_project_id", "run_definition_id": "run_definition_id",
        "run_execution_id": "run_execution_id", "bucket": "bucket", "token_secret": "usim_token_secret",
        "api_url": "usim_api_url", "buckets_root": "buckets_root", "poll_interval": "transfer_poll_interval",
    }, check_transfer, constants={"skip_if_present": True}, when=_from_unity),
    Step("Convert to TFRecords", "convert", {
        "eval_pct": "eval_pct", "dataset_format": "dataset_format", "max_bad_fraction": "max_bad_fraction",
        "max_dropped_box_fraction": "max_dropped_box_fraction", "sensor": "sensor", **_BEAM,
    }, check_convert, images={"sdk_container_image": "convert"}, renamed=_CONVERT_FIELDS),
    Step("Convert real photos", "convert", {"source": "real_dataset_uri", **_BEAM}, check_real_convert,
         constants={"eval_pct": 100.0}, images={"sdk_container_image": "convert"}, renamed=_CONVERT_FIELDS,
         when=_with_real),
    Step("Train RetinaNet", "train", {
        "mode": "training_mode", "preset": "training_preset", **{n: n for n in _TRAINING_FLAGS + _TRAINING_HARDWARE},
        "base_output_dir": "training_output_dir",
    }, check_train, images={"trainer_image": "train", "trainer_tpu_image": "train-tpu"}),
    Step("Evaluate on synthetic eval split", "evaluate", {"min_map": "min_map"}, check_evaluate),
    Step("Evaluate on real photos", "evaluate", {}, check_evaluate, when=_with_real),
)
# Tasks not checked here: the dataset_uri pass-through (its gs:// check is below) and the Model
# Registry upload (Google Cloud Pipeline Components).
UNCHECKED = ("Dataset in a bucket", "Describe serving container", "Upload to Model Registry")


def compiled_tasks(spec: dict) -> dict[str, dict]:
    """Every task that runs a container in a compiled pipeline (those inside conditions too), by display name."""
    found: dict[str, dict] = {}

    def walk(owner: dict) -> None:
        for name, task in owner.get("dag", {}).get("tasks", {}).items():
            component = spec["components"][task["componentRef"]["name"]]
            if "dag" in component:
                walk(component)
            else:
                found[task.get("taskInfo", {}).get("name", name)] = task

    walk(spec["root"])
    return found


def bindings(task: dict) -> dict[str, str]:
    """A compiled task's inputs that come from pipeline parameters: component parameter -> pipeline parameter."""
    return {name: p["componentInputParameter"].removeprefix("pipelinechannel--")
            for name, p in task.get("inputs", {}).get("parameters", {}).items() if "componentInputParameter" in p}


def constants(task: dict) -> dict[str, Any]:
    """A compiled task's constant inputs."""
    return {name: p["runtimeValue"]["constant"] for name, p in task.get("inputs", {}).get("parameters", {}).items()
            if "constant" in p.get("runtimeValue", {})}


def as_parameter_error(step: Step, err: ValueError) -> ValueError:
    """The step's error with its flags written as the pipeline parameters (``--param eval_pct``)."""
    message = str(err)
    named = getattr(err, "field", None)
    candidates = ([named] if named else []) + _FLAG.findall(message)
    parameter = next((step.parameter(c) for c in candidates if step.parameter(c)), None)

    def rewrite(match: re.Match) -> str:
        found = step.parameter(match.group(1))
        return f"--param {found}" if found else match.group(0)

    text = _FLAG.sub(rewrite, message)
    if parameter is None:
        return ValueError(f"{step.task}: {text}")
    return ParameterError(parameter, f"{text} ({step.task})")


def validate_parameters(values: dict[str, Any], spec: dict | None = None) -> None:
    """Raise ParameterError naming the pipeline parameter when a step would refuse its value.

    ``spec`` is the compiled pipeline (its image constants are used); without it, this environment's images.
    """
    tasks = compiled_tasks(spec) if spec else {}
    if not values.get("dataset_uri"):
        missing = [n for n in ("unity_project_id", "run_definition_id", "run_execution_id", "bucket")
                   if not values.get(n)]
        if missing:
            raise ParameterError(missing[0], "either --param dataset_uri=gs://... or the Unity Simulation run: "
                                 f"missing {', '.join(missing)}")
    for name in ("dataset_uri", "real_dataset_uri"):
        if values.get(name) and not uris.is_gcs(str(values[name])):
            raise ParameterError(name, f"{values[name]!r}: expected a gs:// folder (Vertex AI cannot read "
                                 "this machine's files)")
    if "region" in values:
        try:
            check_region(values["region"], "--param region")
        except ValueError as err:
            raise ParameterError("region", str(err)) from err
    for step in STEPS:
        if not step.when(values):
            continue
        try:
            step.check(step.component_parameters(values, tasks.get(step.task)), values)
        except ValueError as err:
            raise as_parameter_error(step, err) from err
