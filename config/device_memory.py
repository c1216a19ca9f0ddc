"""Accelerator memory as the runtime reports it, per accelerator model, each figure with its source.

vLLM's `--gpu-memory-utilization` multiplies the total that CUDA reports for the device
(`torch.cuda.mem_get_info()[1]`, i.e. `cudaMemGetInfo`; vllm/v1/worker/gpu_worker.py
`init_device` takes it into `requested_memory`), not the vendor's decimal figure. That total is the
board's memory less what the driver reserves, so it is below the `memory.total` nvidia-smi prints
and, for HBM cards, above the decimal figure in GiB (an H200's "141 GB" is 131.3 GiB decimal but
139.8 GiB to CUDA); GDDR cards such as the L40S report less than their "48 GB" (44.7 GiB).
The figures differ by a few hundred MiB between drivers and ECC settings: where public logs
disagree, the lowest is taken, so sizing errs on the small side.

Neuron devices report no memory to vLLM (the Neuron backend ignores gpu-memory-utilization); their
figure is the HBM AWS's Neuron architecture pages state per chip, split evenly between its
NeuronCores.
"""

from __future__ import annotations

from dataclasses import dataclass

from .units import GIB


@dataclass(frozen=True)
class DeviceMemory:
    """One accelerator model's memory, as its runtime sees it."""

    model: str
    """`accelerator_model` in config/instance_catalog.py (`H100`, `L40S`, `Inferentia2`)."""
    total_bytes: int
    """What the runtime reports as the device's total: CUDA's for a GPU, HBM per chip for Neuron."""
    marketed: str
    """The vendor's figure, for the table (`48 GB GDDR6`)."""
    source: str
    """Where `total_bytes` comes from."""
    nvlink: bool = False
    """GPUs joined by NVLink/NVSwitch in the AWS instances that carry them (p4d, p5, p5en); the
    g-family GPUs talk over PCIe. Decides NCCL's channel count and vLLM's custom all-reduce."""


def _gib(value: float) -> int:
    return round(value * GIB)


DEVICE_MEMORY: dict[str, DeviceMemory] = {memory.model: memory for memory in [
    DeviceMemory(
        "H200", _gib(139.8), "141 GB HBM3e",
        "vLLM 0.26.0 on one H200 (shared/MEASUREMENTS.md: 'CUDA reported 139.8 GiB total'; its log line "
        "'Desired GPU memory utilization is (0.95, 132.81 GiB)' is 139.8 x 0.95); public vLLM 0.11 log on H200: "
        "'Free memory on device (139.21/139.81 GiB) on startup'", nvlink=True),
    DeviceMemory(
        "H100", _gib(79.19), "80 GB HBM3",
        "public vLLM log on an 80 GB H100: 'Free memory on device (78.66/79.19 GiB) on startup. Desired GPU memory "
        "utilization is (0.9, 71.27 GiB)'; nvidia-smi memory.total 81559 MiB less the driver's reservation", nvlink=True),
    DeviceMemory(
        "A100-80GB", _gib(79.15), "80 GB HBM2e",
        "vllm-project/vllm#4408 (A100 80GB): 'GPU 0 has a total capacity of 79.15 GiB'", nvlink=True),
    DeviceMemory(
        "A100", _gib(39.39), "40 GB HBM2",
        "public vLLM log on an A100 40GB: 'Free memory on device cuda:0 (3.71/39.39 GiB) on startup'; "
        "nvidia-smi memory.total 40960 MiB (A100-SXM4-40GB)", nvlink=True),
    DeviceMemory(
        "L40S", _gib(44.39), "48 GB GDDR6",
        "public vLLM log on L40S nodes: 'Free memory on device (16.17/44.39 GiB) on startup is less than desired GPU "
        "memory utilization (0.6, 26.64 GiB)'; nvidia-smi memory.total 46068 MiB; other drivers report up to "
        "44.52 GiB (vllm-project/vllm#14011), the lower figure is kept"),
    DeviceMemory(
        "A10G", _gib(22.06), "24 GB GDDR6",
        "vllm-project/vllm#928 (A10 24 GB, the same 23028 MiB board nvidia-smi shows for the A10G): "
        "'22.06 GiB total capacity'; newer drivers report 22.18 GiB (OpenBMB/MiniCPM-V#640), the lower is kept"),
    DeviceMemory(
        "L4", _gib(22.05), "24 GB GDDR6",
        "vLLM's own CI on L4 runners, quoted in a vllm-project/vllm flaky-test issue (Buildkite build 48519): "
        "'Free memory on device cuda:0 (1.53/22.05 GiB) on startup'; nvidia-smi memory.total 23034 MiB"),
    DeviceMemory(
        "Inferentia2", 32 * GIB, "32 GB HBM",
        "AWS Neuron documentation, Inferentia2 architecture: 32 GiB of HBM per chip, 2 NeuronCore-v2"),
    DeviceMemory(
        "Trainium", 32 * GIB, "32 GB HBM",
        "AWS Neuron documentation, Trainium architecture: 32 GiB of HBM per chip, 2 NeuronCore-v2"),
]}


def device_memory(accelerator_model: str) -> DeviceMemory:
    """The reported memory of an accelerator model, or a KeyError naming the ones the catalog knows."""
    try:
        return DEVICE_MEMORY[accelerator_model]
    except KeyError:
        raise KeyError(f"{accelerator_model!r} is not in config/device_memory.py (knows {', '.join(sorted(DEVICE_MEMORY))})") from None


__all__ = ["DEVICE_MEMORY", "DeviceMemory", "device_memory"]
