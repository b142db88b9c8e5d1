r"""Training settings: the seed's flags, the model and the hardware, checked on construction.

Locally::

    python -m components.train --local --preset local --train-data 'GEN/train/*.tfrecord' \
        --eval-data 'GEN/eval/*.tfrecord' --label-map GEN/label_map.pbtxt --model-dir ./model

On Vertex AI the same flags travel to the training container (``Settings.to_args``), where
``components.train.trainer`` parses them back with ``parse_args``.
"""
from __future__ import annotations

import argparse
import dataclasses
import math
from dataclasses import dataclass, fields
from typing import Any, Sequence

GPU_TYPES = (
    "NVIDIA_TESLA_T4", "NVIDIA_TESLA_V100", "NVIDIA_TESLA_P100", "NVIDIA_TESLA_P4", "NVIDIA_TESLA_A100",
    "NVIDIA_A100_80GB", "NVIDIA_L4", "NVIDIA_H100_80GB", "NVIDIA_H100_MEGA_80GB", "NVIDIA_H200_141GB",
    "NVIDIA_B200",
)
# TPU v2/v3 VMs: one accelerator_count of 8 cores. v5e: chips from tpu_topology, one core each.
TPU_TYPES = ("TPU_V2", "TPU_V3", "TPU_V5_LITEPOD")
TPU_V5E_TOPOLOGIES = {"1x1": 1, "2x2": 4, "2x4": 8}
# Tensor-core GPUs without bfloat16 train in float16 (dynamic loss scale); P100/P4 stay in float32.
FLOAT16_GPUS = ("NVIDIA_TESLA_T4", "NVIDIA_TESLA_V100")
FLOAT32_GPUS = ("NVIDIA_TESLA_P100", "NVIDIA_TESLA_P4")
RESNET_DEPTHS = (10, 18, 26, 34, 50, 101, 152, 200, 270, 350, 420)
FPN_TYPES = ("fpn", "nasfpn")
PRECISIONS = ("auto", "float32", "float16", "bfloat16")
# Backbone checkpoint the COCO preset starts from; there is none for other depths.
RESNET50_IMAGENET = "gs://cloud-tpu-checkpoints/vision-2.0/resnet50_imagenet/ckpt-28080"

# Defaults that change with --preset. "seed" is the tutorial's configuration; "local" trains on a
# 2-core CPU in minutes: 192x256 input (a 320x240 sample scene with no padding), ResNet-18 at half
# width, slim heads, levels 3-6 and Adam (model_garden.PRESET_OVERRIDES). On the sample scenes its
# 400 steps scored AP50 0.89-0.92 over three training seeds and two samples (README, "Training").
PRESETS: dict[str, dict[str, Any]] = {
    "seed": {},
    "local": {
        "train_batch_size": 8, "num_eval_images": -1, "train_steps_per_eval": 400, "max_steps": 400,
        "warmup_learning_rate": 0.0001, "warmup_steps": 25, "initial_learning_rate": 0.002,
        "image_size": "192,256", "fpn_type": "fpn", "aug_scale_min": 0.8, "aug_scale_max": 1.2,
        "resnet_depth": 18, "init_checkpoint": "none", "precision": "float32", "eval_batch_size": 8,
    },
}


