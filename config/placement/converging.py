"""The value that fixes a placement error, found by running the placement rules on the changed model or node, so
the fix an error carries (and names) passes every check of that model rather than leading into the next one."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import ConfigIssue, Fix
from .alternatives import same_kind_instances
from .records import PlacedModel, place

Rules = Callable[[PlacedModel], list[ConfigIssue]]
"""Every placement rule of one model (checks.py `_model_issues`)."""


def on_instance(placed: PlacedModel, name: str) -> PlacedModel:
    """The model placed on its node group run on another instance type."""
    return place(placed.index, placed.model, placed.group.model_copy(update={"instance_type": name}), placed.group_index)


def at_degree(placed: PlacedModel, degree: int) -> PlacedModel:
    """The model placed at another tensor-parallel degree."""
    return place(placed.index, placed.model.model_copy(update={"tensor_parallel_size": degree}), placed.group,
                 placed.group_index)


def count_fix(placed: PlacedModel, issue: ConfigIssue, rules: Rules) -> ConfigIssue:
    """More accelerators per pod than a node has: the message's first advice, the family's smallest instance with
    enough, as data where the model then passes every rule there."""
    need = placed.model.accelerators_per_pod
    bigger = next((s for s in same_kind_instances(placed.model.accelerator, placed.spec.family)
                   if s.schedulable_accelerators >= need), None)
    if bigger is None:
        return issue
    move = Fix(f"{placed.group_path}.instanceType", bigger.name)
    then = rules(on_instance(placed, bigger.name))
    if not then:
        return ConfigIssue(issue.path, issue.message, (move,))
    if len(then) > 1 or not then[0].fixes or any(fix.path == move.path for fix in then[0].fixes):
        return issue
    # One check the larger node meets next (a hub checkpoint the request cannot hold): said, and its fix carried.
    rest = then[0].message.removeprefix(f"{placed.label}: ")
    return ConfigIssue(issue.path, f"{issue.message}; on {bigger.name}, {rest}", (move, *then[0].fixes))


def degree_fix(placed: PlacedModel, issue: ConfigIssue, rules: Rules) -> ConfigIssue:
    """A degree the heads do not shard at: of the degrees the message lists, the smallest at which the model passes
    every rule on its node, named and carried as data."""
    arch, rule = placed.sizing.architecture, placed.traits.head_sharding
    if arch is None:
        return issue
    most = placed.spec.schedulable_accelerators // placed.model.pipeline_parallel_size
    degrees = rule.clean_degrees(arch.attention_heads, arch.kv_heads, most)  # as fit.py lists them
    found = next((degree for degree in degrees if not rules(at_degree(placed, degree))), None)
    if found is None:
        return issue
    return ConfigIssue(issue.path, f"{issue.message}; the smallest that passes every check on {placed.spec.name} is {found}",
                       (Fix(f"{placed.path}.tensorParallelSize", found),))


_MODEL_FIELDS = {"tensorParallelSize": "tensor_parallel_size", "maxNumSeqs": "max_num_seqs", "maxModelLen": "max_model_len"}


def applied(placed: PlacedModel, fixes: tuple[Fix, ...]) -> PlacedModel | None:
    """The model placed as `fixes` leave it (its sizing keys and its node group's instance type); None for a change
    to any other key."""
    model, group = placed.model, placed.group
    for fix in fixes:
        key = fix.path.removeprefix(f"{placed.path}.")
        if key in _MODEL_FIELDS:
            model = model.model_copy(update={_MODEL_FIELDS[key]: fix.value})
        elif fix.path == f"{placed.group_path}.instanceType":
            group = group.model_copy(update={"instance_type": fix.value})
        else:
            return None
    return place(placed.index, model, group, placed.group_index)
