"""Every placement rule over the stack's placed models, in the order a user fixes them."""

from __future__ import annotations

from ..errors import ConfigIssue, Fix
from .accelerator_memory import memory_issue
from .converging import applied, count_fix, degree_fix
from .fit import accelerator_count_issue, degree_issue
from .host_memory import host_memory_issue
from .packing import group_issues
from .records import PlacedModel
from .requests import request_issues
from .warnings import model_warnings


def placement_issues(placed_models: list[PlacedModel], groups_run_as_configured: bool = True) -> list[ConfigIssue]:
    """`groups_run_as_configured` says the node groups keep their desiredSize (this project's, with
    no autoscaler); False for a cluster whose nodes an autoscaler may add, where only maxSize bounds the count."""
    issues: list[ConfigIssue] = []
    for placed in placed_models:
        issues += _model_issues(placed)
    return issues + group_issues(placed_models, groups_run_as_configured)


def placement_warnings(placed_models: list[PlacedModel]) -> list[str]:
    return [warning for placed in placed_models for warning in model_warnings(placed)]


def _model_issues(placed: PlacedModel) -> list[ConfigIssue]:
    issues = request_issues(placed)
    too_many = accelerator_count_issue(placed)
    if too_many:
        return issues + [count_fix(placed, too_many, _model_issues)]  # memory sizing at a degree that cannot be scheduled would only repeat this
    if not placed.sizing.sized:
        return issues
    unsharded = degree_issue(placed)
    if unsharded:
        return issues + [degree_fix(placed, unsharded, _model_issues)]
    too_big = memory_issue(placed)
    if too_big:
        return issues + [_with_host_memory(placed, too_big, issues)]
    if not any(issue.path == f"{placed.path}.resources.memory" for issue in issues):
        # Checked once the model fits its accelerators and its request fits the node: until then the
        # fix for those (another degree or instance) decides which node must hold the checkpoint.
        loading = host_memory_issue(placed)
        if loading:
            issues.append(loading)
    return issues


def _with_host_memory(placed: PlacedModel, too_big: ConfigIssue, issues: list[ConfigIssue]) -> ConfigIssue:
    """The accelerator-memory error, and the host-memory check its fix would meet next: fewer sequences, a shorter
    context or a larger degree change nothing a hub checkpoint loaded into host memory needs (host_memory.py), so
    where the request cannot hold it on the node the fix leaves, the error says so and carries both changes, and
    following it passes both checks."""
    if any(issue.path == f"{placed.path}.resources.memory" for issue in issues):
        return too_big  # the request does not fit the node: that error's fix decides the node first
    fixed = applied(placed, too_big.fixes) if too_big.fixes else None
    loading = host_memory_issue(fixed) if fixed is not None else None
    if loading is None:
        return too_big
    rest = loading.message.removeprefix(f"{placed.label}: ")
    fixes: tuple[Fix, ...] = too_big.fixes + loading.fixes if loading.fixes else ()
    return ConfigIssue(too_big.path, f"{too_big.message}; that alone would then fail the host-memory check: {rest}", fixes)
