"""Nodes and hourly cost of each node group at the models' fewest and most replicas, for the sizing table."""

from __future__ import annotations

from dataclasses import dataclass

from ..autoscaling import replica_bounds
from ..platform.node_groups import NodeGroupConfig
from ..prices import hourly_price
from ..stack import StackConfig
from .packing import group_loads, nodes_needed
from .records import PlacedModel


@dataclass(frozen=True)
class GroupCapacity:
    group: NodeGroupConfig
    models: tuple[tuple[str, int, int], ...]
    """(model, fewest, most replicas) of the models on the group."""
    nodes_at_min: int
    nodes_at_max: int
    price: float | None

    def cost(self, nodes: int) -> float | None:
        return None if self.price is None else nodes * self.price


def group_capacity(stack: StackConfig, placed: list[PlacedModel]) -> list[GroupCapacity]:
    """A managed group runs desiredSize nodes whatever the replicas; a Karpenter group runs what the pods fill."""
    loads = {load[0][0].group.name: load for load in group_loads(placed)}
    found = []
    for group in [stack.system_node_group, *stack.node_groups]:
        load = loads.get(group.name, [])
        models = tuple((p.model.name, *replica_bounds(p.model)) for p, _ in load)
        if group.is_karpenter:
            at_min, at_max = nodes_needed(load, at_minimum=True), nodes_needed(load)
        else:
            at_min = at_max = group.resolved_desired_size
        found.append(GroupCapacity(group, models, at_min, at_max, hourly_price(group.instance_type)))
    return found


def total_cost(capacities: list[GroupCapacity], at_max: bool) -> float | None:
    costs = [c.cost(c.nodes_at_max if at_max else c.nodes_at_min) for c in capacities]
    return None if any(cost is None for cost in costs) else sum(cost for cost in costs if cost is not None)
