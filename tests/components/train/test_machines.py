import pytest

from components.train import machines
from components.train.machines import PAIRINGS, check_pairing, default_machine_type, describe, machine_types
from components.train.settings import GPU_TYPES, TPU_TYPES, TPU_V5E_TOPOLOGIES, SettingsError


def every_accelerator():
    for kind in GPU_TYPES + ("TPU_V2", "TPU_V3"):
        for count in PAIRINGS[kind].counts:
            yield kind, count, ""
    for topology in TPU_V5E_TOPOLOGIES:
        yield "TPU_V5_LITEPOD", 0, topology


def test_every_accelerator_of_the_settings_has_a_pairing():
    assert set(PAIRINGS) == set(GPU_TYPES + TPU_TYPES)


@pytest.mark.parametrize("kind, count, topology", list(every_accelerator()))
def test_derived_machine_types_pass_their_own_check(kind, count, topology):
    derived = default_machine_type(kind, count, topology)
    assert derived in machine_types(kind, count, topology)
    assert check_pairing("", kind, count, topology) == check_pairing(derived, kind, count, topology) == derived


@pytest.mark.parametrize("kind, counts", [
    ("NVIDIA_TESLA_T4", (1, 2, 4)), ("NVIDIA_TESLA_P4", (1, 2, 4)), ("NVIDIA_TESLA_P100", (1, 2, 4)),
    ("NVIDIA_TESLA_V100", (1, 2, 4, 8)), ("NVIDIA_L4", (1, 2, 4, 8)), ("NVIDIA_TESLA_A100", (1, 2, 4, 8, 16)),
    ("NVIDIA_A100_80GB", (1, 2, 4, 8)), ("NVIDIA_H100_80GB", (1, 2, 4, 8)), ("NVIDIA_H100_MEGA_80GB", (8,)),
    ("NVIDIA_H200_141GB", (8,)), ("NVIDIA_B200", (8,)), ("TPU_V2", (8,)), ("TPU_V3", (8,))])
def test_accelerator_counts_follow_the_compute_engine_tables(kind, counts):
    assert PAIRINGS[kind].counts == counts


def test_fixed_shape_machine_types_per_count():
    assert PAIRINGS["NVIDIA_L4"].machine_types == {
        1: ("g2-standard-4", "g2-standard-8", "g2-standard-12", "g2-standard-16", "g2-standard-32"),
        2: ("g2-standard-24",), 4: ("g2-standard-48",), 8: ("g2-standard-96",)}
    assert [machine_types("NVIDIA_TESLA_A100", n) for n in (1, 2, 4, 8, 16)] == [
        ("a2-highgpu-1g",), ("a2-highgpu-2g",), ("a2-highgpu-4g",), ("a2-highgpu-8g",), ("a2-megagpu-16g",)]
    assert [machine_types("NVIDIA_A100_80GB", n) for n in (1, 2, 4, 8)] == [
        ("a2-ultragpu-1g",), ("a2-ultragpu-2g",), ("a2-ultragpu-4g",), ("a2-ultragpu-8g",)]
    assert machine_types("NVIDIA_H100_80GB", 4) == ("a3-highgpu-4g",)
    assert machine_types("NVIDIA_H100_MEGA_80GB", 8) == ("a3-megagpu-8g",)
    assert machine_types("NVIDIA_H200_141GB", 8) == ("a3-ultragpu-8g",)
    assert machine_types("NVIDIA_B200", 8) == ("a4-highgpu-8g",)
    assert machine_types("TPU_V3", 8) == ("cloud-tpu",)
    assert [machine_types("TPU_V5_LITEPOD", 0, t) for t in ("1x1", "2x2", "2x4")] == [
        ("ct5lp-hightpu-1t",), ("ct5lp-hightpu-4t",), ("ct5lp-hightpu-8t",)]


