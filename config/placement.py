"""Pre-flight placement and sizing checks: will each model's pods schedule, and will they start?

`placement_issues` returns errors (the load fails, nothing is registered); `placement_warnings`
returns sentences that are printed and fail only under `--strict`. Every message names the
config path, the numbers behind it and a fix computed from the catalogs. A model whose node
group is missing or offers another accelerator is skipped: `stack_issues` already reports that.

Sources of the rules are cited where they are applied (config/sizing.py for memory and head
sharding, config/allocatable.py for node allocatable).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Optional

from config.accelerators import AcceleratorKind
from config.allocatable import node_allocatable
from config.errors import ConfigIssue
from config.instance_catalog import INSTANCE_TYPES, InstanceSpec
from config.model import ModelConfig, ModelSource
from config.platform import INSTANCE_TYPE_LABEL, NodeGroupConfig
from config.scheduling import node_selector, node_taints, tolerations
from config.sizing import (
    ModelSizing, checkpoint_bytes, checkpoint_precision, gib, kib, largest_power_of_two_at_most, placeable_models,
    quantity_bytes, size_model, weights_formula,
)

if TYPE_CHECKING:
    from config.stack import StackConfig

RECOMPILE_NOTE = (
    "its graphs are baked into the image, compiled for this tensorParallelSize, maxNumSeqs and maxModelLen, "
    "so changing any of them here is not a quick fix: it means recompiling (serve it with source: hub to "
    "compile into the Neuron cache on first start, or build a new image)"
)


def placement_issues(stack: "StackConfig", groups_run_as_configured: bool = True) -> list[ConfigIssue]:
    """Every placement rule. `groups_run_as_configured` says the node groups keep their
    desiredSize (this project's, with no autoscaler); pass False for a cluster whose nodes an
    autoscaler may add, where only maxSize bounds the count."""
    issues: list[ConfigIssue] = []
    for index, model, group in placeable_models(stack):
        issues += _model_issues(stack, index, model, group)
    issues += _group_capacity_issues(stack)
    if groups_run_as_configured:
        issues += _desired_size_issues(stack)
    return issues


def placement_warnings(stack: "StackConfig") -> list[str]:
    warnings: list[str] = []
    for index, model, group in placeable_models(stack):
        warnings += _model_warnings(stack, index, model, group)
    return warnings


# --------------------------------------------------------------------------------------------
# Per model


def _label(index: int, model: ModelConfig) -> str:
    return f"models[{index}] {model.name}"


def _unit(kind: AcceleratorKind, count: int = 2) -> str:
    name = "NeuronCore" if kind is AcceleratorKind.NEURON else "GPU"
    return name if count == 1 else name + "s"


def _compiled_image(model: ModelConfig) -> bool:
    return model.accelerator is AcceleratorKind.NEURON and model.source is ModelSource.IMAGE


def _group_path(stack: "StackConfig", group: NodeGroupConfig) -> str:
    return f"nodeGroups[{stack.node_groups.index(group)}]"


def _same_kind_instances(kind: Optional[AcceleratorKind], family: str = "") -> list[InstanceSpec]:
    """Instances with this accelerator, the given family first, then smallest first."""
    specs = [spec for spec in INSTANCE_TYPES.values() if spec.accelerator is kind]
    return sorted(specs, key=lambda s: (s.family != family, s.schedulable_accelerators, s.accelerator_memory_bytes,
                                        s.vcpu, s.memory_gib))


def _either(options: list[str]) -> str:
    return options[0] if len(options) == 1 else ", ".join(options[:-1]) + " or " + options[-1]


def _valid_gpu_degrees(heads: int, kv_heads: int, limit: int) -> list[int]:
    """Degrees vLLM accepts: dividing the attention heads, and dividing or being a multiple of the KV heads."""
    return [tp for tp in range(1, limit + 1)
            if heads % tp == 0 and (kv_heads % tp == 0 if tp < kv_heads else tp % kv_heads == 0)]


def _clean_neuron_degrees(heads: int, kv_heads: int, limit: int) -> list[int]:
    """Degrees NxD Inference shards without padding query heads or converting to MHA."""
    return [tp for tp in range(1, limit + 1)
            if heads % tp == 0 and (kv_heads % tp == 0 or tp % kv_heads == 0)]


def _model_issues(stack: "StackConfig", index: int, model: ModelConfig, group: NodeGroupConfig) -> list[ConfigIssue]:
    path, label, spec = f"models[{index}]", _label(index, model), group.instance
    kind = model.accelerator
    issues: list[ConfigIssue] = []

    issues += _selector_issues(path, label, model, group)
    issues += _resource_issues(path, label, model, group)

    units, need = spec.schedulable_accelerators, model.accelerators_per_pod
    if need > units:
        bigger = next((s for s in _same_kind_instances(kind, spec.family) if s.schedulable_accelerators >= need), None)
        move = (f"run {_group_path(stack, group)} on {bigger.name} ({bigger.schedulable_accelerators} {_unit(kind)})"
                if bigger else f"no {kind.value} instance in the catalog has that many")
        if _compiled_image(model):
            fix = (f"{move} and keep the degree: {RECOMPILE_NOTE}")
        else:
            fix = f"{move}, or lower tensorParallelSize to at most {units // model.pipeline_parallel_size}"
        issues.append(ConfigIssue(f"{path}.tensorParallelSize", (
            f"{label}: needs {need} {_unit(kind, need)} per pod (tensorParallelSize {model.tensor_parallel_size} x "
            f"pipelineParallelSize {model.pipeline_parallel_size}) but one {spec.name} node has {units}, and a pod "
            f"cannot span nodes; {fix}")))
        return issues  # memory sizing at a degree that cannot be scheduled would only repeat this

    sizing = size_model(model, index, spec)
    if not sizing.sized:
        return issues
    arch = sizing.architecture
    assert arch is not None
    if kind is AcceleratorKind.GPU:
        tp = model.tensor_parallel_size
        if tp not in _valid_gpu_degrees(arch.attention_heads, arch.kv_heads, tp):
            valid = _valid_gpu_degrees(arch.attention_heads, arch.kv_heads, units // model.pipeline_parallel_size)
            issues.append(ConfigIssue(f"{path}.tensorParallelSize", (
                f"{label}: tensorParallelSize {tp} does not shard {arch.hf_id} ({arch.attention_heads} attention heads, "
                f"{arch.kv_heads} KV heads): vLLM needs it to divide the attention heads and to divide, or be a "
                f"multiple of, the KV heads; use one of {', '.join(map(str, valid))} (the degrees that fit "
                f"{spec.name}'s {units} GPUs)")))
            return issues
    issue = _memory_issue(stack, path, label, model, group, sizing)
    if issue:
        issues.append(issue)
    elif not any(i.path == f"{path}.resources.memory" for i in issues):
        # Checked once the model fits its accelerators and its request fits the node: until then the
        # fix for those (another degree or instance) decides which node must hold the checkpoint.
        issue = _host_memory_issue(stack, path, label, model, group, sizing)
        if issue:
            issues.append(issue)
    return issues


def _selector_issues(path: str, label: str, model: ModelConfig, group: NodeGroupConfig) -> list[ConfigIssue]:
    """The rendered nodeSelector must be a subset of the group's labels, its tolerations cover the taints."""
    issues = []
    labels = {**group.node_labels, INSTANCE_TYPE_LABEL: group.instance_type}  # the kubelet sets the last one
    missing = {key: value for key, value in node_selector(group).items() if labels.get(key) != value}
    if missing:
        shown = ", ".join(f"{key}={value}" for key, value in sorted(missing.items()))
        issues.append(ConfigIssue(f"{path}.nodeGroup", (
            f"{label}: its nodeSelector asks for {shown}, which the nodes of {group.name!r} do not carry, so the "
            f"pods would stay Pending; remove the conflicting key from nodeGroups {group.name!r} labels")))
    tolerated = tolerations(model)
    for taint in node_taints(group):
        if not any(t["key"] == taint["key"] and t.get("effect") in (None, "", taint["effect"])
                   and (t.get("operator") == "Exists" or t.get("value") == taint.get("value")) for t in tolerated):
            issues.append(ConfigIssue(f"{path}.accelerator", (
                f"{label}: nodes of {group.name!r} carry the taint {taint['key']}={taint.get('value')}:{taint['effect']} "
                f"and the pods do not tolerate it, so they would stay Pending; set accelerator to match the group")))
    return issues


def _resource_issues(path: str, label: str, model: ModelConfig, group: NodeGroupConfig) -> list[ConfigIssue]:
    spec = group.instance
    allocatable = node_allocatable(spec)
    issues = []
    cpu_m = quantity_bytes(model.resources.cpu) * 1000
    memory = quantity_bytes(model.resources.memory)

    def bigger(predicate) -> str:
        found = next((s.name for s in _same_kind_instances(spec.accelerator, spec.family) if predicate(node_allocatable(s))
                      and s.schedulable_accelerators >= model.accelerators_per_pod), None) if spec.accelerator else None
        return f", or run the node group on {found}" if found else ""

    if cpu_m > allocatable.cpu_millicores:
        issues.append(ConfigIssue(f"{path}.resources.cpu", (
            f"{label}: requests cpu {model.resources.cpu} but one {spec.name} node has {allocatable.cpu_millicores}m "
            f"allocatable ({allocatable.explain_cpu(spec.vcpu)}), so the pod would stay Pending; lower "
            f"resources.cpu to {allocatable.cpu_millicores // 100 * 100}m or less"
            f"{bigger(lambda a: a.cpu_millicores >= cpu_m)}")))
    if memory > allocatable.memory_bytes:
        most = allocatable.memory_bytes // (2**20) // 256 * 256
        issues.append(ConfigIssue(f"{path}.resources.memory", (
            f"{label}: requests memory {model.resources.memory} ({gib(memory)}) but one {spec.name} node has "
            f"{gib(allocatable.memory_bytes)} allocatable ({allocatable.explain_memory(spec.memory_gib)}), so the pod "
            f"would stay Pending; lower resources.memory to {most}Mi or less"
            f"{bigger(lambda a: a.memory_bytes >= memory)}")))
    shm = model.resolved_shm_size
    if shm is not None and quantity_bytes(shm) >= memory:
        issues.append(ConfigIssue(f"{path}.shmSize", (
            f"{label}: /dev/shm of {shm} ({gib(quantity_bytes(shm))}) is memory-backed and counts against the "
            f"container's memory limit resources.memory {model.resources.memory} ({gib(memory)}); vLLM would be "
            f"OOM-killed before /dev/shm filled; raise resources.memory above {shm} plus what vLLM itself needs "
            f"(its CPU-side memory), or lower shmSize below {model.resources.memory}")))
    return issues


def _memory_issue(stack: "StackConfig", path: str, label: str, model: ModelConfig, group: NodeGroupConfig,
                  sizing: ModelSizing) -> Optional[ConfigIssue]:
    if sizing.fits:
        return None
    spec = group.instance
    usable = f"{gib(sizing.usable_bytes)} usable on {spec.name} ({_device_phrase(sizing)})"
    if sizing.neuron:
        kv_phrase = (f"KV reserved up front for {sizing.max_num_seqs} x {sizing.max_model_len} tokens at "
                     f"{kib(sizing.kv_bytes_per_token)}/token = {gib(sizing.requested_kv_bytes)}")
    else:
        kv_phrase = (f"KV for 1 x {sizing.max_model_len} tokens at {kib(sizing.kv_bytes_per_token)}/token = "
                     f"{gib(sizing.max_model_len * sizing.kv_bytes_per_token)}")
    numbers = (f"weights {gib(sizing.weight_bytes)} + {kv_phrase} = {gib(sizing.needed_bytes)} exceeds {usable}")
    unset = [f"{name} is unset ({value})" for name, value, is_default in (
        ("maxNumSeqs", f"vLLM's default {sizing.max_num_seqs}", sizing.neuron and sizing.max_num_seqs_is_default),
        ("maxModelLen", f"the model's {sizing.max_model_len} positions", sizing.max_model_len_is_default)) if is_default]
    if unset:
        numbers += f" ({' and '.join(unset)})"
    if sizing.weight_bytes > sizing.usable_bytes:
        field = "tensorParallelSize"
    elif sizing.neuron and sizing.max_num_seqs > 1 and sizing.one_sequence_bytes <= sizing.usable_bytes:
        field = "maxNumSeqs"
    else:
        field = "maxModelLen"
    fixes = _memory_fixes(stack, model, group, sizing)
    if not fixes:
        fixes = ["use a quantized checkpoint (no instance in the catalog holds these weights)"]
    if _compiled_image(model):
        text = f"{label}: {numbers}; {RECOMPILE_NOTE}; after recompiling, this would fit: {_either(fixes)}"
    else:
        text = f"{label}: {numbers}; {_either(fixes)}"
    return ConfigIssue(f"{path}.{field}", text)


# --------------------------------------------------------------------------------------------
# Host memory of a Neuron model compiled from the hub
#
# With `source: hub`, NxD Inference reads the checkpoint from the HF cache into host memory to
# shard it per NeuronCore and trace and compile the graphs before anything reaches the device, so
# the container holds at least the whole checkpoint at its stored dtype, plus the compiler's own
# working set. The starter kit behind the workshop compiles its 8B models on inf2.8xlarge with
# 96Gi (ARCHITECTURE.md); twice the checkpoint is the floor below which a warning is printed.
# Pre-compiled images (`source: image`) load sharded artifacts, and vLLM on GPUs streams
# safetensors shards to the device: neither is checked.

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
        return math.ceil(self.checkpoint_bytes / 2**30)

    @property
    def comfortable_gib(self) -> int:
        return math.ceil(HOST_MEMORY_HEADROOM * self.checkpoint_bytes / 2**30)


def _host_memory(model: ModelConfig, sizing: ModelSizing) -> Optional[HostMemory]:
    """The checkpoint a Neuron hub model loads into host memory, or None when none is loaded whole."""
    arch = sizing.architecture
    if not sizing.neuron or model.source is not ModelSource.HUB or arch is None:
        return None
    precision = checkpoint_precision(model, arch)
    return HostMemory(checkpoint_bytes(model, arch), precision.name, weights_formula(arch, precision),
                      quantity_bytes(model.resources.memory))


def _host_memory_place(stack: "StackConfig", model: ModelConfig, group: NodeGroupConfig, gib_needed: int) -> str:
    """Where `gib_needed` of memory fits: this node, else the smallest of its family that also takes the pod."""
    spec = group.instance
    allocatable = node_allocatable(spec)
    if allocatable.memory_bytes >= gib_needed * 2**30:
        return f", which the {gib(allocatable.memory_bytes)} allocatable of {spec.name} holds"
    cpu_m = _cpu_millicores(model)
    for candidate in _same_kind_instances(spec.accelerator, spec.family):
        other = node_allocatable(candidate)
        if (candidate.family == spec.family and candidate.schedulable_accelerators >= model.accelerators_per_pod
                and other.memory_bytes >= gib_needed * 2**30 and other.cpu_millicores >= cpu_m):
            return (f" and run {_group_path(stack, group)} on {candidate.name} ({gib(other.memory_bytes)} allocatable; "
                    f"{spec.name} has {gib(allocatable.memory_bytes)})")
    return (f"; no {spec.family} instance has that much allocatable, so serve graphs compiled elsewhere "
            f"(source: image) or a smaller checkpoint")


def _host_memory_issue(stack: "StackConfig", path: str, label: str, model: ModelConfig, group: NodeGroupConfig,
                       sizing: ModelSizing) -> Optional[ConfigIssue]:
    host = _host_memory(model, sizing)
    if host is None or host.memory_bytes >= host.checkpoint_bytes:
        return None
    arch = sizing.architecture
    assert arch is not None
    place = _host_memory_place(stack, model, group, host.comfortable_gib)
    return ConfigIssue(f"{path}.resources.memory", (
        f"{label}: source: hub makes the Neuron backend load {arch.hf_id}'s checkpoint into host memory to shard "
        f"and compile it: {host.formula} at its stored {host.precision} = {gib(host.checkpoint_bytes)}, but resources.memory is {model.resources.memory} "
        f"({gib(host.memory_bytes)}), so the pod would be OOM-killed while loading; raise resources.memory to at least "
        f"{host.minimum_gib}Gi, better {host.comfortable_gib}Gi (twice the checkpoint, room for the compiler; the "
        f"starter kit compiles 8B models with 96Gi){place}"))


def _host_memory_warning(stack: "StackConfig", label: str, model: ModelConfig, group: NodeGroupConfig,
                         sizing: ModelSizing) -> Optional[str]:
    host = _host_memory(model, sizing)
    if host is None or not host.checkpoint_bytes <= host.memory_bytes < HOST_MEMORY_HEADROOM * host.checkpoint_bytes:
        return None
    if host.memory_bytes > node_allocatable(group.instance).memory_bytes:
        return None  # the request does not fit the node: that error comes first
    place = _host_memory_place(stack, model, group, host.comfortable_gib)
    return (f"{label}: resources.memory {model.resources.memory} ({gib(host.memory_bytes)}) holds the "
            f"{gib(host.checkpoint_bytes)} {host.precision} checkpoint that source: hub loads into host memory to "
            f"compile for Neuron, but not twice it; the compiler's working set comes on top (the starter kit compiles "
            f"8B models with 96Gi), so compiling may be OOM-killed; raise resources.memory to "
            f"{host.comfortable_gib}Gi{place}")


def _device_phrase(sizing: ModelSizing) -> str:
    spec = sizing.instance
    if sizing.neuron:
        return (f"{sizing.devices} x NeuronCore {gib(sizing.device_memory_bytes)}, half an {spec.accelerator_model}; "
                f"the Neuron backend ignores gpuMemoryUtilization")
    return f"{sizing.devices} x {spec.accelerator_model} {gib(sizing.device_memory_bytes)} x {sizing.utilization:g}"


def _memory_fixes(stack: "StackConfig", model: ModelConfig, group: NodeGroupConfig, sizing: ModelSizing) -> list[str]:
    """Computed alternatives that fit: shorter context, fewer sequences, a larger degree or instance."""
    fixes = []
    budget = sizing.usable_bytes - sizing.weight_bytes
    per_token = sizing.kv_bytes_per_token
    if budget > 0:
        seqs = int(budget // (sizing.max_model_len * per_token))
        if sizing.neuron and sizing.max_num_seqs > 1 and seqs >= 1:
            fixes.append(f"lower maxNumSeqs to {seqs}")
        tokens = budget / per_token / (sizing.max_num_seqs if sizing.neuron else 1)
        length = largest_power_of_two_at_most(tokens)
        if length >= 1024:
            fixes.append(f"lower maxModelLen to {length}")
        elif sizing.neuron and sizing.max_num_seqs > 1 and seqs < 1:
            single = largest_power_of_two_at_most(budget / per_token)
            if single >= 1024:
                fixes.append(f"set maxNumSeqs to 1 and maxModelLen to {single}")
    alternative = _larger_configuration(model, sizing, group)
    if alternative:
        fixes.append(alternative)
    return fixes


def _larger_configuration(model: ModelConfig, sizing: ModelSizing, group: NodeGroupConfig) -> Optional[str]:
    """The smallest change that fits: a larger degree on this instance, else the same family, else
    the fewest devices of any instance with this accelerator."""
    arch = sizing.architecture
    assert arch is not None
    current, pp = group.instance, model.pipeline_parallel_size
    fitting: list[tuple[tuple, str]] = []
    for spec in _same_kind_instances(model.accelerator, current.family):
        limit = spec.schedulable_accelerators // pp
        if model.accelerator is AcceleratorKind.GPU:
            degrees = _valid_gpu_degrees(arch.attention_heads, arch.kv_heads, limit)
        else:
            degrees = _clean_neuron_degrees(arch.attention_heads, arch.kv_heads, limit) or list(range(1, limit + 1))
        for tp in degrees:
            if spec.name == current.name and tp <= model.tensor_parallel_size:
                continue
            candidate = size_model(model, sizing.index, spec, tp)
            # On GPUs ask for room for a second full-length sequence, so the fix does not land on a warning.
            if candidate.fits and (candidate.neuron or candidate.full_sequences >= 2):
                if spec.name == current.name:
                    text = (f"raise tensorParallelSize to {tp} ({spec.name} has {spec.schedulable_accelerators} "
                            f"{_unit(model.accelerator)})")
                else:
                    text = f"use {spec.name} with tensorParallelSize {tp}"
                rank = (spec.name != current.name, spec.family != current.family, tp,
                        spec.schedulable_accelerators, spec.accelerator_memory_bytes, spec.vcpu)
                fitting.append((rank, text))
                break
    return min(fitting)[1] if fitting else None


def _model_warnings(stack: "StackConfig", index: int, model: ModelConfig, group: NodeGroupConfig) -> list[str]:
    label, spec = _label(index, model), group.instance
    if model.accelerators_per_pod > spec.schedulable_accelerators:
        return []
    sizing = size_model(model, index, spec)
    if not sizing.sized:
        return [f"{label}: memory not sized: {sizing.skipped}"]
    warnings = []
    arch, heads = sizing.architecture, sizing.heads
    assert arch is not None and heads is not None
    tp = model.tensor_parallel_size
    if sizing.neuron and heads.strategy in ("convert-to-mha", "padded"):
        clean = _clean_neuron_degrees(arch.attention_heads, arch.kv_heads, spec.schedulable_accelerators)
        text = (f"{label}: tensorParallelSize {tp} does not divide {arch.hf_id}'s {arch.attention_heads} attention heads"
                f"{'' if heads.strategy == 'padded' else f' nor is it a multiple of its {arch.kv_heads} KV heads'}; "
                f"NxD Inference pads the query heads to {heads.attention_heads}")
        if heads.strategy == "convert-to-mha":
            text += (f" and converts the model to multi-head attention with {heads.kv_heads} KV heads, so the KV cache "
                     f"takes {kib(sizing.kv_bytes_per_token)}/token instead of {kib(sizing.kv_bytes_per_token_formula)} "
                     f"({sizing.kv_bytes_per_token / sizing.kv_bytes_per_token_formula:.1f}x)")
        text += (f" and {heads.attention_heads - arch.attention_heads} of {heads.attention_heads} query heads are padding; "
                 f"degrees that shard evenly on {spec.name}: {', '.join(map(str, clean))}")
        if _compiled_image(model):
            text += f" (a recompile: {RECOMPILE_NOTE})"
        warnings.append(text)
    if not sizing.fits:
        return warnings  # the error says it all
    host_warning = _host_memory_warning(stack, label, model, group, sizing)
    if host_warning:
        warnings.append(host_warning)
    if not sizing.neuron:
        if sizing.full_sequences < 2:
            warnings.append(
                f"{label}: only {sizing.kv_capacity_tokens} tokens of KV cache fit ({gib(sizing.kv_budget_bytes)} after "
                f"{gib(sizing.weight_bytes)} of weights at {kib(sizing.kv_bytes_per_token)}/token): less than one "
                f"full-length sequence of headroom beyond the first at maxModelLen {sizing.max_model_len}, so a second "
                f"long request waits or is preempted, and activations are not counted here; lower maxModelLen to "
                f"{largest_power_of_two_at_most(sizing.kv_capacity_tokens / 2)} or give it more memory")
        elif not sizing.max_num_seqs_is_default and not sizing.concurrency_fits:
            warnings.append(
                f"{label}: maxNumSeqs {sizing.max_num_seqs} x maxModelLen {sizing.max_model_len} needs "
                f"{gib(sizing.requested_kv_bytes)} of KV cache but {gib(sizing.kv_budget_bytes)} is left after weights "
                f"({sizing.full_sequences} full-length sequences); vLLM runs that many only with shorter requests and "
                f"preempts the rest")
    return warnings


# --------------------------------------------------------------------------------------------
# Per node group


def _pods_per_node(model: ModelConfig, spec: InstanceSpec) -> "PodsPerNode":
    allocatable = node_allocatable(spec)
    return PodsPerNode(
        kind=model.accelerator, units=spec.schedulable_accelerators, units_per_pod=model.accelerators_per_pod,
        cpu_millicores=allocatable.cpu_millicores, cpu_per_pod=_cpu_millicores(model),
        memory_bytes=allocatable.memory_bytes, memory_per_pod=int(quantity_bytes(model.resources.memory)))


def _cpu_millicores(model: ModelConfig) -> int:
    return round(quantity_bytes(model.resources.cpu) * 1000)


@dataclass(frozen=True)
class PodsPerNode:
    """How many pods of one model a node takes: the scarcest of accelerators, CPU and memory.

    Allocatable is the kubelet's (config/allocatable.py). The DaemonSets every node runs (aws-node,
    kube-proxy, the EFS CSI node plugin, the device plugin) also request a little CPU and memory,
    which this does not subtract: a pod that fills the last few hundred millicores or MiB can still
    stay Pending, the same margin docs/sizing.md asks requests to leave."""

    kind: AcceleratorKind
    units: int
    units_per_pod: int
    cpu_millicores: int
    cpu_per_pod: int
    memory_bytes: int
    memory_per_pod: int

    @property
    def by_accelerators(self) -> int:
        return self.units // self.units_per_pod

    @property
    def by_cpu(self) -> int:
        return self.cpu_millicores // self.cpu_per_pod if self.cpu_per_pod else self.by_accelerators

    @property
    def by_memory(self) -> int:
        return self.memory_bytes // self.memory_per_pod if self.memory_per_pod else self.by_accelerators

    @property
    def count(self) -> int:
        return min(self.by_accelerators, self.by_cpu, self.by_memory)

    def explain(self) -> str:
        return (f"min({_unit(self.kind)} {self.units}/{self.units_per_pod}, cpu {self.cpu_millicores}m/"
                f"{self.cpu_per_pod}m, memory {gib(self.memory_bytes)}/{gib(self.memory_per_pod)})")


def _group_load(stack: "StackConfig") -> Iterable[tuple[NodeGroupConfig, list[tuple[int, ModelConfig, PodsPerNode]]]]:
    """Models per node group with their pods per node; a model that fits no node has an error already."""
    by_group: dict[str, list[tuple[int, ModelConfig, PodsPerNode]]] = {}
    for index, model, group in placeable_models(stack):
        fit = _pods_per_node(model, group.instance)
        if fit.count >= 1:
            by_group.setdefault(group.name, []).append((index, model, fit))
    for group in stack.node_groups:
        if group.name in by_group:
            yield group, by_group[group.name]


def _nodes_for(model: ModelConfig, fit: PodsPerNode) -> int:
    return math.ceil(model.replicas / fit.count)


def _nodes_needed(models: list[tuple[int, ModelConfig, PodsPerNode]]) -> int:
    """Nodes the group's pods fill, packed first-fit-decreasing over accelerators, CPU and memory.

    Pods of different models share a node when its leftovers hold them. First-fit-decreasing
    can use a node more than an optimal packing would, never fewer, and for a single model it
    equals ceil(replicas / pods per node).
    """
    if not models:
        return 0
    fit = models[0][2]  # one instance type per group, so one capacity
    capacity = (fit.units, fit.cpu_millicores, fit.memory_bytes)
    pods = sorted(
        ((f.units_per_pod, f.cpu_per_pod, f.memory_per_pod) for _, model, f in models for _ in range(model.replicas)),
        reverse=True,
    )
    free: list[list[int]] = []
    for pod in pods:
        node = next((node for node in free if all(left >= need for left, need in zip(node, pod))), None)
        if node is None:
            node = list(capacity)
            free.append(node)
        for position, need in enumerate(pod):
            node[position] -= need
    return len(free)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _group_capacity_issues(stack: "StackConfig") -> list[ConfigIssue]:
    issues = []
    for group, models in _group_load(stack):
        max_size = group.resolved_max_size
        needed = _nodes_needed(models)
        if needed <= max_size:
            continue
        # Reported at the first model whose pods no longer fit, as the one a user most likely added.
        overflow = next(k for k in range(1, len(models) + 1) if _nodes_needed(models[:k]) > max_size)
        index, model, fit = models[overflow - 1]
        listing = "; ".join(
            f"{m.name}: {_plural(m.replicas, 'replica')} at {f.count} per node = {_plural(_nodes_for(m, f), 'node')}, "
            f"pods per node = {f.explain()}" for _, m, f in models)
        fixes = [f"raise {_group_path(stack, group)}.maxSize to {needed}"]
        if len(models) == 1:
            fixes += _single_model_fixes(model, fit, max_size)
        elif any(f.count < f.by_accelerators for _, _, f in models):
            fixes.append("lower replicas or the cpu and memory requests that bind")
        else:
            fixes.append("lower replicas")
        shared = ", packing pods of different models onto shared nodes," if len(models) > 1 else ""
        issues.append(ConfigIssue(f"models[{index}].replicas", (
            f"{_label(index, model)}: the pods on node group {group.name!r} need {needed} {group.instance_type} "
            f"nodes{shared} but maxSize is {max_size} ({listing}); {_either(fixes)}")))
    return issues


def _single_model_fixes(model: ModelConfig, fit: PodsPerNode, max_size: int) -> list[str]:
    """Fewer replicas, or (when CPU or memory, not accelerators, bind) requests small enough to pack them."""
    fixes = [f"lower replicas to {max_size * fit.count}"]
    per_node = math.ceil(model.replicas / max_size)
    if fit.by_accelerators >= per_node:
        requests = []
        if fit.by_cpu < per_node:
            requests.append(f"resources.cpu to {fit.cpu_millicores // per_node // 100 * 100}m")
        if fit.by_memory < per_node:
            requests.append(f"resources.memory to {fit.memory_bytes // per_node // 2**20 // 256 * 256}Mi")
        fixes.append(f"lower {' and '.join(requests)} so {per_node} pods share a node")
    return fixes


def _desired_size_issues(stack: "StackConfig") -> list[ConfigIssue]:
    """No autoscaler runs, so the group keeps desiredSize nodes: pods beyond them never schedule."""
    issues = []
    for group, models in _group_load(stack):
        needed = _nodes_needed(models)
        if group.resolved_desired_size < needed <= group.resolved_max_size:
            issues.append(ConfigIssue(f"{_group_path(stack, group)}.desiredSize", (
                f"node group {group.name!r}: its models need {needed} {group.instance_type} nodes but the group "
                f"runs {group.resolved_desired_size} (desiredSize, or minSize when unset) and no autoscaler adds "
                f"more, so the other pods would stay Pending; raise desiredSize to {needed}")))
    return issues


__all__ = ["placement_issues", "placement_warnings"]
