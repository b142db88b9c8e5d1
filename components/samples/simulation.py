"""Layout ``unity-simulation``: a run execution as a Unity Simulation data transfer leaves it in a bucket.

    python -m components.samples --output ./bucket --layout unity-simulation --images 60

writes ``./bucket/projects/<project>/run_executions/urn:run_definitions:<d>/urn:run_executions:<e>/``
with ``urn:app_params:<a>/instance:<n>/attempt:<k>/`` legacy Perception datasets below it. One
instance was retried: its ``attempt:0`` holds a stale, partial dataset with wrong labels that a
converter must ignore in favour of ``attempt:1``.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

from components.samples.dataset import Ids, SampleDataset, frame_numbers
from components.samples.job import Job
from components.samples.perception import LegacyDataset


def run_execution_root(output: Path, project_id: str, run_definition_id: str, run_execution_id: str) -> Path:
    """``<output>/projects/<p>/run_executions/urn:run_definitions:<d>/urn:run_executions:<e>``."""
    return (output / "projects" / project_id / "run_executions" / f"urn:run_definitions:{run_definition_id}"
            / f"urn:run_executions:{run_execution_id}")


def split_evenly(total: int, parts: int) -> list[int]:
    """``total`` items over ``parts`` buckets, the first ones one larger when it does not divide."""
    return [total // parts + (1 if k < total % parts else 0) for k in range(parts)]


def write_simulation(job: Job) -> SampleDataset:
    """Write the run execution; the returned root is the ``urn:run_executions:<e>`` folder."""
    options = job.options
    root = run_execution_root(job.output, options.project_id, options.run_definition_id, options.run_execution_id)
    instances = [(app, n) for app in options.app_param_ids for n in range(options.instances_per_app_param)]
    counts = split_evenly(job.num_images, len(instances))
    retried = 1 if len(instances) > 1 else 0
    ids = Ids(job.seed, stream=2)
    # One frame sequence for all instances, so the same rgb_<frame>.png names repeat in each of them.
    frames = frame_numbers(ids, max(counts))
    folders, datasets = [], []
    for k, (app, n) in enumerate(instances):
        folders.append(f"urn:app_params:{app}/instance:{n}/attempt:{1 if k == retried else 0}")
        datasets.append(LegacyDataset(job, root / folders[-1], ids))
    app, n = instances[retried]
    stale_folder = f"urn:app_params:{app}/instance:{n}/attempt:0"
    stale = LegacyDataset(job, root / stale_folder, ids, relabel=True)
    stale_count = (counts[retried] + 1) // 2
    owners = [(k, position) for k, count in enumerate(counts) for position in range(count)]
    images = []
    for rendered in job.render("rgba-png", segmentation=True):
        k, position = owners[rendered.index]
        image = datasets[k].add(frames[position], rendered)
        images.append(dataclasses.replace(image, path=f"{folders[k]}/{image.path}"))
        if k == retried and position < stale_count:
            stale.add(frames[position], rendered)
    for dataset in [*datasets, stale]:
        dataset.finish()
    return job.dataset(root, images, project_id=options.project_id,
                       run_definition_id=options.run_definition_id, run_execution_id=options.run_execution_id,
                       app_param_ids=options.app_param_ids, superseded=(stale_folder,))
