"""Requests against the node's allocatable (config/allocatable.py): CPU, memory, and /dev/shm inside the memory limit."""

from __future__ import annotations

import math
from collections.abc import Callable

from ..allocatable import Allocatable, cpu_millicores, node_allocatable
from ..errors import ConfigIssue, Fix
from ..model import VLLM_PROCESSES_BYTES
from ..types import parse_quantity
from ..units import GIB, MIB, gib
from .alternatives import same_kind_instances
from .host_memory import hub_checkpoint_bytes
from .records import PlacedModel

__all__ = ["cpu_millicores", "request_issues"]  # cpu_millicores is imported from here by packing.py


def request_issues(placed: PlacedModel) -> list[ConfigIssue]:
    model, spec, path, label = placed.model, placed.spec, placed.path, placed.label
    allocatable = node_allocatable(spec)
    issues: list[ConfigIssue] = []
    cpu_m = cpu_millicores(model.resources.cpu)
    memory = float(parse_quantity(model.resources.memory))

    def bigger(predicate: Callable[[Allocatable], bool]) -> str:
        found = _bigger_instance(placed, predicate)
        return f", or run the node group on {found}" if found else ""

    if cpu_m > allocatable.cpu_millicores:
        issues.append(ConfigIssue(f"{path}.resources.cpu", (
            f"{label}: requests cpu {model.resources.cpu} but one {spec.name} node has {allocatable.cpu_millicores}m "
            f"allocatable ({allocatable.explain_cpu(spec.vcpu)}), so the pod would stay Pending; lower "
            f"resources.cpu to {allocatable.cpu_millicores // 100 * 100}m or less"
            f"{bigger(lambda a: a.cpu_millicores >= cpu_m)}"), (Fix(f"{path}.resources.cpu", f"{allocatable.cpu_millicores // 100 * 100}m"),)))
    if memory > allocatable.memory_bytes:
        issues.append(_memory_issue(placed, allocatable, memory, lambda a: a.memory_bytes >= memory))
    else:
        issues += _shm_issues(placed, allocatable, memory)
    return issues


def _quantity(value: int) -> str:
    """A byte count as the stack writes it: whole Gi where it is, else Mi."""
    return f"{value // GIB}Gi" if value % GIB == 0 else f"{value // MIB}Mi"


def _bigger_instance(placed: PlacedModel, predicate: Callable[[Allocatable], bool]) -> str | None:
    """The smallest instance of the node's kind and family whose allocatable passes `predicate` and takes the pod."""
    spec = placed.spec
    if not spec.accelerator:
        return None
    return next((s.name for s in same_kind_instances(spec.accelerator, spec.family) if predicate(node_allocatable(s))
                 and s.schedulable_accelerators >= placed.model.accelerators_per_pod), None)


