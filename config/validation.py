"""Every rule of a stack, run once, before anything is registered.

pydantic checks each entry on its own (config/stack.py and the models it holds); the rules here
span entries: unique names, the platform (config/platform/rules.py), each model against the node
group it names, the token hub models need, and placement (config/placement/). The result, a
`ValidatedStack`, carries what later steps need (per-model placement records with their sizing,
the warnings), so the program, the CLI and the components reuse it instead of checking again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from .accepted_warnings import split_accepted
from .autoscaling import autoscaling_issues
from .errors import ConfigError, ConfigIssue, Fix, PathPart, format_path
from .gateway import holds_requests_from_zero
from .gateway_rules import gateway_issues
from .image_catalog import image_issues
from .instance_catalog import INSTANCE_TYPES
from .model import ModelConfig, ModelSource
from .monitoring_rules import monitoring_issues, monitoring_warnings
from .neuron_scale_out import compiled_scale_out_issues
from .placement.checks import placement_issues, placement_warnings
from .placement.disk import disk_issues, disk_warnings
from .placement.records import PlacedModel, place
from .platform.node_groups import NodeGroupConfig
from .platform.rules import platform_issues, platform_warnings
from .python_terms import in_python_terms, python_text
from .scale_to_zero import scale_to_zero_issues, scale_to_zero_warnings
from .scheduler_catalog import scheduler_issues
from .stack import StackConfig
from .suggest import closest
from .tokens import SECRET_FIX, looks_like_token
from .vllm_facts.checks import vllm_issues, vllm_warnings
from .wording import either


@dataclass(frozen=True)
class ValidatedStack:
    """A stack that passed every rule, with what the rules computed on the way."""

    stack: StackConfig
    placed: tuple[PlacedModel, ...]
    """One record per model, in `models` order (every model is placed once the stack is valid)."""
    warnings: tuple[str, ...]
    """Legitimate but probably unintended setups; printed, fatal only under `--strict`."""
    accepted: tuple[tuple[str, str], ...] = ()
    """Warnings the stack's `acceptedWarnings` accepts: (warning, `key (phrase): reason`); printed, never fatal."""

    def placement(self, model: ModelConfig) -> PlacedModel:
        """The record of one of this stack's models."""
        found = next((placed for placed in self.placed if placed.model is model), None)
        if found is None:
            raise KeyError(f"model {model.name!r} is not one of this stack's models (pass the ModelConfig from ValidatedStack.stack)")
        return found


def validate_stack(stack: StackConfig, source: str = "stack config") -> ValidatedStack:
    """Run every cross-entry rule once; raise ConfigError listing every problem."""
    issues = _token_shaped_issues(stack.model_dump(mode="json", by_alias=True, exclude={
        "hf_token", "gateway_api_keys", "open_webui_secrets", "grafana_admin_password"}), ())
    issues += _duplicates(stack) + platform_issues(stack) + scheduler_issues(stack) + gateway_issues(stack) + monitoring_issues(stack)
    placed = []
    for index, model in enumerate(stack.models):
        record = _place_model(stack, index, model)
        if isinstance(record, PlacedModel):
            placed.append(record)
        else:
            issues.append(record)
        issues += _token_issues(stack, index, model)
        issues += image_issues(index, model) + compiled_scale_out_issues(index, model)
        holding = holds_requests_from_zero(stack.gateway)
        issues += autoscaling_issues(index, model, scraped=stack.monitoring.service_monitors, front_door_holds_requests=holding,
                                     monitoring=stack.monitoring.model_dump(mode="json", by_alias=True, exclude_unset=True))
        issues += scale_to_zero_issues(index, model, holding)
    issues += placement_issues(placed) + disk_issues(placed) + vllm_issues(placed)
    if issues:
        raise ConfigError(issues, source)
    warnings = (_idle_group_warnings(stack) + platform_warnings(stack) + placement_warnings(placed) + disk_warnings(placed)
                + vllm_warnings(placed) + monitoring_warnings(stack)
                + scale_to_zero_warnings(placed, stack.gateway, stack.monitoring.scrape_interval_seconds))
    kept, accepted = split_accepted(warnings, stack.accepted_warnings)
    return ValidatedStack(stack, tuple(placed), tuple(kept), tuple(accepted))


