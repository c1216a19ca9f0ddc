"""Host memory of a model whose backend loads the whole checkpoint before it reaches the devices.

With `source: hub`, NxD Inference reads the checkpoint from the HF cache into host memory to
shard it per NeuronCore and trace and compile the graphs before anything reaches the device, so
the container holds at least the whole checkpoint at its stored dtype, plus the compiler's own
working set. The starter kit behind the workshop compiles its 8B models on inf2.8xlarge with
96Gi (ARCHITECTURE.md); twice the checkpoint is the floor below which a warning is printed.
Pre-compiled images (`source: image`) load sharded artifacts, and vLLM on GPUs streams
safetensors shards to the device: neither is checked (AcceleratorTraits.loads_hub_checkpoint_in_host_memory).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

from config.allocatable import node_allocatable
from config.errors import ConfigIssue
from config.model import ModelSource
from config.placement.alternatives import same_kind_instances
from config.placement.records import PlacedModel
from config.placement.requests import cpu_millicores
from config.sizing.precision import checkpoint_bytes, checkpoint_precision, weights_formula
from config.types import parse_quantity
from config.units import GIB, gib

HOST_MEMORY_HEADROOM = 2
"""A hub checkpoint compiled for Neuron wants at least this multiple of its size in host memory."""


@dataclass(frozen=True)
class HostMemory:
    checkpoint_bytes: float
    precision: str
    formula: str
    """How the checkpoint size is made up (`8.03B parameters x 2 B`)."""
    memory_bytes: float

    @property
    def minimum_gib(self) -> int:
        return math.ceil(self.checkpoint_bytes / GIB)

    @property
    def comfortable_gib(self) -> int:
        return math.ceil(HOST_MEMORY_HEADROOM * self.checkpoint_bytes / GIB)


def host_memory(placed: PlacedModel) -> Optional[HostMemory]:
    """The checkpoint the model loads into host memory, or None when none is loaded whole."""
    model, arch = placed.model, placed.sizing.architecture
    if not placed.traits.loads_hub_checkpoint_in_host_memory or model.source is not ModelSource.HUB or arch is None:
        return None
    precision = checkpoint_precision(model, arch)
    return HostMemory(checkpoint_bytes(model, arch), precision.name, weights_formula(arch, precision),
                      float(parse_quantity(model.resources.memory)))


def _place(placed: PlacedModel, gib_needed: int) -> str:
    """Where `gib_needed` of memory fits: this node, else the smallest of its family that also takes the pod."""
    spec, model = placed.spec, placed.model
    allocatable = node_allocatable(spec)
    if allocatable.memory_bytes >= gib_needed * GIB:
        return f", which the {gib(allocatable.memory_bytes)} allocatable of {spec.name} holds"
    cpu_m = cpu_millicores(model.resources.cpu)
    for candidate in same_kind_instances(spec.accelerator, spec.family):
        other = node_allocatable(candidate)
        if (candidate.family == spec.family and candidate.schedulable_accelerators >= model.accelerators_per_pod
                and other.memory_bytes >= gib_needed * GIB and other.cpu_millicores >= cpu_m):
            return (f" and run {placed.group_path} on {candidate.name} ({gib(other.memory_bytes)} allocatable; "
                    f"{spec.name} has {gib(allocatable.memory_bytes)})")
    return (f"; no {spec.family} instance has that much allocatable, so serve graphs compiled elsewhere "
            f"(source: image) or a smaller checkpoint")


def host_memory_issue(placed: PlacedModel) -> Optional[ConfigIssue]:
    host = host_memory(placed)
    if host is None or host.memory_bytes >= host.checkpoint_bytes:
        return None
    arch, model = placed.sizing.architecture, placed.model
    assert arch is not None
    return ConfigIssue(f"{placed.path}.resources.memory", (
        f"{placed.label}: source: hub makes the Neuron backend load {arch.hf_id}'s checkpoint into host memory to shard "
        f"and compile it: {host.formula} at its stored {host.precision} = {gib(host.checkpoint_bytes)}, but resources.memory is {model.resources.memory} "
        f"({gib(host.memory_bytes)}), so the pod would be OOM-killed while loading; raise resources.memory to at least "
        f"{host.minimum_gib}Gi, better {host.comfortable_gib}Gi (twice the checkpoint, room for the compiler; the "
        f"starter kit compiles 8B models with 96Gi){_place(placed, host.comfortable_gib)}"))


def host_memory_warning(placed: PlacedModel) -> Optional[str]:
    host = host_memory(placed)
    if host is None or not host.checkpoint_bytes <= host.memory_bytes < HOST_MEMORY_HEADROOM * host.checkpoint_bytes:
        return None
    if host.memory_bytes > node_allocatable(placed.spec).memory_bytes:
        return None  # the request does not fit the node: that error comes first
    model = placed.model
    return (f"{placed.label}: resources.memory {model.resources.memory} ({gib(host.memory_bytes)}) holds the "
            f"{gib(host.checkpoint_bytes)} {host.precision} checkpoint that source: hub loads into host memory to "
            f"compile for Neuron, but not twice it; the compiler's working set comes on top (the starter kit compiles "
            f"8B models with 96Gi), so compiling may be OOM-killed; raise resources.memory to "
            f"{host.comfortable_gib}Gi{_place(placed, host.comfortable_gib)}")