def _memory_issue(placed: PlacedModel, allocatable: Allocatable, memory: float,
                  holds: Callable[[Allocatable], bool]) -> ConfigIssue:
    """The request lowered to what the node offers; with a /dev/shm set by hand, shmSize lowered too where the
    lowered limit would no longer hold it beside vLLM's processes (the next check's rule), so the fix converges.
    Where the lowered request could not hold the checkpoint a hub Neuron model loads into host memory (the check
    after this one, host_memory.py), the fix is the larger instance instead."""
    model, spec, path = placed.model, placed.spec, placed.path
    most = allocatable.memory_bytes // MIB // 256 * 256 * MIB
    found = _bigger_instance(placed, holds)
    bigger = f", or run the node group on {found}" if found else ""
    checkpoint = hub_checkpoint_bytes(placed)
    kept = checkpoint > most and found is not None  # the request stays; the node grows
    limit = int(memory) if kept else most
    fixes = [Fix(f"{placed.group_path}.instanceType", found) if kept else Fix(f"{path}.resources.memory", f"{most // MIB}Mi")]
    also = ""
    if model.shm_size is not None and parse_quantity(model.shm_size) + VLLM_PROCESSES_BYTES > limit:
        shm_most = (limit - VLLM_PROCESSES_BYTES) // MIB // 256 * 256 * MIB
        fixes.append(Fix(f"{path}.shmSize", _quantity(shm_most)))
        also = (f", and shmSize from {model.shm_size} to {_quantity(shm_most)} or less (/dev/shm is memory-backed and "
                f"counted in that limit, beside the {gib(VLLM_PROCESSES_BYTES)} vLLM's own processes take)")
    if checkpoint > most:
        return ConfigIssue(f"{path}.resources.memory", (
            f"{placed.label}: requests memory {model.resources.memory} ({gib(memory)}) but one {spec.name} node has "
            f"{gib(allocatable.memory_bytes)} allocatable ({allocatable.explain_memory(spec.memory_gib)}), so the pod "
            f"would stay Pending, and a request lowered to fit would not hold the {gib(checkpoint)} checkpoint "
            f"source: hub loads into host memory to shard and compile; "
            + (f"run {placed.group_path} on {found}, whose allocatable holds the request{also}" if found else
               f"no {spec.family} instance holds it: serve graphs compiled elsewhere (source: image)")),
            tuple(fixes) if found else ())
    return ConfigIssue(f"{path}.resources.memory", (
        f"{placed.label}: requests memory {model.resources.memory} ({gib(memory)}) but one {spec.name} node has "
        f"{gib(allocatable.memory_bytes)} allocatable ({allocatable.explain_memory(spec.memory_gib)}), so the pod "
        f"would stay Pending; lower resources.memory to {most // MIB}Mi or less{also}{bigger}"), tuple(fixes))


def _shm_issues(placed: PlacedModel, allocatable: Allocatable, memory: float) -> list[ConfigIssue]:
    """/dev/shm is an emptyDir of medium Memory, and "the kubelet tracks tmpfs emptyDir volumes as container memory
    use" (kubernetes.io/docs/concepts/configuration/manage-resources-containers, "Considerations for memory backed
    emptyDir volumes"; core/v1 EmptyDirVolumeSource.sizeLimit: its usage is bounded by the pod's memory limits), so
    what it holds and vLLM's own processes (VLLM_PROCESSES_BYTES) share resources.memory, the limit."""
    model, path, label = placed.model, placed.path, placed.label
    shm = model.resolved_shm_size
    if shm is None:
        return []
    shm_bytes = int(parse_quantity(shm))
    if shm_bytes + VLLM_PROCESSES_BYTES <= memory:
        return []
    need = math.ceil((shm_bytes + VLLM_PROCESSES_BYTES) / MIB / 256) * 256 * MIB
    lowered = (int(memory) - VLLM_PROCESSES_BYTES) // MIB // 256 * 256 * MIB
    if need <= allocatable.memory_bytes or lowered <= 0:
        fix = Fix(f"{path}.resources.memory", _quantity(need))
        advice = (f"raise resources.memory to {_quantity(need)}, or lower shmSize to {_quantity(lowered)} or less"
                  if lowered > 0 else f"raise resources.memory to {_quantity(need)}")
    else:
        fix = Fix(f"{path}.shmSize", _quantity(lowered))
        advice = (f"lower shmSize to {_quantity(lowered)} or less (resources.memory {_quantity(need)} would not fit "
                  f"the {gib(allocatable.memory_bytes)} allocatable of one {placed.spec.name} node)")
    return [ConfigIssue(f"{path}.shmSize", (
        f"{label}: /dev/shm of {shm} ({gib(shm_bytes)}) is memory-backed and counts against the container's memory "
        f"limit resources.memory {model.resources.memory} ({gib(memory)}), which must also hold vLLM's own processes "
        f"({gib(VLLM_PROCESSES_BYTES)} before a weight is loaded), so vLLM would be OOM-killed before /dev/shm "
        f"filled; {advice}"), (fix,))]