def test_n1_gpus_allow_the_n1_types_within_their_vcpu_limit():
    assert machine_types("NVIDIA_TESLA_V100", 1) == (
        "n1-standard-4", "n1-standard-8", "n1-highmem-2", "n1-highmem-4", "n1-highmem-8")
    assert max(machines._vcpus(t) for t in machine_types("NVIDIA_TESLA_T4", 1)) == 32   # limit 48
    assert "n1-standard-96" in machine_types("NVIDIA_TESLA_T4", 4)
    assert "n1-standard-96" not in machine_types("NVIDIA_TESLA_P100", 4)                # 64 in some zones
    assert max(machines._vcpus(t) for t in machine_types("NVIDIA_TESLA_P100", 1)) == 16
    assert check_pairing("n1-highmem-16", "NVIDIA_TESLA_P100", 1) == "n1-highmem-16"
    with pytest.raises(SettingsError, match=r"--machine-type: 'n1-standard-16' has more than the 12 vCPUs "
                                            r"NVIDIA_TESLA_V100 x1 allows.*n1-standard-4/8, n1-highmem-2/4/8"):
        check_pairing("n1-standard-16", "NVIDIA_TESLA_V100", 1)


@pytest.mark.parametrize("kind, count, topology, expected", [
    ("", 0, "", "n1-standard-16"), ("NVIDIA_TESLA_P100", 1, "", "n1-standard-4"),
    ("NVIDIA_TESLA_T4", 2, "", "n1-standard-8"), ("NVIDIA_TESLA_T4", 4, "", "n1-standard-16"),
    ("NVIDIA_TESLA_V100", 1, "", "n1-standard-4"), ("NVIDIA_TESLA_V100", 8, "", "n1-standard-32"),
    ("NVIDIA_L4", 1, "", "g2-standard-4"), ("NVIDIA_L4", 4, "", "g2-standard-48"),
    ("NVIDIA_TESLA_A100", 16, "", "a2-megagpu-16g"), ("NVIDIA_H100_80GB", 2, "", "a3-highgpu-2g"),
    ("TPU_V2", 8, "", "cloud-tpu"), ("TPU_V5_LITEPOD", 0, "2x4", "ct5lp-hightpu-8t")])
def test_default_machine_type_gives_four_vcpus_per_gpu_or_the_fixed_shape(kind, count, topology, expected):
    assert default_machine_type(kind, count, topology) == expected


@pytest.mark.parametrize("machine_type, kind, count, message", [
    ("a2-highgpu-3g", "NVIDIA_TESLA_A100", 2, r"'a2-highgpu-3g' is not a machine type .* use a2-highgpu-2g"),
    ("g2-standard-100", "NVIDIA_L4", 1, r"'g2-standard-100' is not .* g2-standard-4/8/12/16/32"),
    ("n1-standard-7", "", 0, r"'n1-standard-7' is not a machine type .* n1-standard-4/8/16/32/64/96"),
    ("n1-standard-8", "NVIDIA_L4", 1, r"NVIDIA_L4 comes on g2 machines.*g2-standard-4/8/12/16/32"),
    ("g2-standard-24", "NVIDIA_L4", 1, r"'g2-standard-24' comes with NVIDIA_L4 x2"),
    ("a2-ultragpu-1g", "NVIDIA_TESLA_A100", 1, r"comes with NVIDIA_A100_80GB x1.*use a2-highgpu-1g"),
    ("n1-standard-16", "NVIDIA_H100_80GB", 8, r"use a3-highgpu-8g"),
    ("a2-highgpu-1g", "", 0, r"'a2-highgpu-1g' comes with NVIDIA_TESLA_A100 x1; use one of n1-standard-4"),
    ("cloud-tpu", "", 0, r"comes with TPU_V2 x8 or TPU_V3 x8"),
    ("n1-standard-8", "TPU_V3", 8, r"use cloud-tpu"),
])
def test_machine_types_that_do_not_carry_the_accelerator_are_refused(machine_type, kind, count, message):
    with pytest.raises(SettingsError, match="^--machine-type: .*" + message) as err:
        check_pairing(machine_type, kind, count)
    assert err.value.field == "machine_type"


