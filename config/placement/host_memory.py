"""Host memory a Neuron model needs while NxD Inference shards its checkpoint, hub or image.

Why the whole checkpoint sits in host memory on every start:
- NxD Inference 0.6 (aws-neuron/neuronx-distributed-inference @ v0.6.10598, the version the 0.9.1
  Neuron DLCs pin: deep-learning-containers vllm/inference/0.9.1/Dockerfile.neuronx) defaults
  `save_sharded_checkpoint` to False (`models/config.py:298`), so `compile` writes model.pt and
  neuron_config.json but no per-rank weights (`models/application_base.py` `shard_weights`:
  "SKIPPING pre-sharding the checkpoints. The checkpoints will be sharded during load time").
- `load_weights` then runs `get_builder().shard_checkpoint()` ("Sharding weights on load..."), which
  calls `checkpoint_loader_fn`: the whole state dict of `_name_or_path`, or of
  `quantized_checkpoints_path` when `quantized` (`get_state_dict` -> `modules/checkpoint.py`
  `load_state_dict`, safetensors `load_file`), and builds every rank's shard from it before
  `nxd_model.initialize` copies them to the NeuronCores. A pre-compiled image (`source: image`)
  takes the same path: its artifacts hold graphs, not weights.
- The peak is the mapped checkpoint plus the shards built beside it: twice the checkpoint (reported
  at 2 to 2.5x; 2 is the lower end, LOAD_PEAK_FACTOR). The page cache of a mapped file is charged to
  the container's memory cgroup, so a limit below that makes the kernel drop pages of a checkpoint
  still being read, or kills the container.
- With `save_sharded_checkpoint: true` in neuronConfig, compile writes
  `weights/tp{rank}_sharded_checkpoint.safetensors` and loading reads those: PRESHARDED_FACTOR.

A hub compile also downloads the model with `AutoModelForCausalLM.from_pretrained` and writes it to
`local-models/<id>` (upstreaming-to-vllm `vllm/model_executor/model_loader/neuronx_distributed.py`
`load_weights` @ dd417b31): an anonymous copy the kernel cannot drop, so a hub model's request must
hold the checkpoint (an error, AcceleratorTraits.loads_hub_checkpoint_in_host_memory). An image
model's request below twice its checkpoint is a warning: the raised limit covers loading, and the
workshop serves both its images on inf2.xlarge (15.0 GiB allocatable) with no limit at all.

The rendered memory limit (`memory_limit`) is never below what loading needs where the node has it,
nor below the request: max(request, min(need, node allocatable)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..accelerators import ACCELERATORS
from ..allocatable import cpu_millicores, node_allocatable
from ..errors import ConfigIssue, Fix
from ..instance_catalog import InstanceSpec
from ..model import ModelConfig, ModelSource
from ..model_catalog import resolve_architecture
from ..platform.node_groups import NodeGroupConfig
from ..sizing.precision import checkpoint_bytes, checkpoint_precision, weights_formula
from ..types import parse_quantity
from ..units import GIB, MIB, gib
from .alternatives import same_kind_instances
from .records import PlacedModel

LOAD_PEAK_FACTOR = 2
"""Peak host memory while a checkpoint is sharded on load, in checkpoints: the mapped state dict and the shards."""
PRESHARDED_FACTOR = 1
"""With save_sharded_checkpoint each rank reads its own shard file: one checkpoint in all."""


@dataclass(frozen=True)
class HostMemory:
    checkpoint_bytes: float
    precision: str
    formula: str
    """How the checkpoint size is made up (`8.03B parameters x 2 B`)."""
    memory_bytes: float
    """The container's memory request."""
    factor: int
    """Checkpoints' worth of memory loading peaks at (LOAD_PEAK_FACTOR, or PRESHARDED_FACTOR)."""
    allocatable_bytes: int
    """What one node of the group offers pods (config/allocatable.py)."""

    @property
    def load_bytes(self) -> float:
        return self.factor * self.checkpoint_bytes

    @property
    def minimum_gib(self) -> int:
        return math.ceil(self.checkpoint_bytes / GIB)

    @property
    def comfortable_gib(self) -> int:
        return math.ceil(self.load_bytes / GIB)

    @property
    def limit_bytes(self) -> int:
        """max(request, min(loading peak, node allocatable)), in whole MiB."""
        return math.ceil(max(self.memory_bytes, min(self.load_bytes, self.allocatable_bytes)) / MIB) * MIB


def model_host_memory(model: ModelConfig, group: NodeGroupConfig) -> HostMemory | None:
    """The checkpoint the model shards in host memory, or None when its backend streams it (GPUs) or
    the architecture is unknown."""
    traits = ACCELERATORS[model.accelerator]
    if not (traits.shards_checkpoint_on_every_start
            or (traits.loads_hub_checkpoint_in_host_memory and model.source is ModelSource.HUB)):
        return None
    arch, _ = resolve_architecture(model.model, model.architecture, model.name)
    if arch is None:
        return None
    precision = checkpoint_precision(model, arch)
    presharded = bool((model.neuron_config or {}).get("save_sharded_checkpoint"))
    return HostMemory(
        checkpoint_bytes=checkpoint_bytes(model, arch), precision=precision.name,
        formula=weights_formula(arch, precision), memory_bytes=float(parse_quantity(model.resources.memory)),
        factor=PRESHARDED_FACTOR if presharded else LOAD_PEAK_FACTOR,
        allocatable_bytes=node_allocatable(group.instance).memory_bytes,
    )


