"""What a step would send to Google Cloud, computed inside that step's image (no network).

Run by the rehearsal with an image environment's Python, from a folder outside the repository, so
only what the image installs is importable (this file imports nothing of ``rehearsal``)::

    python rehearsal/probe.py dataflow --inputs convert_inputs.json --job-file job.json
    python rehearsal/probe.py customjob --inputs train_inputs.json --job-file job.json

``--inputs`` holds the task's input parameter values as the compiled spec resolved them, plus
``{"artifacts": {name: uri}}`` and the overrides a cloud run would have (``"runner"`` ...).
"""
from __future__ import annotations

import argparse
import inspect
import json
import logging
import sys


def _call_with(function, values: dict, **fixed):
    """Call ``function`` with the entries of ``values`` its signature names, plus ``fixed``."""
    names = inspect.signature(function).parameters
    return function(**{k: v for k, v in values.items() if k in names and k not in fixed}, **fixed)


def dataflow(inputs: dict, job_file: str) -> dict:
    """The Dataflow job the convert step would submit (DataflowRunner, dry run)."""
    from components.convert.pipeline import translate_dataflow_job
    from components.convert.task import settings_for_task

    values = dict(inputs)
    values["dataset_format"] = values.get("dataset_format", "auto")
    settings = _call_with(settings_for_task, values, output=values["output"],
                          label_map=values.get("artifacts", {}).get("reference_label_map"))
    return translate_dataflow_job(settings, job_file)


def customjob(inputs: dict, job_file: str) -> dict:
    """The CustomJob the train step would submit with ``mode="vertex"``."""
    from components.train import job_spec, launcher, preflight, task

    artifacts = inputs["artifacts"]
    params = {k: v for k, v in inputs.items() if k not in ("artifacts", "mode", "preset", "model_dir", "resume")}
    settings, vertex = task.plan_for_task("vertex", artifacts["train_data"], artifacts["eval_data"],
                                          artifacts["label_map"], artifacts["examples"], inputs["model_dir"],
                                          inputs["preset"], bool(inputs.get("resume")), params)
    settings, layout = launcher.pinned(settings)
    preflight.check(settings, layout, remote=True)
    job = job_spec.custom_job(settings, vertex)
    with open(job_file, "w") as f:
        json.dump(job, f, indent=1, sort_keys=True)
    return job


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="python rehearsal/probe.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("dataflow", "customjob"))
    parser.add_argument("--inputs", required=True, help="JSON file of the task's resolved inputs")
    parser.add_argument("--job-file", required=True, help="where the job description goes (JSON)")
    args = parser.parse_args(argv)
    with open(args.inputs) as f:
        inputs = json.load(f)
    try:
        (dataflow if args.what == "dataflow" else customjob)(inputs, args.job_file)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
