"""Conversion settings, checked on construction, and their translation into Beam options."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from components.common import uris
from components.convert.discover import FORMATS

RUNNERS = ("DirectRunner", "DataflowRunner")
DIRECT_MODES = ("auto", "in_memory", "multi_threading", "multi_processing")
# DirectRunner "auto" (beam_args) by the bytes of the images, which is what reading, checking and
# writing them costs: in-process below AUTO_THREADS_FROM_BYTES; from there one thread per core; one
# process per core only from AUTO_PROCESSES_FROM_BYTES on AUTO_PROCESSES_CORES cores or more.
# Measured on 2 cores with 2.8 MB PNGs (benchmarks/convert_bench.py --modes-at, README): in-process and
# threads tie at 200 images (560 MB; threads start 0.1-0.5 s later), threads win from 500 (3.1 s
# against 3.7 s) and take 9.3 s against 13.8 s at 2,000; processes start 2.5-3 s later and cost
# 30-100 % more CPU at every size up to 2,000. Past 2 cores, a model of those figures (threads stop at
# about 2 cores, processes keep scaling) puts the processes' crossover near 5,000 such images on 8.
AUTO_THREADS_FROM_BYTES = 512 << 20
AUTO_PROCESSES_FROM_BYTES = 14 << 30
AUTO_PROCESSES_CORES = 8
_JOB_NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_LABEL = re.compile(r"^[a-z][-_a-z0-9]{0,62}$")


@dataclass(frozen=True)
class Settings:
    """Everything one conversion needs. Raises ValueError on an impossible combination."""

    source: str
    output: str | None = None  # default: SOURCE/output
    format: str = "auto"
    eval_pct: float = 20.0
    max_bad_fraction: float = 0.05
    max_dropped_box_fraction: float = 0.05  # of all boxes read; a run that drops every box always fails
    max_listed_errors: int = 1000  # errors.jsonl lines per reason; stats.json counts them all
    image_sha256: bool = False  # write image/key/sha256 (no decoder reads it; ~1.8 ms per 2.7 MB image)
    box_definition_id: str | None = None
    sensor: tuple[str, ...] = ()  # sensor ids to read (empty: every sensor with 2D boxes)
    label_map: str | None = None  # reference label_map.pbtxt: ids by class name
    runner: str = "DirectRunner"
    # DirectRunner: "auto" picks the mode measured fastest for the source's size and this
    # machine's cores (auto_mode; figures in the README's benchmark section).
    direct_num_workers: int = 0
    direct_running_mode: str = "auto"
    # DataflowRunner
    project: str | None = None
    region: str | None = None
    temp_location: str | None = None
    staging_location: str | None = None
    sdk_container_image: str | None = None
    setup_file: str | None = None
    num_workers: int | None = None
    max_num_workers: int | None = None
    autoscaling_algorithm: str | None = None
    machine_type: str | None = None
    service_account: str | None = None
    network: str | None = None
    subnetwork: str | None = None
    no_use_public_ips: bool = False
    job_name: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    extra_beam_args: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.source:
            raise ValueError("--source is required")
        if self.format not in FORMATS:
            raise ValueError(f"--format {self.format!r}: expected one of {', '.join(FORMATS)}")
        if not 0 <= self.eval_pct <= 100:
            raise ValueError(f"--eval-pct {self.eval_pct}: expected a percentage in [0, 100]")
        if not 0 <= self.max_bad_fraction <= 1:
            raise ValueError(f"--max-bad-fraction {self.max_bad_fraction}: expected a fraction in [0, 1]")
        if not 0 <= self.max_dropped_box_fraction <= 1:
            raise ValueError(f"--max-dropped-box-fraction {self.max_dropped_box_fraction}: expected a fraction "
                             "in [0, 1]")
        if self.max_listed_errors < 1:
            raise ValueError(f"--max-listed-errors {self.max_listed_errors}: expected at least 1")
        if self.runner not in RUNNERS:
            raise ValueError(f"--runner {self.runner!r}: expected one of {', '.join(RUNNERS)}")
        if self.direct_running_mode not in DIRECT_MODES:
            raise ValueError(f"--direct-running-mode {self.direct_running_mode!r}: expected one of "
                             f"{', '.join(DIRECT_MODES)}")
        if self.direct_num_workers < 0:
            raise ValueError("--direct-num-workers must be >= 0 (0 = all cores)")
        for name, value in self.labels.items():
            if not _LABEL.match(name) or len(value) > 63:
                raise ValueError(f"label {name}={value}: keys are lower-case letters, digits, - and _, "
                                 "values at most 63 characters")
        if self.runner == "DataflowRunner":
            self._check_dataflow()
        check_output_place(self.source, self.output_uri)

    def _check_dataflow(self) -> None:
        missing = [f"--{n.replace('_', '-')}" for n in ("project", "region", "temp_location")
                   if not getattr(self, n)]
        if missing:
            raise ValueError(f"DataflowRunner needs {', '.join(missing)}")
        for name in ("source", "output", "temp_location", "staging_location"):
            value = getattr(self, name)
            if value and not uris.is_gcs(value):
                raise ValueError(f"--{name.replace('_', '-')} {value!r}: Dataflow workers need a gs:// location")
        if self.job_name and not _JOB_NAME.match(self.job_name):
            raise ValueError(f"--job-name {self.job_name!r}: expected lower-case letters, digits and '-', "
                             "starting with a letter")
        if self.sdk_container_image and self.setup_file:
            raise ValueError("give --sdk-container-image or --setup-file, not both")
        if self.num_workers and self.max_num_workers and self.num_workers > self.max_num_workers:
            raise ValueError(f"--num-workers {self.num_workers} exceeds --max-num-workers {self.max_num_workers}")

    @property
    def output_uri(self) -> str:
        return self.output or uris.join(self.source, "output")


def _folder_key(uri: str) -> str:
    """A folder's comparable form: its real path (local) or ``gs://bucket/prefix/``, both ending in ``/``."""
    if uris.is_gcs(uri):
        bucket, name = uris.split_gcs(uri)
        name = "/".join(p for p in name.split("/") if p)
        return f"gs://{bucket}/{name}/" if name else f"gs://{bucket}/"
    return os.path.join(os.path.realpath(uris.local_path(uri)), "")