def memory_limit(model: ModelConfig, group: NodeGroupConfig) -> str:
    """The container's memory limit: the request, raised to what loading needs where the node has it."""
    host = model_host_memory(model, group)
    if host is None or host.limit_bytes <= host.memory_bytes:
        return model.resources.memory
    return f"{host.limit_bytes // MIB}Mi"


def _larger_instance(placed: PlacedModel, gib_needed: int) -> InstanceSpec | None:
    """The smallest instance of the node's family whose allocatable holds `gib_needed` and takes the pod."""
    spec, model = placed.spec, placed.model
    cpu_m = cpu_millicores(model.resources.cpu)
    for candidate in same_kind_instances(spec.accelerator, spec.family):
        other = node_allocatable(candidate)
        if (candidate.family == spec.family and candidate.schedulable_accelerators >= model.accelerators_per_pod
                and other.memory_bytes >= gib_needed * GIB and other.cpu_millicores >= cpu_m):
            return candidate
    return None


def _place(placed: PlacedModel, gib_needed: int) -> str:
    """Where `gib_needed` of memory fits: this node, else the smallest of its family that also takes the pod."""
    spec = placed.spec
    allocatable = node_allocatable(spec)
    if allocatable.memory_bytes >= gib_needed * GIB:
        return f", which the {gib(allocatable.memory_bytes)} allocatable of {spec.name} holds"
    candidate = _larger_instance(placed, gib_needed)
    if candidate is not None:
        return (f" and run {placed.group_path} on {candidate.name} ({gib(node_allocatable(candidate).memory_bytes)} "
                f"allocatable; {spec.name} has {gib(allocatable.memory_bytes)})")
    return (f"; no {spec.family} instance has that much allocatable, so serve graphs compiled elsewhere "
            f"(source: image) or a smaller checkpoint")


def _fixes(placed: PlacedModel, gib_needed: int) -> tuple[Fix, ...]:
    """What `_place` says as data: the request raised, and the larger instance where this node cannot hold it."""
    raised = Fix(f"{placed.path}.resources.memory", f"{gib_needed}Gi")
    if node_allocatable(placed.spec).memory_bytes >= gib_needed * GIB:
        return (raised,)
    candidate = _larger_instance(placed, gib_needed)
    return () if candidate is None else (raised, Fix(f"{placed.group_path}.instanceType", candidate.name))


def _holds_hub_copy(placed: PlacedModel) -> bool:
    return placed.traits.loads_hub_checkpoint_in_host_memory and placed.model.source is ModelSource.HUB


def hub_checkpoint_bytes(placed: PlacedModel) -> float:
    """The checkpoint a hub Neuron model copies into host memory (its request must hold it), else 0."""
    host = model_host_memory(placed.model, placed.group)
    return host.checkpoint_bytes if host is not None and _holds_hub_copy(placed) else 0.0


def host_memory_issue(placed: PlacedModel) -> ConfigIssue | None:
    host = model_host_memory(placed.model, placed.group)
    if host is None or host.memory_bytes >= host.checkpoint_bytes or not _holds_hub_copy(placed):
        return None  # enough, or an image model, whose raised limit covers loading (a warning says so)
    arch, model = placed.sizing.architecture, placed.model
    assert arch is not None
    return ConfigIssue(f"{placed.path}.resources.memory", (
        f"{placed.label}: source: hub makes the Neuron backend load {arch.hf_id}'s checkpoint into host memory to shard "
        f"and compile it: {host.formula} at its stored {host.precision} = {gib(host.checkpoint_bytes)}, but resources.memory is {model.resources.memory} "
        f"({gib(host.memory_bytes)}), so the pod would be OOM-killed while loading; raise resources.memory to at least "
        f"{host.minimum_gib}Gi, better {host.comfortable_gib}Gi (twice the checkpoint, room for the compiler; the "
        f"starter kit compiles 8B models with 96Gi){_place(placed, host.comfortable_gib)}"),
        _fixes(placed, host.comfortable_gib))


def host_memory_warning(placed: PlacedModel) -> str | None:
    host = model_host_memory(placed.model, placed.group)
    if host is None or host.memory_bytes >= host.load_bytes or host.memory_bytes > host.allocatable_bytes:
        return None  # enough, or the request does not fit the node (that error comes first)
    hub = _holds_hub_copy(placed)
    if hub and host.memory_bytes < host.checkpoint_bytes:
        return None  # an error says so
    model = placed.model
    limit = f"{host.limit_bytes // MIB}Mi"
    if host.limit_bytes >= host.load_bytes:
        raised = f"the memory limit is raised to {limit}, what loading needs"
    else:
        raised = (f"the memory limit is raised to {limit}, the whole allocatable of one {placed.spec.name} node, "
                  f"so loading relies on the kernel dropping pages of the mapped checkpoint"
                  f"{'' if hub else ' (the workshop serves its images on inf2.xlarge with no limit)'}")
    when = "to compile it (source: hub)" if model.source is ModelSource.HUB else "on every start (source: image)"
    return (f"{placed.label}: NxD Inference shards the {gib(host.checkpoint_bytes)} {host.precision} checkpoint in host "
            f"memory {when}, peaking at {host.factor}x = {gib(host.load_bytes)}, and resources.memory "
            f"{model.resources.memory} ({gib(host.memory_bytes)}) is less; {raised}, but the scheduler reserves only "
            f"the request; raise resources.memory to {host.comfortable_gib}Gi{_place(placed, host.comfortable_gib)}")
