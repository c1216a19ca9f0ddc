"""Does one pod's shard fit a node: enough accelerator units, and a tensor-parallel degree the backend shards."""

from __future__ import annotations

from ..errors import ConfigIssue
from .alternatives import same_kind_instances
from .records import RECOMPILE_NOTE, PlacedModel, unit_name


def accelerator_count_issue(placed: PlacedModel) -> ConfigIssue | None:
    """A pod needs all its ranks on one node; more than the node has stays Pending forever."""
    model, spec, traits = placed.model, placed.spec, placed.traits
    units, need = spec.schedulable_accelerators, model.accelerators_per_pod
    if need <= units:
        return None
    kind = model.accelerator
    bigger = next((s for s in same_kind_instances(kind, spec.family) if s.schedulable_accelerators >= need), None)
    move = (f"run {placed.group_path} on {bigger.name} ({bigger.schedulable_accelerators} {unit_name(traits)})"
            if bigger else f"no {kind.value} instance in the catalog has that many")
    if placed.compiled_into_image:
        fix = f"{move} and keep the degree: {RECOMPILE_NOTE}"
    else:
        fix = f"{move}, or lower tensorParallelSize to at most {units // model.pipeline_parallel_size}"
    return ConfigIssue(f"{placed.path}.tensorParallelSize", (
        f"{placed.label}: needs {need} {unit_name(traits, need)} per pod (tensorParallelSize {model.tensor_parallel_size} x "
        f"pipelineParallelSize {model.pipeline_parallel_size}) but one {spec.name} node has {units}, and a pod "
        f"cannot span nodes; {fix}"))


def degree_issue(placed: PlacedModel) -> ConfigIssue | None:
    """A degree the backend refuses to shard the heads at (a backend that pads warns instead: warnings.py)."""
    model, spec, rule = placed.model, placed.spec, placed.traits.head_sharding
    arch = placed.sizing.architecture
    if arch is None or rule.pads_uneven_degrees:
        return None
    tp = model.tensor_parallel_size
    if tp in rule.clean_degrees(arch.attention_heads, arch.kv_heads, tp):
        return None
    units = spec.schedulable_accelerators
    valid = rule.clean_degrees(arch.attention_heads, arch.kv_heads, units // model.pipeline_parallel_size)
    return ConfigIssue(f"{placed.path}.tensorParallelSize", (
        f"{placed.label}: tensorParallelSize {tp} does not shard {arch.hf_id} ({arch.attention_heads} attention heads, "
        f"{arch.kv_heads} KV heads): {rule.requirement}; use one of {', '.join(map(str, valid))} (the degrees that fit "
        f"{spec.name}'s {units} {unit_name(placed.traits, units)})"))
