"""Node-group capacity: how many nodes the group's pods fill, against maxSize and the running desiredSize."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from ..accelerators import AcceleratorTraits
from ..allocatable import node_allocatable
from ..autoscaling import replica_bounds, replicas_key
from ..errors import ConfigIssue, Fix
from ..model import ModelConfig
from ..types import parse_quantity
from ..units import MIB, gib
from ..wording import either, plural
from .records import PlacedModel, unit_name
from .requests import cpu_millicores


@dataclass(frozen=True)
class PodsPerNode:
    """How many pods of one model a node takes: the scarcest of accelerators, CPU and memory.

    Allocatable is the kubelet's (config/allocatable.py). The DaemonSets every node runs (aws-node,
    kube-proxy, the EFS CSI node plugin, the device plugin) also request a little CPU and memory,
    which this does not subtract: a pod that fills the last few hundred millicores or MiB can still
    stay Pending, the same margin docs/sizing.md asks requests to leave."""

    traits: AcceleratorTraits
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
        return (f"min({unit_name(self.traits)} {self.units}/{self.units_per_pod}, cpu {self.cpu_millicores}m/"
                f"{self.cpu_per_pod}m, memory {gib(self.memory_bytes)}/{gib(self.memory_per_pod)})")


def pods_per_node(placed: PlacedModel) -> PodsPerNode:
    model, spec = placed.model, placed.spec
    allocatable = node_allocatable(spec)
    return PodsPerNode(
        traits=placed.traits, units=spec.schedulable_accelerators, units_per_pod=model.accelerators_per_pod,
        cpu_millicores=allocatable.cpu_millicores, cpu_per_pod=cpu_millicores(model.resources.cpu),
        memory_bytes=allocatable.memory_bytes, memory_per_pod=int(parse_quantity(model.resources.memory)))


Load = list[tuple[PlacedModel, PodsPerNode]]


def group_loads(placed_models: list[PlacedModel]) -> Iterable[Load]:
    """Models per node group (in nodeGroups order) with their pods per node; a model that fits no node has an error already."""
    by_group: dict[int, Load] = {}
    for placed in placed_models:
        fit = pods_per_node(placed)
        if fit.count >= 1:
            by_group.setdefault(placed.group_index, []).append((placed, fit))
    return [by_group[index] for index in sorted(by_group)]


def peak_replicas(model: ModelConfig) -> int:
    """Replicas the nodes must hold at most: `replicas`, or `autoscaling.maxReplicas`."""
    return replica_bounds(model)[1]


def _nodes_for(model: ModelConfig, fit: PodsPerNode) -> int:
    return math.ceil(peak_replicas(model) / fit.count)


def nodes_needed(load: Load, at_minimum: bool = False) -> int:
    """Nodes the group's pods fill, packed first-fit-decreasing over accelerators, CPU and memory, at each
    model's most replicas (its fewest with `at_minimum`).

    Pods of different models share a node when its leftovers hold them. First-fit-decreasing
    can use a node more than an optimal packing would, never fewer, and for a single model it
    equals ceil(replicas / pods per node).
    """
    if not load:
        return 0
    fit = load[0][1]  # one instance type per group, so one capacity
    capacity = (fit.units, fit.cpu_millicores, fit.memory_bytes)
    return first_fit_decreasing(capacity, [
        ((f.units_per_pod, f.cpu_per_pod, f.memory_per_pod), replica_bounds(placed.model)[0 if at_minimum else 1])
        for placed, f in load])


Vector = tuple[int, ...]


def first_fit_decreasing(capacity: Vector, pods: Iterable[tuple[Vector, int]]) -> int:
    """The nodes first-fit-decreasing opens for `pods` ((demand, count) pairs) on nodes of `capacity`.

    The same count as placing pod by pod (largest demand first, each pod on the first node with
    room, a new node when none has), computed arithmetically: pods of one demand fill the first node
    with room until it is full, then the next, so a run of identical nodes takes as many as fit at
    once, and the pods left over open ceil(left / pods per empty node) new nodes. The work grows
    with the number of distinct demands (each adds at most three runs of identical nodes), not
    with replicas: `replicas: 100000` costs what `replicas: 1` does.
    """
    demands: dict[Vector, int] = {}
    for demand, count in pods:
        demands[demand] = demands.get(demand, 0) + count
    runs: list[tuple[Vector, int]] = []  # (room left, how many nodes have it), in the order nodes opened
    for demand in sorted(demands, reverse=True):
        left = demands[demand]
        placed: list[tuple[Vector, int]] = []
        for room, nodes in runs:
            per_node = _fits(room, demand)
            if left == 0 or per_node == 0:
                placed.append((room, nodes))
            elif left >= per_node * nodes:
                placed.append((_minus(room, demand, per_node), nodes))
                left -= per_node * nodes
            else:  # the first `full` nodes fill up, the next takes the rest, the others keep their room
                full, rest = divmod(left, per_node)
                placed += [(_minus(room, demand, per_node), full), (_minus(room, demand, rest), 1 if rest else 0),
                           (room, nodes - full - (1 if rest else 0))]
                left = 0
        if left:
            per_node = max(1, _fits(capacity, demand))  # a pod no empty node holds still opens one, as pod by pod
            full, rest = divmod(left, per_node)
            placed += [(_minus(capacity, demand, per_node), full), (_minus(capacity, demand, rest), 1 if rest else 0)]
        runs = [(room, nodes) for room, nodes in placed if nodes]
    return sum(nodes for _, nodes in runs)


def _fits(room: Vector, demand: Vector) -> int:
    """How many pods of `demand` fit in `room` (a node over capacity takes none)."""
    if any(left < 0 for left in room):
        return 0
    limits = [left // need for left, need in zip(room, demand, strict=True) if need > 0]
    return min(limits) if limits else 2**62


def _minus(room: Vector, demand: Vector, pods: int) -> Vector:
    return tuple(left - need * pods for left, need in zip(room, demand, strict=True))


def group_issues(placed_models: list[PlacedModel], groups_run_as_configured: bool) -> list[ConfigIssue]:
    """Per node group: more nodes than maxSize, and (when no autoscaler runs) more than desiredSize."""
    issues = []
    for load in group_loads(placed_models):
        needed = nodes_needed(load)
        issue = _max_size_issue(load, needed, groups_run_as_configured)
        # A Karpenter group launches nodes for pending pods up to maxSize; a managed one keeps desiredSize.
        if issue is None and groups_run_as_configured and not load[0][0].group.is_karpenter:
            issue = _desired_size_issue(load, needed)
        if issue is not None:
            issues.append(issue)
    return issues


def _max_size_issue(load: Load, needed: int, runs_desired: bool = True) -> ConfigIssue | None:
    group = load[0][0].group
    max_size = group.resolved_max_size
    if needed <= max_size:
        return None
    # Reported at the first model whose pods no longer fit, as the one a user most likely added.
    overflow = next(k for k in range(1, len(load) + 1) if nodes_needed(load[:k]) > max_size)
    placed, fit = load[overflow - 1]
    listing = "; ".join(
        f"{p.model.name}: {plural(peak_replicas(p.model), 'replica')} at {f.count} per node = "
        f"{plural(_nodes_for(p.model, f), 'node')}, pods per node = {f.explain()}" for p, f in load)
    fixes = [f"raise {placed.group_path}.maxSize to {needed}"]
    if len(load) == 1:
        fixes += _single_model_fixes(placed.model, fit, max_size)
    elif any(f.count < f.by_accelerators for _, f in load):
        fixes.append(f"lower {replicas_key(placed.model)} or the cpu and memory requests that bind")
    else:
        fixes.append(f"lower {replicas_key(placed.model)}")
    data: tuple[Fix, ...] = ()
    if group.is_karpenter:  # maxSize alone bounds the nodes Karpenter launches
        data = (Fix(f"{placed.group_path}.maxSize", needed),)
    elif len(load) == 1:
        # A managed group runs desiredSize nodes (no autoscaler adds more): fewer replicas, on that many nodes.
        data = (Fix(f"{placed.path}.{replicas_key(placed.model)}", max_size * fit.count),)
        if runs_desired and group.resolved_desired_size < max_size:
            fixes[1] += f" (with {placed.group_path}.desiredSize {max_size}, the nodes that run)"
            data += (Fix(f"{placed.group_path}.desiredSize", max_size),)
    else:
        # Several models share the nodes: more of them, which a managed group runs only from desiredSize up.
        data = (Fix(f"{placed.group_path}.maxSize", needed),)
        if runs_desired and group.resolved_desired_size < needed:
            fixes[0] += f" (with {placed.group_path}.desiredSize {needed}, the nodes that run)"
            data += (Fix(f"{placed.group_path}.desiredSize", needed),)
    shared = ", packing pods of different models onto shared nodes," if len(load) > 1 else ""
    return ConfigIssue(f"{placed.path}.{replicas_key(placed.model)}", (
        f"{placed.label}: the pods on node group {group.name!r} need {needed} {group.instance_type} "
        f"nodes{shared} but maxSize is {max_size} ({listing}); {either(fixes)}"), data)


def _single_model_fixes(model: ModelConfig, fit: PodsPerNode, max_size: int) -> list[str]:
    """Fewer replicas, or (when CPU or memory, not accelerators, bind) requests small enough to pack them."""
    fixes = [f"lower {replicas_key(model)} to {max_size * fit.count}"]
    per_node = math.ceil(peak_replicas(model) / max_size)
    if fit.by_accelerators >= per_node:
        requests = []
        if fit.by_cpu < per_node:
            requests.append(f"resources.cpu to {fit.cpu_millicores // per_node // 100 * 100}m")
        if fit.by_memory < per_node:
            requests.append(f"resources.memory to {fit.memory_bytes // per_node // MIB // 256 * 256}Mi")
        fixes.append(f"lower {' and '.join(requests)} so {per_node} pods share a node")
    return fixes


def _desired_size_issue(load: Load, needed: int) -> ConfigIssue | None:
    """No autoscaler runs, so the group keeps desiredSize nodes: pods beyond them never schedule."""
    placed = load[0][0]
    group = placed.group
    if not group.resolved_desired_size < needed <= group.resolved_max_size:
        return None
    return ConfigIssue(f"{placed.group_path}.desiredSize", (
        f"node group {group.name!r}: its models need {plural(needed, group.instance_type + ' node')} but the group "
        f"runs {group.resolved_desired_size} (desiredSize, or minSize when unset) and no autoscaler adds "
        f"more, so the other pods would stay Pending; raise desiredSize to {needed}"
        + (", or set capacity: karpenter so nodes follow the autoscaled replicas"
           if any(p.model.autoscaling is not None for p, _ in load) else "")),
        (Fix(f"{placed.group_path}.desiredSize", needed),))
