"""EC2 instance types the node groups and sizing checks know, from AWS's published specs.

Accelerator memory is stored in bytes as vendors state it (decimal GB): the sticker, shown in
labels and used to rank instances. What the runtime reports, and what sizing uses, is in
config/device_memory.py (an L40S's "48 GB" is 44.7 GiB decimal, 44.39 GiB to CUDA).
"""

from __future__ import annotations

from dataclasses import dataclass

from .accelerators import AcceleratorKind
from .units import GB


@dataclass(frozen=True)
class InstanceSpec:
    name: str
    vcpu: int
    memory_gib: int
    accelerator: AcceleratorKind | None = None
    accelerator_model: str = ""
    accelerator_count: int = 0
    """Physical devices: Inferentia2/Trainium chips or GPUs."""
    cores_per_accelerator: int = 1
    """NeuronCores per chip; 1 for a GPU, whose whole device is the schedulable unit."""
    accelerator_memory_bytes: int = 0
    """Memory of one device."""

    @property
    def family(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def schedulable_accelerators(self) -> int:
        """Units of the accelerator's extended resource the node advertises."""
        return self.accelerator_count * self.cores_per_accelerator

    @property
    def memory_per_schedulable_unit_bytes(self) -> int:
        """Device memory behind one schedulable unit (a NeuronCore gets half an Inferentia2)."""
        return self.accelerator_memory_bytes // self.cores_per_accelerator

    @property
    def reported_memory_per_schedulable_unit_bytes(self) -> int:
        """What the runtime reports behind one schedulable unit (config/device_memory.py): CUDA's total
        for a GPU (what gpu-memory-utilization multiplies), a NeuronCore's share of the chip's HBM."""
        from .device_memory import device_memory

        return device_memory(self.accelerator_model).total_bytes // self.cores_per_accelerator


def _neuron(name: str, vcpu: int, memory_gib: int, chips: int, model: str, cores_per_chip: int) -> InstanceSpec:
    return InstanceSpec(name, vcpu, memory_gib, AcceleratorKind.NEURON, model, chips, cores_per_chip, 32 * GB)


def _gpu(name: str, vcpu: int, memory_gib: int, gpus: int, model: str, gpu_memory_gb: int) -> InstanceSpec:
    return InstanceSpec(name, vcpu, memory_gib, AcceleratorKind.GPU, model, gpus, 1, gpu_memory_gb * GB)


def _gpu_family(family: str, model: str, gpu_memory_gb: int, memory_per_vcpu_gib: int) -> list[InstanceSpec]:
    # g5, g6 and g6e share one size ladder; only memory per vCPU and the GPU differ.
    sizes = [("xlarge", 4, 1), ("2xlarge", 8, 1), ("4xlarge", 16, 1), ("8xlarge", 32, 1),
             ("12xlarge", 48, 4), ("16xlarge", 64, 1), ("24xlarge", 96, 4), ("48xlarge", 192, 8)]
    return [_gpu(f"{family}.{size}", vcpu, vcpu * memory_per_vcpu_gib, gpus, model, gpu_memory_gb)
            for size, vcpu, gpus in sizes]


_SPECS: list[InstanceSpec] = [
    _neuron("inf2.xlarge", 4, 16, 1, "Inferentia2", 2),
    _neuron("inf2.8xlarge", 32, 128, 1, "Inferentia2", 2),
    _neuron("inf2.24xlarge", 96, 384, 6, "Inferentia2", 2),
    _neuron("inf2.48xlarge", 192, 768, 12, "Inferentia2", 2),
    _neuron("trn1.2xlarge", 8, 32, 1, "Trainium", 2),
    _neuron("trn1.32xlarge", 128, 512, 16, "Trainium", 2),
    _neuron("trn1n.32xlarge", 128, 512, 16, "Trainium", 2),
    *_gpu_family("g5", "A10G", 24, 4),
    *_gpu_family("g6", "L4", 24, 4),
    *_gpu_family("g6e", "L40S", 48, 8),
    _gpu("p4d.24xlarge", 96, 1152, 8, "A100", 40),
    _gpu("p4de.24xlarge", 96, 1152, 8, "A100-80GB", 80),
    _gpu("p5.48xlarge", 192, 2048, 8, "H100", 80),
    _gpu("p5e.48xlarge", 192, 2048, 8, "H200", 141),
    _gpu("p5en.48xlarge", 192, 2048, 8, "H200", 141),
    # CPU-only types for the system node group (CoreDNS, CSI controllers, add-ons).
    InstanceSpec("t3.large", 2, 8),
    InstanceSpec("t3.xlarge", 4, 16),
    InstanceSpec("m5.large", 2, 8),
    InstanceSpec("m5.xlarge", 4, 16),
    InstanceSpec("m5.2xlarge", 8, 32),
    InstanceSpec("m6i.large", 2, 8),
    InstanceSpec("m6i.xlarge", 4, 16),
    InstanceSpec("m6i.2xlarge", 8, 32),
    InstanceSpec("m7i.large", 2, 8),
    InstanceSpec("m7i.xlarge", 4, 16),
    InstanceSpec("m7i.2xlarge", 8, 32),
]

INSTANCE_TYPES: dict[str, InstanceSpec] = {spec.name: spec for spec in _SPECS}


def instance_spec(name: str) -> InstanceSpec:
    """The catalog entry, or a KeyError listing what the catalog knows."""
    try:
        return INSTANCE_TYPES[name]
    except KeyError:
        raise KeyError(name) from None