@dataclass(frozen=True)
class CheckedModel:
    """A model a VllmModel component checked itself (library mode), with its warnings in Python terms."""

    placed: PlacedModel
    warnings: tuple[str, ...]
    source: str
    """Who checked it: `VllmModel 'assistant'`."""


# The offline preview collects what library-mode components checked, to print their sizing table and
# rehearse them as it does a stack's models (preview/engine.py starts a collection per program run).
_LIBRARY_CHECKS: ContextVar[list[CheckedModel] | None] = ContextVar("vllm_eks_library_checks", default=None)


def collect_library_checks() -> list[CheckedModel]:
    """From now on in this context, every `check_model` result is appended to the list returned."""
    checks: list[CheckedModel] = []
    _LIBRARY_CHECKS.set(checks)
    return checks


def validate_model(model: ModelConfig, group: NodeGroupConfig, source: str) -> PlacedModel:
    """`check_model`'s placement record."""
    return check_model(model, group, source).placed


def check_model(model: ModelConfig, group: NodeGroupConfig, source: str) -> CheckedModel:
    """One model's rules against the node group it targets, for a model deployed outside a stack
    file (the VllmModel component used as a library): the same accelerator, image, sizing and
    placement rules and the same warnings a stack file gets, worded in Python terms.

    Left out: the token rule (whoever owns the namespace's Secret decides) and the running node
    count, since another cluster may run an autoscaler; `maxSize` still bounds the nodes.
    """
    leaks = _token_shaped_issues(model.model_dump(mode="json", by_alias=True), ("models", 0))
    mismatch = _accelerator_issue(model, group, "models[0]", "nodeGroups[0]")
    placed = place(0, model, group, 0)
    issues = leaks + autoscaling_issues(0, model) + (
        [mismatch] if mismatch else image_issues(0, model) + compiled_scale_out_issues(0, model) + placement_issues([placed], groups_run_as_configured=False))
    if issues:
        raise ConfigError([in_python_terms(issue) for issue in issues], source)
    checked = CheckedModel(placed, tuple(python_text(warning) for warning in placement_warnings([placed])), source)
    collected = _LIBRARY_CHECKS.get()
    if collected is not None:
        collected.append(checked)
    return checked


def _place_model(stack: StackConfig, index: int, model: ModelConfig) -> PlacedModel | ConfigIssue:
    """The model's record when its node group exists and offers its accelerator, else the issue."""
    path = f"models[{index}]"
    group_index = next((i for i, group in enumerate(stack.node_groups) if group.name == model.node_group), None)
    if group_index is None:
        known = ", ".join(repr(g.name) for g in stack.node_groups) or "none are configured"
        # The misspelt name, else the one group with the model's accelerator.
        offering = [group.name for group in stack.node_groups if group.accelerator is model.accelerator]
        meant = closest(model.node_group, [g.name for g in stack.node_groups]) or (
            offering[0] if len(offering) == 1 else None)
        return ConfigIssue(
            f"{path}.nodeGroup",
            f"node group {model.node_group!r} does not exist (node groups: {known}); " + (
                f"point the model at {meant!r} or add {model.node_group!r} under nodeGroups" if meant else
                "add it under nodeGroups or point the model at an existing one"),
            (Fix(f"{path}.nodeGroup", meant),) if meant else (),
        )
    group = stack.node_groups[group_index]
    return (_accelerator_issue(model, group, path, f"nodeGroups[{group_index}]", stack.node_groups)
            or place(index, model, group, group_index))


