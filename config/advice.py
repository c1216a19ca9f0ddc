"""Advice that needs the rest of the stack, so that following a message never leads into the next.

A field's own validator sees one value; the value that fixes it may depend on the model's other keys (a path
in the image means `source: image`), on its node group (the accelerator its instances have, the smallest
tensor-parallel degree the model fits), on the model catalog (an architecture's shape) or on the rules a
suggested value meets next (`1.30`, quoted as meant, is past EKS extended support). Here the issues pydantic
reported for a stack file get that advice: a concrete message and the fix as data, checked against every rule
before it is printed (tests/test_advice_converges.py applies each).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from .errors import DEFAULT_NOTE, ConfigError, ConfigIssue, Fix, issues_from_validation_error
from .instance_catalog import INSTANCE_TYPES
from .model import ModelSource
from .model_catalog import match_model
from .stack import StackConfig
from .validation import validate_stack

_MODEL_KEY = re.compile(r"^models\[(?P<index>\d+)\]\.(?P<key>.+)$")
_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
# Degrees tried for a tensor-parallel size below 1: one node holds at most this many accelerators (trn1.32xlarge).
_LARGEST_DEGREE = 32


def stack_issues(values: dict[str, Any]) -> list[ConfigIssue]:
    """Every problem of project config values (decoded), as `validate_stack_config` reports them; none when valid."""
    try:
        stack = StackConfig.model_validate(values, by_alias=True, by_name=False)
    except ValidationError as error:
        return issues_from_validation_error(error, root=StackConfig, data=values)
    try:
        validate_stack(stack)
    except ConfigError as error:
        return error.issues
    return []


def with_stack_advice(issues: list[ConfigIssue], values: dict[str, Any]) -> list[ConfigIssue]:
    """`issues` (pydantic's, for `values`) with the advice the rest of the stack gives."""
    return [_followed(_advised(issue, values), values) for issue in issues]


def _advised(issue: ConfigIssue, values: dict[str, Any]) -> ConfigIssue:
    match = _MODEL_KEY.match(issue.path)
    models = values.get("models")
    if match is None or not isinstance(models, list) or int(match["index"]) >= len(models):
        return issue
    model = models[int(match["index"])]
    advice = _MODEL_ADVICE.get(match["key"].split(".")[0])
    found = advice(issue, int(match["index"]), model, values) if advice is not None and isinstance(model, dict) else None
    if found is None:
        return issue
    text, fix = found
    return ConfigIssue(issue.path, issue.message.split(DEFAULT_NOTE)[0] + text, (Fix(issue.path, fix),))


def _accelerator(issue: ConfigIssue, index: int, model: dict[str, Any], values: dict[str, Any]) -> tuple[str, Any] | None:
    """An accelerator no backend has: the one the model's node group runs."""
    if issue.fixes:
        return None
    group = _group(model, values)
    spec = INSTANCE_TYPES.get(str(group.get("instanceType"))) if group else None
    if group is None or spec is None or spec.accelerator is None:
        return None
    kind = spec.accelerator.value
    return f"; node group {group['name']!r} runs {spec.name} ({kind}): write {kind!r}", kind


def _source(issue: ConfigIssue, index: int, model: dict[str, Any], values: dict[str, Any]) -> tuple[str, Any] | None:
    """A source that is neither: what `model` names, a path inside the image or a hub id."""
    name = model.get("model")
    if not isinstance(name, str) or not name or not issue.message.startswith("must be one of"):
        return None
    if name.startswith("/"):
        return f"; model {name!r} is a path inside the image: write {ModelSource.IMAGE.value!r}", ModelSource.IMAGE.value
    return f"; model {name!r} is a Hugging Face hub id: write {ModelSource.HUB.value!r}", ModelSource.HUB.value


def _degree(issue: ConfigIssue, index: int, model: dict[str, Any], values: dict[str, Any]) -> tuple[str, Any] | None:
    """A tensor-parallel size below 1: the smallest degree at which the model passes every check on its node
    group (memory, head sharding, the node's accelerators), found by the rules themselves."""
    given = model.get("tensorParallelSize")
    group = _group(model, values)
    if not isinstance(given, int) or given >= 1 or group is None:
        return None
    spec = INSTANCE_TYPES.get(str(group.get("instanceType")))
    for degree in range(1, (spec.schedulable_accelerators if spec else _LARGEST_DEGREE) + 1):
        trial = copy.deepcopy(values)
        trial["models"][index]["tensorParallelSize"] = degree
        if not any(_MODEL_KEY.match(other.path) and other.path.startswith(f"models[{index}].")
                   for other in stack_issues(trial)):
            where = f"node group {group['name']!r}" + (f" ({spec.name})" if spec else "")
            return f"; the smallest degree at which models[{index}] passes every check on {where} is {degree}", degree
    return None


def _architecture(issue: ConfigIssue, index: int, model: dict[str, Any], values: dict[str, Any]) -> tuple[str, Any] | None:
    """A shape of an inline architecture block that is not a number, for a model the catalog knows: its value."""
    key = issue.path.rsplit(".", 1)[-1]
    arch, _ = match_model(str(model.get("model", "")))
    attribute = re.sub(r"(?<!^)([A-Z])", r"_\1", key).lower()
    value = getattr(arch, attribute, None) if arch is not None else None
    if issue.fixes or not isinstance(value, (int, float)) or isinstance(value, bool) or not value:
        return None
    return f"; model {model.get('model')!r} is the catalog's {arch.hf_id if arch else ''}, with {key} {value}: write {value}", value


_MODEL_ADVICE: dict[str, Callable[[ConfigIssue, int, dict[str, Any], dict[str, Any]], tuple[str, Any] | None]] = {
    "accelerator": _accelerator, "source": _source, "tensorParallelSize": _degree, "architecture": _architecture,
}


def _group(model: dict[str, Any], values: dict[str, Any]) -> dict[str, Any] | None:
    groups = values.get("nodeGroups")
    if not isinstance(groups, list):
        return None
    return next((group for group in groups if isinstance(group, dict) and group.get("name") == model.get("nodeGroup")), None)


def _followed(issue: ConfigIssue, values: dict[str, Any]) -> ConfigIssue:
    """A suggested value that the rules refuse next at the same key (the version quoted as meant, past support):
    the message says so, and the fix is what that next message suggests."""
    if len(issue.fixes) != 1 or issue.fixes[0].remove or issue.fixes[0].rename is not None:
        return issue
    trial = copy.deepcopy(values)
    if not _set(trial, issue.fixes[0]):
        return issue
    following = next((other for other in stack_issues(trial) if other.path == issue.path and other.fixes), None)
    if following is None:
        return issue
    return ConfigIssue(issue.path, f"{issue.message}; but that is refused too: {following.message}", following.fixes)


def _set(values: dict[str, Any], fix: Fix) -> bool:
    """Set the fix's value in the project's config values; False when its path is not there (another namespace)."""
    parts: list[Any] = [int(index) if index else key for key, index in _PART.findall(fix.path)]
    parent: Any = values
    for part in parts[:-1]:
        try:
            parent = parent[part]
        except (KeyError, IndexError, TypeError):
            return False
    if not isinstance(parent, (dict, list)) or ":" in str(parts[0]):
        return False
    try:
        parent[parts[-1]] = fix.value
    except (IndexError, TypeError):
        return False
    return True