def output_inside_source(source: str, output: str) -> bool:
    """True when ``output`` is a folder below ``source`` (not the source itself)."""
    out, src = _folder_key(output), _folder_key(source)
    return out != src and out.startswith(src)


def check_output_place(source: str, output: str) -> None:
    """Refuse an output folder that is the source or holds it: publishing would replace the data.

    An output inside the source (the default ``SOURCE/output``) passes here; the run checks that
    it holds only a previous conversion's files (``outputs.check_owned``).
    """
    out, src = _folder_key(output), _folder_key(source)
    if out == src:
        raise ValueError(f"--output {output!r} is the --source folder {source!r}: the conversion would "
                         "replace the dataset; choose another --output (the default is SOURCE/output)")
    if src.startswith(out):
        raise ValueError(f"--output {output!r} contains the --source folder {source!r}: the conversion "
                         "would write over the dataset; choose an --output outside it")


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def auto_mode(image_bytes: int, cores: int) -> str:
    """The DirectRunner mode "auto" stands for (the rule is at AUTO_THREADS_FROM_BYTES).

    Threads share one interpreter, but reading, writing and checksumming release the GIL, so they
    use about two cores for a start-up of a fraction of a second; processes scale past that but pay
    for spawning SDK workers and for moving every element between processes.
    """
    if cores < 2 or image_bytes < AUTO_THREADS_FROM_BYTES:
        return "in_memory"
    if cores >= AUTO_PROCESSES_CORES and image_bytes >= AUTO_PROCESSES_FROM_BYTES:
        return "multi_processing"
    return "multi_threading"


def beam_args(settings: Settings, image_bytes: int = 0, cores: int | None = None) -> list[str]:
    """Beam command-line options for the settings; ``extra_beam_args`` come last and win.

    ``image_bytes`` (the images' bytes in the source listing) and ``cores`` (default: the cores this
    process may use) resolve the ``auto`` DirectRunner mode (see ``auto_mode``).
    """
    args = [f"--runner={settings.runner}"]
    if settings.runner == "DirectRunner":
        mode, workers = settings.direct_running_mode, settings.direct_num_workers
        external = any(a.startswith("--environment_type") for a in settings.extra_beam_args)
        if mode == "auto":
            # With an SDK worker environment of its own (--environment_type) the work leaves this
            # process anyway, and any other mode would replace that environment.
            mode = "in_memory" if external else auto_mode(image_bytes, cores or available_cores())
            workers = 1 if mode == "in_memory" else workers
        args += [f"--direct_num_workers={workers}", f"--direct_running_mode={mode}"]
    else:
        optional = {
            "project": settings.project, "region": settings.region,
            "temp_location": settings.temp_location, "staging_location": settings.staging_location,
            "sdk_container_image": settings.sdk_container_image, "setup_file": settings.setup_file,
            "num_workers": settings.num_workers, "max_num_workers": settings.max_num_workers,
            "autoscaling_algorithm": settings.autoscaling_algorithm,
            "machine_type": settings.machine_type,
            "service_account_email": settings.service_account,
            "network": settings.network, "subnetwork": settings.subnetwork, "job_name": settings.job_name,
        }
        args += [f"--{k}={v}" for k, v in optional.items() if v not in (None, "")]
        if settings.no_use_public_ips:
            args.append("--no_use_public_ips")
        if settings.sdk_container_image:
            # Workers already have our package and pins baked in; do not re-stage the SDK.
            args.append("--experiments=use_runner_v2")
        args += [f"--labels={k}={v}" for k, v in sorted(settings.labels.items())]
    return args + list(settings.extra_beam_args)
