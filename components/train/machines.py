"""Which Vertex AI training machine types carry which accelerators, checked without data or network.

At submission (``pipeline.py submit``) and when the CustomJob is built (``job_spec.machine_type``)::

    check_pairing("", "NVIDIA_L4", 1)                    # -> "g2-standard-4" (derived)
    check_pairing("a2-highgpu-3g", "NVIDIA_TESLA_A100", 3)  # SettingsError: --accelerator-count ...
    default_machine_type("TPU_V5_LITEPOD", 0, "2x2")     # -> "ct5lp-hightpu-4t"

Sources (Google Cloud documentation):
- Compute Engine "GPU machine types", https://cloud.google.com/compute/docs/gpus : the GPUs that attach to
  N1 (T4, P4, P100, V100), their counts and the vCPU limit of each count; the G2 (L4) shapes.
- "Accelerator-optimized machine family", https://cloud.google.com/compute/docs/accelerator-optimized-machines :
  the fixed shapes of A2 Standard (A100 40GB, a2-megagpu-16g for 16), A2 Ultra (A100 80GB), A3 High/Mega/Ultra
  (H100, H100 Mega, H200), A4 (B200), G2 (L4).
- Vertex AI "Configure compute resources for custom training",
  https://cloud.google.com/vertex-ai/docs/training/configure-compute : the machine types custom training accepts
  (the CPU list below), TPU v2/v3 on ``cloud-tpu`` with 8 cores, TPU v5e on ``ct5lp-hightpu-1t/4t/8t`` with
  topology 1x1/2x2/2x4.

Derived machine types (an empty machine type): 4 vCPUs per GPU, as the smallest standard type with at
least that many within the accelerator's limit: n1-standard-4 for 1 T4/P4/P100/V100, n1-standard-16 for 4,
g2-standard-4 for 1 L4. Fixed-shape families have one type per count. CPU-only jobs get n1-standard-16, the
tutorial's master.

Why 4: the input pipeline (PNG decode and Model Garden's RetinaNet parser at 1024x1280) takes 170-185
ms of CPU per image (``benchmarks/input_bench.py``, about 6 images/s per core), and at published step
rates (detectron2's RetinaNet R50-FPN, 10 images/s on a V100, scaled to 1024x1280: 6.5 images/s) one
V100 needs 2 vCPUs, a T4, P100 or L4 one; 4 leave the evaluator and the host loop room. A100 and H100
machines come with 12 and 26 vCPUs per GPU, above the 3 and 5-6 they need.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from components.train.settings import GPU_TYPES, TPU_TYPES, TPU_V5E_TOPOLOGIES, SettingsError

VCPUS_PER_GPU = 4
CPU_DEFAULT = "n1-standard-16"
# Sizes Vertex AI training offers per CPU series (Compute Engine has more, e.g. n1-standard-1).
N1_SIZES = {"n1-standard": (4, 8, 16, 32, 64, 96), "n1-highmem": (2, 4, 8, 16, 32, 64, 96),
            "n1-highcpu": (16, 32, 64, 96)}
CPU_SIZES = {
    **N1_SIZES,
    "n2-standard": (4, 8, 16, 32, 48, 64, 80), "n2-highmem": (2, 4, 8, 16, 32, 48, 64, 80),
    "n2-highcpu": (16, 32, 48, 64, 80, 96),
    "e2-standard": (4, 8, 16, 32), "e2-highmem": (2, 4, 8, 16), "e2-highcpu": (16, 32),
    "c2-standard": (4, 8, 16, 30, 60),
}
# GPUs attached to N1: count -> most vCPUs. The memory limits (6.5 GB per vCPU of the limit) never bind
# for predefined N1 types within the vCPU limit. 4 P100 allow 96 vCPUs in most zones but 64 in
# us-east1-c, europe-west1-b and -d; Vertex picks the zone, so 64 is the limit that always holds.
N1_GPU_VCPU_LIMITS: dict[str, dict[int, int]] = {
    "NVIDIA_TESLA_T4": {1: 48, 2: 48, 4: 96},
    "NVIDIA_TESLA_P4": {1: 24, 2: 48, 4: 96},
    "NVIDIA_TESLA_P100": {1: 16, 2: 32, 4: 64},
    "NVIDIA_TESLA_V100": {1: 12, 2: 24, 4: 48, 8: 96},
}


@dataclass(frozen=True)
class Pairing:
    """The machine series an accelerator comes on, and the machine types for each accelerator count."""

    family: str
    machine_types: Mapping[int, tuple[str, ...]]

    @property
    def counts(self) -> tuple[int, ...]:
        return tuple(sorted(self.machine_types))


def _fixed(prefix: str, counts: tuple[int, ...]) -> dict[int, tuple[str, ...]]:
    return {n: (f"{prefix}-{n}g",) for n in counts}


def _n1(limits: Mapping[int, int]) -> dict[int, tuple[str, ...]]:
    return {count: tuple(f"{series}-{size}" for series, sizes in N1_SIZES.items() for size in sizes if size <= most)
            for count, most in limits.items()}


PAIRINGS: dict[str, Pairing] = {
    **{kind: Pairing("n1", _n1(limits)) for kind, limits in N1_GPU_VCPU_LIMITS.items()},
    "NVIDIA_L4": Pairing("g2", {1: tuple(f"g2-standard-{n}" for n in (4, 8, 12, 16, 32)), 2: ("g2-standard-24",),
                                4: ("g2-standard-48",), 8: ("g2-standard-96",)}),
    "NVIDIA_TESLA_A100": Pairing("a2", {**_fixed("a2-highgpu", (1, 2, 4, 8)), 16: ("a2-megagpu-16g",)}),
    "NVIDIA_A100_80GB": Pairing("a2", _fixed("a2-ultragpu", (1, 2, 4, 8))),
    "NVIDIA_H100_80GB": Pairing("a3", _fixed("a3-highgpu", (1, 2, 4, 8))),
    "NVIDIA_H100_MEGA_80GB": Pairing("a3", _fixed("a3-megagpu", (8,))),
    "NVIDIA_H200_141GB": Pairing("a3", _fixed("a3-ultragpu", (8,))),
    "NVIDIA_B200": Pairing("a4", _fixed("a4-highgpu", (8,))),
    "TPU_V2": Pairing("cloud-tpu", {8: ("cloud-tpu",)}),
    "TPU_V3": Pairing("cloud-tpu", {8: ("cloud-tpu",)}),
    # Keyed by chips, which the topology gives (TPU_V5E_TOPOLOGIES); no accelerator_count is sent.
    "TPU_V5_LITEPOD": Pairing("ct5lp", {chips: (f"ct5lp-hightpu-{chips}t",) for chips in (1, 4, 8)}),
}
CPU_MACHINE_TYPES = tuple(f"{series}-{size}" for series, sizes in CPU_SIZES.items() for size in sizes)
KNOWN_MACHINE_TYPES = frozenset(CPU_MACHINE_TYPES).union(
    *(types for pairing in PAIRINGS.values() for types in pairing.machine_types.values()))


def _vcpus(machine_type: str) -> int:
    """vCPUs of an ``<series>-<kind>-<vCPUs>`` type; 0 for the others (a2-highgpu-1g, cloud-tpu)."""
    last = machine_type.rsplit("-", 1)[-1]
    return int(last) if last.isdigit() else 0


def _count(accelerator_type: str, accelerator_count: int, tpu_topology: str) -> int:
    """The table key after checking the accelerator fields: GPU count, TPU cores (v2/v3) or v5e chips."""
    kind = accelerator_type
    if tpu_topology and kind != "TPU_V5_LITEPOD":
        raise SettingsError("tpu_topology", f"only used with TPU_V5_LITEPOD, not {kind or 'CPU'!r}")
    if not kind:
        if accelerator_count:
            raise SettingsError("accelerator_count", f"{accelerator_count} given without --accelerator-type")
        return 0
    if kind not in PAIRINGS:
        raise SettingsError("accelerator_type", f"unknown {kind!r}; expected '' (CPU) or one of "
                            f"{', '.join(GPU_TYPES + TPU_TYPES)}")
    pairing = PAIRINGS[kind]
    if kind == "TPU_V5_LITEPOD":
        if tpu_topology not in TPU_V5E_TOPOLOGIES:
            raise SettingsError("tpu_topology", f"TPU v5e needs one of {', '.join(TPU_V5E_TOPOLOGIES)}, "
                                f"got {tpu_topology!r}")
        chips = TPU_V5E_TOPOLOGIES[tpu_topology]
        if accelerator_count not in (0, chips):
            raise SettingsError("accelerator_count", f"TPU v5e topology {tpu_topology} has {chips} chips, "
                                f"not {accelerator_count}; leave it 0")
        return chips
    if accelerator_count not in pairing.machine_types:
        raise SettingsError("accelerator_count", f"{kind} machines ({pairing.family}) carry "
                            f"{_or(pairing.counts)}, not {accelerator_count}")
    return accelerator_count


def _or(counts: tuple[int, ...]) -> str:
    words = [str(c) for c in counts]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def machine_types(accelerator_type: str = "", accelerator_count: int = 0, tpu_topology: str = "") -> tuple[str, ...]:
    """Every machine type that carries this accelerator (the CPU list for none).

    Raises:
        SettingsError: the accelerator type, count or topology does not exist.
    """
    count = _count(accelerator_type, accelerator_count, tpu_topology)
    if not accelerator_type:
        return CPU_MACHINE_TYPES
    return PAIRINGS[accelerator_type].machine_types[count]


def default_machine_type(accelerator_type: str = "", accelerator_count: int = 0, tpu_topology: str = "") -> str:
    """The machine type an empty ``machine_type`` stands for (the rule is in the module docstring)."""
    candidates = machine_types(accelerator_type, accelerator_count, tpu_topology)
    if not accelerator_type:
        return CPU_DEFAULT
    if len(candidates) == 1:
        return candidates[0]
    standard = [t for t in candidates if "-standard-" in t]
    want = VCPUS_PER_GPU * accelerator_count
    return min((t for t in standard if _vcpus(t) >= want), key=_vcpus, default=max(standard, key=_vcpus))


def describe(types: tuple[str, ...]) -> str:
    """``("n1-standard-4", "n1-standard-8", "g2-standard-24")`` -> ``"n1-standard-4/8, g2-standard-24"``."""
    groups: dict[str, list[str]] = {}
    for name in types:
        head, _, size = name.rpartition("-")
        if size.isdigit() and head:
            groups.setdefault(head + "-", []).append(size)
        else:
            groups.setdefault(name, [])
    return ", ".join(head + "/".join(sizes) if sizes else head for head, sizes in groups.items())


def _comes_with(machine_type: str) -> str:
    """The accelerator a fixed-shape machine type comes with ("NVIDIA_L4 x2"); "" for CPU and N1 types."""
    found = [f"{kind} x{count}" if kind != "TPU_V5_LITEPOD" else f"TPU v5e with {count} chips"
             for kind, pairing in PAIRINGS.items() if pairing.family != "n1"
             for count, types in pairing.machine_types.items() if machine_type in types]
    return " or ".join(found)


def check_pairing(machine_type: str, accelerator_type: str = "", accelerator_count: int = 0,
                  tpu_topology: str = "") -> str:
    """The machine type to use: ``machine_type``, or the derived one when it is empty.

    Raises:
        SettingsError: on ``accelerator_*``/``tpu_topology`` when no machine carries that accelerator, or on
            ``machine_type`` when the type does not exist or does not carry it; the message lists the
            machine types that would work.
    """
    allowed = machine_types(accelerator_type, accelerator_count, tpu_topology)
    chosen = machine_type.strip()
    if not chosen:
        return default_machine_type(accelerator_type, accelerator_count, tpu_topology)
    if chosen in allowed:
        return chosen
    kind, count = accelerator_type, accelerator_count
    asked = "a CPU-only job" if not kind else (
        f"TPU v5e topology {tpu_topology}" if kind == "TPU_V5_LITEPOD" else f"{kind} x{count}")
    if chosen not in KNOWN_MACHINE_TYPES:
        why = f"{chosen!r} is not a machine type Vertex AI training offers"
    elif _comes_with(chosen):
        why = f"{chosen!r} comes with {_comes_with(chosen)}"
    elif kind in N1_GPU_VCPU_LIMITS and chosen.startswith("n1-"):
        why = f"{chosen!r} has more than the {N1_GPU_VCPU_LIMITS[kind][count]} vCPUs {asked} allows"
    else:
        why = f"{chosen!r} does not carry {asked}"
    family = f" ({kind} comes on {PAIRINGS[kind].family} machines)" if kind else ""
    default = default_machine_type(kind, count, tpu_topology)
    use = (f"use {default} (or leave it empty)" if len(allowed) == 1 else
           f"use one of {describe(allowed)}, or leave it empty for {default}")
    raise SettingsError("machine_type", f"{why}{family}; {use}")
