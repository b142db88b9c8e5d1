"""What the rehearsal reads in a compiled pipeline spec and in a task's resolved command (pure)."""
from __future__ import annotations

import json

from components.common import images as image_names


def executor_input(command: list[str]) -> dict:
    """The executor input JSON a compiled task's command carries (after ``--executor_input``)."""
    for flag, value in zip(command, command[1:]):
        if flag == "--executor_input":
            return json.loads(value)
    raise ValueError("the task's command has no --executor_input")


def task_inputs(command: list[str]) -> dict:
    """Input parameter values plus ``{"artifacts": {name: uri}}`` of one resolved task."""
    doc = executor_input(command)["inputs"]
    values = dict(doc.get("parameterValues", {}))
    values["artifacts"] = {name: spec["artifacts"][0]["uri"] for name, spec in doc.get("artifacts", {}).items()}
    return values


def compiled_tasks(spec: dict) -> dict[str, dict]:
    """Every task of the compiled pipeline, conditions' sub-DAGs included: name -> task."""
    found: dict[str, dict] = {}

    def walk(owner: dict) -> None:
        for name, task in owner["dag"]["tasks"].items():
            found[name] = task
            comp = spec["components"][task["componentRef"]["name"]]
            if "dag" in comp:
                walk(comp)

    walk(spec["root"])
    return found


def check_spec(spec: dict) -> dict[str, str]:
    """Every image in the compiled spec is a real one of ours (or Google's); returns what names them.

    Raises ValueError naming the task: an executor image with the placeholder registry, a convert
    task without the Dataflow worker image, a train task without the trainer image.
    """
    found = {}
    for label, executor in spec["deploymentSpec"]["executors"].items():
        image = executor["container"]["image"]
        if image_names.is_placeholder(image):
            raise ValueError(f"executor {label} runs {image}, the placeholder registry")
        found[label] = image
    for name, task in compiled_tasks(spec).items():
        component = task["componentRef"]["name"]
        params = task.get("inputs", {}).get("parameters", {})
        wanted = {"comp-convert": ("sdk_container_image", "convert"),
                  "comp-train": ("trainer_image", "train")}
        for prefix, (param, image) in wanted.items():
            if component == prefix or component.startswith(prefix + "-"):
                value = params.get(param, {}).get("runtimeValue", {}).get("constant", "")
                if image_names.image_name(value) != image or image_names.is_placeholder(value):
                    raise ValueError(f"task {name} passes {param}={value!r}: the compiled spec must name the "
                                     f"{image} image ({image_names.REGISTRY_HINT})")
                found[f"{name}.{param}"] = value
    return found
