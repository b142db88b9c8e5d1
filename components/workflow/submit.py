"""Submit the compiled pipeline to Vertex AI Pipelines, or show what would be submitted.

    python pipeline.py submit --project P --region R --pipeline-root gs://B/root \
        --param run_execution_id=5M6wq80 --param max_steps=2000 [--dry-run]
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import yaml

from components.common import images

logger = logging.getLogger(__name__)
_TYPES: dict[str, Callable[[str], Any]] = {
    "STRING": str, "NUMBER_INTEGER": int, "NUMBER_DOUBLE": float,
    "BOOLEAN": lambda v: {"true": True, "false": False}[v.lower()],
    "LIST": json.loads, "STRUCT": json.loads,
}
_REGION = re.compile(r"^[a-z]+-[a-z]+\d+$")


def check_region(value: str, flag: str = "--region") -> str:
    """``value`` when it reads as a Google Cloud region (``us-central1``); else ValueError naming ``flag``."""
    if not _REGION.match(value or ""):
        raise ValueError(f"{flag} {value!r}: expected a region such as us-central1")
    return value


@dataclass(frozen=True)
class Submission:
    """Everything sent to Vertex AI for one run (printed as is by --dry-run)."""

    display_name: str
    template_path: str
    project: str
    location: str
    pipeline_root: str
    parameter_values: dict[str, Any]
    service_account: str | None = None
    enable_caching: bool | None = None
    labels: dict[str, str] = field(default_factory=lambda: {"app": "synthdet"})


def load_spec(template_path: str) -> dict:
    with open(template_path) as f:
        return yaml.safe_load(f)


def pipeline_parameters(template_path: str) -> dict[str, dict]:
    """The root input parameters of a compiled pipeline: name -> {parameterType, defaultValue?}."""
    return load_spec(template_path)["root"]["inputDefinitions"]["parameters"]


def typed_defaults(spec: dict[str, dict]) -> dict[str, Any]:
    """Each parameter's compiled default with its declared type (the YAML keeps integers as 16.0)."""
    defaults: dict[str, Any] = {}
    for name, p in spec.items():
        value = p.get("defaultValue")
        if p["parameterType"] == "NUMBER_INTEGER" and isinstance(value, float) and value.is_integer():
            value = int(value)
        defaults[name] = value
    return defaults


def placeholder_images(spec: dict) -> list[str]:
    """Images in a compiled pipeline that still carry the placeholder registry: the executors' images,
    and image-valued parameter defaults and task constants (the Dataflow worker and trainer images)."""
    executors = {e["container"]["image"] for e in spec.get("deploymentSpec", {}).get("executors", {}).values()
                 if "container" in e}
    values: list = []
    for owner in [spec.get("root", {}), *spec.get("components", {}).values()]:
        values += [p.get("defaultValue") for p in owner.get("inputDefinitions", {}).get("parameters", {}).values()]
        for task in owner.get("dag", {}).get("tasks", {}).values():
            values += [p.get("runtimeValue", {}).get("constant")
                       for p in task.get("inputs", {}).get("parameters", {}).values()]
    ours = {v for v in values if isinstance(v, str) and images.image_name(v) is not None}
    return sorted(v for v in executors | ours if images.is_placeholder(v))


def parse_params(items: list[str], spec: dict[str, dict]) -> dict[str, Any]:
    """``["name=value", ...]`` -> typed values; unknown names and bad values raise ValueError."""
    values: dict[str, Any] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep:
            raise ValueError(f"--param {item!r}: expected NAME=VALUE")
        if name not in spec:
            close = ", ".join(sorted(n for n in spec if n.split("_")[0] == name.split("_")[0])) or "none"
            raise ValueError(f"--param {name}: the pipeline has no such parameter (similar: {close})")
        kind = spec[name]["parameterType"]
        try:
            values[name] = _TYPES[kind](raw)
        except (ValueError, KeyError, json.JSONDecodeError) as err:
            raise ValueError(f"--param {name}={raw!r}: expected {kind.lower().replace('number_', '')}") from err
    missing = [n for n, p in spec.items() if not p.get("isOptional") and n not in values]
    if missing:
        raise ValueError(f"missing required parameters: {', '.join('--param ' + m + '=...' for m in missing)}")
    return values


def make_submission(template_path: str, project: str, region: str, pipeline_root: str, params: list[str],
                    service_account: str | None = None, display_name: str = "synthdet",
                    enable_caching: bool | None = None,
                    validate: Callable[[dict[str, Any], dict], None] | None = None) -> Submission:
    """Check everything that can be checked before submitting; raises ValueError naming the flag.

    ``validate(values, spec)`` gets every parameter's value (defaults filled in) and the compiled spec.
    """
    if not project:
        raise ValueError("--project is required")
    check_region(region)
    if not pipeline_root.startswith("gs://"):
        raise ValueError(f"--pipeline-root {pipeline_root!r}: Vertex AI needs a gs:// folder")
    pipeline = load_spec(template_path)
    stale = placeholder_images(pipeline)
    if stale:
        raise ValueError(f"{template_path} was compiled with placeholder images ({', '.join(stale)}), which "
                         f"Vertex AI cannot pull: {images.REGISTRY_HINT}")
    spec = pipeline["root"]["inputDefinitions"]["parameters"]
    values = parse_params(params, spec)
    # Unless named otherwise, the Dataflow job, the CustomJob and the Model Registry upload run in the
    # project and region the pipeline runs in (a compiled default would send them elsewhere, or nowhere).
    for name, value in (("project", project), ("region", region)):
        if name in spec and name not in values:
            values[name] = value
    if validate:
        validate({**typed_defaults(spec), **values}, pipeline)
    return Submission(display_name, template_path, project, region, pipeline_root, values,
                      service_account, enable_caching)


def submit(sub: Submission) -> str:
    """Create the PipelineJob and return its console URL."""
    from google.cloud import aiplatform

    aiplatform.init(project=sub.project, location=sub.location)
    job = aiplatform.PipelineJob(display_name=sub.display_name, template_path=sub.template_path,
                                 pipeline_root=sub.pipeline_root, parameter_values=sub.parameter_values,
                                 enable_caching=sub.enable_caching, labels=sub.labels,
                                 project=sub.project, location=sub.location)
    job.submit(service_account=sub.service_account)
    url = (f"https://console.cloud.google.com/vertex-ai/locations/{sub.location}/pipelines/runs/"
           f"{job.name}?project={sub.project}")
    logger.info("Submitted %s", job.resource_name)
    return url


def describe(sub: Submission) -> str:
    return json.dumps(asdict(sub), indent=2, sort_keys=True)