def test_tpu_v5e_needs_the_type_of_its_topology():
    assert check_pairing("ct5lp-hightpu-4t", "TPU_V5_LITEPOD", 0, "2x2") == "ct5lp-hightpu-4t"
    assert check_pairing("", "TPU_V5_LITEPOD", 4, "2x2") == "ct5lp-hightpu-4t"
    with pytest.raises(SettingsError, match=r"--machine-type: 'ct5lp-hightpu-8t' comes with TPU v5e with 8 chips.*"
                                            r"use ct5lp-hightpu-4t"):
        check_pairing("ct5lp-hightpu-8t", "TPU_V5_LITEPOD", 0, "2x2")
    with pytest.raises(SettingsError, match="--accelerator-count: TPU v5e topology 2x2 has 4 chips, not 8"):
        check_pairing("", "TPU_V5_LITEPOD", 8, "2x2")
    with pytest.raises(SettingsError, match="--tpu-topology: TPU v5e needs one of 1x1, 2x2, 2x4"):
        check_pairing("", "TPU_V5_LITEPOD", 0, "4x4")
    with pytest.raises(SettingsError, match="--tpu-topology: only used with TPU_V5_LITEPOD"):
        check_pairing("", "NVIDIA_L4", 1, "2x2")


@pytest.mark.parametrize("kind, count, message", [
    ("NVIDIA_TESLA_T4", 3, "NVIDIA_TESLA_T4 machines \\(n1\\) carry 1, 2 or 4, not 3"),
    ("NVIDIA_TESLA_A100", 3, "carry 1, 2, 4, 8 or 16, not 3"),
    ("NVIDIA_L4", 16, "NVIDIA_L4 machines \\(g2\\) carry 1, 2, 4 or 8, not 16"),
    ("NVIDIA_H200_141GB", 1, "carry 8, not 1"), ("NVIDIA_TESLA_V100", 0, "not 0"), ("TPU_V3", 4, "carry 8, not 4"),
    ("", 2, "2 given without --accelerator-type")])
def test_counts_no_machine_carries_are_refused_whatever_the_machine_type(kind, count, message):
    for machine_type in ("", "n1-standard-8"):
        with pytest.raises(SettingsError, match="^--accelerator-count: .*" + message):
            check_pairing(machine_type, kind, count)


def test_unknown_accelerators_are_refused():
    with pytest.raises(SettingsError, match="--accelerator-type: unknown 'NVIDIA_TESLA_K80'"):
        check_pairing("n1-standard-8", "NVIDIA_TESLA_K80", 1)


@pytest.mark.parametrize("machine_type", ["n1-standard-4", "n1-highcpu-96", "n2-standard-8", "n2-highmem-80",
                                          "e2-highmem-4", "e2-standard-32", "c2-standard-30"])
def test_cpu_jobs_take_standard_types_of_known_series(machine_type):
    assert check_pairing(machine_type) == machine_type
    assert check_pairing(f" {machine_type} ") == machine_type


@pytest.mark.parametrize("machine_type", ["c2-standard-32", "e2-standard-64", "n2-standard-6", "n1-mega-8",
                                          "custom-8-30720", "N1-STANDARD-8"])
def test_cpu_jobs_refuse_sizes_that_do_not_exist(machine_type):
    with pytest.raises(SettingsError, match="--machine-type: .* is not a machine type"):
        check_pairing(machine_type)


def test_describe_groups_sizes_by_series():
    assert describe(("n1-standard-4", "n1-standard-8", "n1-highmem-2", "g2-standard-24", "a2-highgpu-1g",
                     "cloud-tpu")) == "n1-standard-4/8, n1-highmem-2, g2-standard-24, a2-highgpu-1g, cloud-tpu"
