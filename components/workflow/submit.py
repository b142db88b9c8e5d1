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

logger = logging.getLogger(__name__)
_TYPES: dict[str, Callable[[str], Any]] = {
    "STRING": str, "NUMBER_INTEGER": int, "NUMBER_DOUBLE": float,
    "BOOLEAN": lambda v: {"true": True, "false": False}[v.lower()],
    "LIST": json.loads, "STRUCT": json.loads,
}
_REGION = re.compile(r"^[a-z]+-[a-z]+\d+$")


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


def pipeline_parameters(template_path: str) -> dict[str, dict]:
    """The root input parameters of a compiled pipeline: name -> {parameterType, defaultValue?}."""
    with open(template_path) as f:
        spec = yaml.safe_load(f)
    return spec["root"]["inputDefinitions"]["parameters"]


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
                    validate: Callable[[dict[str, Any]], None] | None = None) -> Submission:
    """Check everything that can be checked before submitting; raises ValueError naming the flag."""
    if not project:
        raise ValueError("--project is required")
    if not _REGION.match(region or ""):
        raise ValueError(f"--region {region!r}: expected a region such as us-central1")
    if not pipeline_root.startswith("gs://"):
        raise ValueError(f"--pipeline-root {pipeline_root!r}: Vertex AI needs a gs:// folder")
    spec = pipeline_parameters(template_path)
    values = parse_params(params, spec)
    if validate:
        defaults = {n: p.get("defaultValue") for n, p in spec.items()}
        validate({**defaults, **values})
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