def _accelerator_issue(model: ModelConfig, group: NodeGroupConfig, path: str, group_path: str,
                       groups: Sequence[NodeGroupConfig] = ()) -> ConfigIssue | None:
    """The model and its node group disagree on the accelerator. A group of CPU instances can run no
    model, so the key to change is the group's instanceType; between two accelerators either side
    may be the mistake, and the model's accelerator is named, with the fix: another of `groups` that
    offers the model's accelerator, else the group's accelerator."""
    if group.accelerator is model.accelerator:
        return None
    if group.accelerator is None:
        kind = model.accelerator
        # Instances whose one node holds the pod's accelerators, smallest first: the first is the fix.
        choices = sorted((spec for spec in INSTANCE_TYPES.values() if spec.accelerator is kind
                          and spec.schedulable_accelerators >= model.accelerators_per_pod),
                         key=lambda spec: (spec.schedulable_accelerators, spec.vcpu, spec.name))
        return ConfigIssue(
            f"{group_path}.instanceType",
            f"{group.instance_type!r} has no accelerator, but {path} {model.name!r} runs on node group "
            f"{group.name!r} and needs {kind.value}; run the group on a {kind.value} instance type such as "
            f"{either([spec.name for spec in choices[:3]])}",
            (Fix(f"{group_path}.instanceType", choices[0].name),) if choices else (),
        )
    offered = group.accelerator.value
    other = next((g for g in groups if g.accelerator is model.accelerator), None)
    if other is not None:
        fix = f"point nodeGroup at {other.name!r} ({other.instance_type}) or change accelerator"
    else:
        fix = f"no node group runs {model.accelerator.value}: set accelerator: {offered} or add a {model.accelerator.value} node group"
    return ConfigIssue(
        f"{path}.accelerator",
        f"model {model.name!r} needs {model.accelerator.value} but node group {group.name!r} "
        f"runs {group.instance_type} ({offered}); {fix}",
        (Fix(f"{path}.nodeGroup", other.name) if other is not None else Fix(f"{path}.accelerator", offered),),
    )


def _token_shaped_issues(value: Any, path: tuple[PathPart, ...]) -> list[ConfigIssue]:
    """Every string of the config that holds a Hugging Face token (config/tokens.py), at its path:
    whatever the config holds is rendered in clear text into the manifests and plan.json."""
    if isinstance(value, str):
        return [ConfigIssue(format_path(path), (
            f"holds what looks like a Hugging Face token (hf_ and 34 letters), and every value in the stack "
            f"config is rendered in clear text into the manifests and plan.json; remove it and run {SECRET_FIX} "
            f"(the pods get the token from the namespace's hf-token Secret as HF_TOKEN)"
        ), (Fix(format_path(path), remove=True),))] if looks_like_token(value) else []
    if isinstance(value, dict):
        keys = [ConfigIssue(format_path(path), "has a key that looks like a Hugging Face token; remove it")
                for key in value if isinstance(key, str) and looks_like_token(key)]
        return keys + [issue for key, item in value.items() for issue in _token_shaped_issues(item, (*path, key))]
    if isinstance(value, list):
        return [issue for index, item in enumerate(value) for issue in _token_shaped_issues(item, (*path, index))]
    return []


def _token_issues(stack: StackConfig, index: int, model: ModelConfig) -> list[ConfigIssue]:
    if model.source is not ModelSource.HUB or stack.hf_token is not None:
        return []
    return [ConfigIssue(
        f"models[{index}].source",
        f"model {model.name!r} downloads {model.model!r} from the Hugging Face hub but no token "
        f"is configured; run `pulumi config set --secret hfToken <token>`, or serve weights "
        f"baked into the image with source: image",
    )]


def _idle_group_warnings(stack: StackConfig) -> list[str]:
    used = {model.node_group for model in stack.models}
    return [
        f"nodeGroups[{index}] {group.name!r} runs no model; its nodes cost money while idle "
        f"(fine for a platform-only stack)"
        for index, group in enumerate(stack.node_groups)
        if group.name not in used
    ]


def _duplicates(stack: StackConfig) -> list[ConfigIssue]:
    issues = []
    checks = [
        ("nodeGroups", "name", [group.name for group in stack.node_groups]),
        ("models", "name", [model.name for model in stack.models]),
        ("models", "servedModelName", [model.resolved_served_model_name for model in stack.models]),
    ]
    for section, field, values in checks:
        counts = Counter(values)
        seen: set[str] = set()
        for index, value in enumerate(values):
            if counts[value] > 1 and value in seen:
                first = values.index(value)
                free = next(name for n in range(2, len(values) + 3)  # a DNS label stays within 63 characters
                            if (name := f"{value[:62 - len(str(n))]}-{n}") not in values)
                issues.append(ConfigIssue(
                    f"{section}[{index}].{field}",
                    f"{value!r} is already used by {section}[{first}]; names must be unique in the stack: "
                    f"rename it, e.g. {free!r}", (Fix(f"{section}[{index}].{field}", free),),
                ))
            seen.add(value)
    return issues