class SettingsError(ValueError):
    """A setting has an impossible value; ``field`` names it (the CLI flag is ``--field-name``)."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{flag(field_name)}: {message}")
        self.field = field_name


def flag(field_name: str) -> str:
    """``train_batch_size`` -> ``--train-batch-size``."""
    return "--" + field_name.replace("_", "-")


def parse_image_size(text: str) -> tuple[int, int]:
    """``"960,1280"`` -> ``(960, 1280)`` (height, width). Raises SettingsError when malformed."""
    parts = [p.strip() for p in str(text).split(",")]
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or min(int(p) for p in parts) < 32:
        raise SettingsError("image_size", f"expected 'height,width' with two integers >= 32, got {text!r}")
    return int(parts[0]), int(parts[1])


def pad_to_multiple(size: tuple[int, int], multiple: int) -> tuple[int, int]:
    """Round each side up to a multiple of ``multiple`` (Model Garden pads to 2**max_level)."""
    return tuple(int(math.ceil(s / multiple) * multiple) for s in size)  # type: ignore[return-value]


@dataclass(frozen=True)
class Settings:
    """Everything the trainer needs. Paths may be local or gs://; globs for the data."""

    train_data: str
    eval_data: str
    label_map: str
    model_dir: str
    export_dir: str = ""          # "" = <model_dir>/export; the SavedModel lands in <export_dir>/saved_model
    stats: str = ""               # "" = stats.json beside the label map, when present
    annotation_file: str = ""     # "" = eval_coco.json beside the label map, when present
    preset: str = "seed"
    # The seed's flags, same names and meanings.
    train_batch_size: int = 16
    num_eval_images: int = 200    # -1 = the whole eval split
    train_steps_per_eval: int = 2000
    max_steps: int = 75000
    num_classes: int = 0          # object classes (labels 1..num_classes); 0 = from the label map
    warmup_learning_rate: float = 0.01
    warmup_steps: int = 500
    initial_learning_rate: float = 0.001
    image_size: str = "960,1280"  # height,width; padded up to multiples of 2**max_level (128; local: 64)
    fpn_type: str = "nasfpn"
    aug_scale_min: float = 0.8
    aug_scale_max: float = 1.2
    # Model Garden choices beyond the seed.
    resnet_depth: int = 50
    init_checkpoint: str = "auto"  # auto = ImageNet ResNet-50 backbone when depth is 50; none = random init
    eval_batch_size: int = 8
    precision: str = "auto"        # auto = float32 on CPU/P100/P4, float16 on T4/V100, bfloat16 elsewhere
    params_override: str = ""      # any other Model Garden keys: YAML/JSON or a.b=1,c.d=x; applied last
    # Hardware the trainer runs on.
    accelerator_type: str = ""     # "" = CPU (or, locally, whatever GPUs are visible)
    accelerator_count: int = 0
    tpu_topology: str = ""
    replica_count: int = 1         # machines; more than one trains with multi-worker mirrored
    resume: bool = False

    def __post_init__(self) -> None:
        for name in ("train_data", "eval_data", "label_map", "model_dir"):
            if not str(getattr(self, name)).strip():
                raise SettingsError(name, "is required")
        if self.preset not in PRESETS:
            raise SettingsError("preset", f"expected one of {', '.join(PRESETS)}, got {self.preset!r}")
        for name in ("train_batch_size", "train_steps_per_eval", "max_steps", "eval_batch_size", "replica_count"):
            if getattr(self, name) < 1:
                raise SettingsError(name, f"must be at least 1, got {getattr(self, name)}")
        if self.num_eval_images == 0 or self.num_eval_images < -1:
            raise SettingsError("num_eval_images", f"must be positive, or -1 for all, got {self.num_eval_images}")
        if self.num_classes < 0:
            raise SettingsError("num_classes", f"must be positive (or 0 = from the label map), got {self.num_classes}")
        if self.warmup_steps < 0:
            raise SettingsError("warmup_steps", f"must be 0 or more, got {self.warmup_steps}")
        if self.warmup_steps >= self.max_steps:
            raise SettingsError("warmup_steps", f"{self.warmup_steps} is not below --max-steps {self.max_steps}")
        if self.initial_learning_rate <= 0 or self.warmup_learning_rate < 0:
            raise SettingsError("initial_learning_rate", "learning rates must be positive")
        parse_image_size(self.image_size)
        if self.fpn_type not in FPN_TYPES:
            raise SettingsError("fpn_type", f"expected one of {', '.join(FPN_TYPES)}, got {self.fpn_type!r}")
        if not 0 < self.aug_scale_min <= self.aug_scale_max:
            raise SettingsError("aug_scale_min",
                                f"need 0 < aug_scale_min <= aug_scale_max, got {self.aug_scale_min}, "
                                f"{self.aug_scale_max}")
        if self.resnet_depth not in RESNET_DEPTHS:
            raise SettingsError("resnet_depth", f"expected one of {RESNET_DEPTHS}, got {self.resnet_depth}")
        if self.precision not in PRECISIONS:
            raise SettingsError("precision", f"expected one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        self._check_hardware()

    def _check_hardware(self) -> None:
        kind, count = self.accelerator_type, self.accelerator_count
        if kind and kind not in GPU_TYPES + TPU_TYPES:
            raise SettingsError("accelerator_type", f"unknown {kind!r}; expected '' (CPU) or one of "
                                f"{', '.join(GPU_TYPES + TPU_TYPES)}")
        if kind == "TPU_V5_LITEPOD":
            if self.tpu_topology not in TPU_V5E_TOPOLOGIES:
                raise SettingsError("tpu_topology", f"TPU v5e needs one of {', '.join(TPU_V5E_TOPOLOGIES)}, "
                                    f"got {self.tpu_topology!r}")
        elif self.tpu_topology:
            raise SettingsError("tpu_topology", f"only used with TPU_V5_LITEPOD, not {kind or 'CPU'!r}")
        if kind in ("TPU_V2", "TPU_V3") and count != 8:
            raise SettingsError("accelerator_count", f"{kind} VMs have 8 cores; got {count}")
        if kind in GPU_TYPES and count < 1:
            raise SettingsError("accelerator_count", f"{kind} needs a count of at least 1, got {count}")
        if not kind and count:
            raise SettingsError("accelerator_count", f"{count} given without --accelerator-type")
        if self.is_tpu and self.replica_count != 1:
            raise SettingsError("replica_count", "TPU training runs on one TPU VM; use replica_count 1")

    # Derived values -------------------------------------------------------------------------------
    @property
    def is_tpu(self) -> bool:
        return self.accelerator_type in TPU_TYPES

    @property
    def is_gpu(self) -> bool:
        return self.accelerator_type in GPU_TYPES

    @property
    def replicas(self) -> int | None:
        """Replicas that share the global batch; None when only the machine can tell (local runs)."""
        if self.accelerator_type == "TPU_V5_LITEPOD":
            return TPU_V5E_TOPOLOGIES[self.tpu_topology]
        if self.accelerator_type:
            return self.accelerator_count * self.replica_count
        return None

    @property
    def image_hw(self) -> tuple[int, int]:
        return parse_image_size(self.image_size)

    def mixed_precision(self) -> str:
        """The training dtype: float32, float16 or bfloat16."""
        if self.precision != "auto":
            return self.precision
        if self.is_tpu:
            return "bfloat16"
        if self.accelerator_type in FLOAT32_GPUS:
            return "float32"
        if self.is_gpu:
            return "float16" if self.accelerator_type in FLOAT16_GPUS else "bfloat16"
        return "float32"

    def replace(self, **changes: Any) -> "Settings":
        return dataclasses.replace(self, **changes)

    # Flags -----------------------------------------------------------------------------------------
    def to_args(self) -> list[str]:
        """Every field as ``--flag=value`` (``--resume`` when set), for the training container.

        The ``=`` form keeps empty values and values starting with ``-`` unambiguous.
        """
        args: list[str] = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type in ("bool", bool):
                if value:
                    args.append(flag(f.name))
                continue
            args.append(f"{flag(f.name)}={value}")
        return args

    @classmethod
    def create(cls, preset: str = "seed", **given: Any) -> "Settings":
        """Settings from the preset's defaults, then ``given`` (None values are ignored)."""
        if preset not in PRESETS:
            raise SettingsError("preset", f"expected one of {', '.join(PRESETS)}, got {preset!r}")
        values = dict(PRESETS[preset])
        values.update({k: v for k, v in given.items() if v is not None})
        return cls(preset=preset, **values)


_TYPES = {"int": int, "float": float, "str": str}
HELP = {
    "train_data": "train TFRecords: a glob or comma-separated globs (local or gs://)",
    "eval_data": "eval TFRecords: a glob or comma-separated globs",
    "label_map": "label_map.pbtxt of the records (ids 1..N)",
    "model_dir": "checkpoints, params.yaml, summaries; must be empty unless --resume",
    "export_dir": "the SavedModel goes to <export-dir>/saved_model (default <model-dir>/export)",
    "stats": "the convert step's stats.json (default: beside the label map)",
    "annotation_file": "COCO ground truth of the eval split (default: eval_coco.json beside the label map)",
    "train_batch_size": "global batch over all replicas",
    "num_eval_images": "images per evaluation; -1 = the whole eval split",
    "train_steps_per_eval": "training steps between evaluations (and checkpoints)",
    "max_steps": "total training steps",
    "num_classes": "object classes, labels 1..num_classes (0 = from the label map; must agree with it)",
    "warmup_learning_rate": "learning rate at step 0, moving linearly to the schedule's value at --warmup-steps",
    "warmup_steps": "length of the linear warm-up",
    "initial_learning_rate": "start of the cosine decay to 0 at --max-steps",
    "image_size": "model input 'height,width'; each side is padded up to a multiple of 128 "
                  "(64 with --preset local, whose features stop at level 6)",
    "fpn_type": "fpn or nasfpn",
    "aug_scale_min": "smallest random scale (training augmentation)",
    "aug_scale_max": "largest random scale",
    "resnet_depth": "ResNet backbone depth (18, 34, 50, 101, ...)",
    "init_checkpoint": "backbone checkpoint: auto (ImageNet ResNet-50 from gs://cloud-tpu-checkpoints), "
                       "none, or a path",
    "eval_batch_size": "global eval batch",
    "precision": "auto, float32, float16 or bfloat16",
    "params_override": "further Model Garden keys, applied last: YAML/JSON, a.b=1,c.d=x, or a YAML file",
    "accelerator_type": "GPU (NVIDIA_L4, NVIDIA_TESLA_T4, ...) or TPU (TPU_V2, TPU_V3, TPU_V5_LITEPOD); empty = CPU",
    "accelerator_count": "GPUs per machine, or 8 for TPU_V2/TPU_V3",
    "tpu_topology": "TPU v5e slice: 1x1, 2x2 or 2x4",
    "replica_count": "machines; more than one trains with multi-worker mirrored",
}


def add_arguments(parser: argparse.ArgumentParser, optional: Sequence[str] = ()) -> None:
    """One flag per Settings field; defaults stay None so the preset can fill them in.

    ``optional`` names required fields that may be left out (the caller fills them in).
    Each flag also answers to the seed tutorial's underscore spelling (``--train_batch_size=16``
    for ``--train-batch-size``); the dashed form comes first, so ``--help`` lists it first.
    """
    group = parser.add_argument_group("training settings")
    for f in fields(Settings):
        if f.name == "preset":
            group.add_argument("--preset", choices=tuple(PRESETS), default="seed",
                               help="defaults to start from: seed (the tutorial's) or local "
                                    "(a few minutes on a 2-core CPU)")
            continue
        names = [flag(f.name)] + (["--" + f.name] if "_" in f.name else [])
        if f.type == "bool":
            group.add_argument(*names, action="store_true", default=None,
                               help="continue from the checkpoints in --model-dir")
            continue
        default = "" if f.default in (dataclasses.MISSING, "") else f" (default: {f.default!r})"
        group.add_argument(*names, type=_TYPES[f.type], default=None,
                           required=f.default is dataclasses.MISSING and f.name not in optional,
                           help=HELP.get(f.name, "") + default)


def from_namespace(ns: argparse.Namespace) -> Settings:
    """Settings from parsed flags (see add_arguments)."""
    values = {f.name: getattr(ns, f.name) for f in fields(Settings) if f.name != "preset"}
    return Settings.create(ns.preset, **values)


def parse_args(argv: Sequence[str] | None = None) -> Settings:
    """Settings from command-line flags alone."""
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return from_namespace(parser.parse_args(argv))


__all__ = ["Settings", "SettingsError", "PRESETS", "add_arguments", "from_namespace", "parse_args",
           "parse_image_size", "pad_to_multiple", "flag"]
