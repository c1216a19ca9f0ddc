"""Requests against the node's allocatable (config/allocatable.py): CPU, memory, and /dev/shm inside the memory limit."""

from __future__ import annotations

from collections.abc import Callable

from ..allocatable import Allocatable, node_allocatable
from ..errors import ConfigIssue
from ..types import parse_quantity
from ..units import MIB, gib
from .alternatives import same_kind_instances
from .records import PlacedModel


def cpu_millicores(text: str) -> int:
    return round(parse_quantity(text) * 1000)


def request_issues(placed: PlacedModel) -> list[ConfigIssue]:
    model, spec, path, label = placed.model, placed.spec, placed.path, placed.label
    allocatable = node_allocatable(spec)
    issues = []
    cpu_m = cpu_millicores(model.resources.cpu)
    memory = float(parse_quantity(model.resources.memory))

    def bigger(predicate: Callable[[Allocatable], bool]) -> str:
        found = next((s.name for s in same_kind_instances(spec.accelerator, spec.family) if predicate(node_allocatable(s))
                      and s.schedulable_accelerators >= model.accelerators_per_pod), None) if spec.accelerator else None
        return f", or run the node group on {found}" if found else ""

    if cpu_m > allocatable.cpu_millicores:
        issues.append(ConfigIssue(f"{path}.resources.cpu", (
            f"{label}: requests cpu {model.resources.cpu} but one {spec.name} node has {allocatable.cpu_millicores}m "
            f"allocatable ({allocatable.explain_cpu(spec.vcpu)}), so the pod would stay Pending; lower "
            f"resources.cpu to {allocatable.cpu_millicores // 100 * 100}m or less"
            f"{bigger(lambda a: a.cpu_millicores >= cpu_m)}")))
    if memory > allocatable.memory_bytes:
        most = allocatable.memory_bytes // MIB // 256 * 256
        issues.append(ConfigIssue(f"{path}.resources.memory", (
            f"{label}: requests memory {model.resources.memory} ({gib(memory)}) but one {spec.name} node has "
            f"{gib(allocatable.memory_bytes)} allocatable ({allocatable.explain_memory(spec.memory_gib)}), so the pod "
            f"would stay Pending; lower resources.memory to {most}Mi or less"
            f"{bigger(lambda a: a.memory_bytes >= memory)}")))
    shm = model.resolved_shm_size
    if shm is not None and parse_quantity(shm) >= memory:
        issues.append(ConfigIssue(f"{path}.shmSize", (
            f"{label}: /dev/shm of {shm} ({gib(float(parse_quantity(shm)))}) is memory-backed and counts against the "
            f"container's memory limit resources.memory {model.resources.memory} ({gib(memory)}); vLLM would be "
            f"OOM-killed before /dev/shm filled; raise resources.memory above {shm} plus what vLLM itself needs "
            f"(its CPU-side memory), or lower shmSize below {model.resources.memory}")))
    return issues
