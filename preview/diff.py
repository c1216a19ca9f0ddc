"""Compare two offline renders (`vllm-eks render` folders): what a pull request changes, per resource.

Resources are matched by type and name (Pulumi's URN is the stack, parent types, type and name;
a changed URN under the same type and name means a new parent, which Pulumi also replaces). Each
change is an input path with old -> new values; secrets were masked to `[secret]` when rendered,
so they stay masked here. A change that forces Pulumi to replace the resource is marked `!`
with the rule and its upstream source (preview/replacement_rules.py). Output is sorted and has
no timings, so the same two renders always give the same text.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config.loader import decode_json_string
from .diff_cascade import (
    KUBERNETES_PROVIDER,
    LAUNCH_TEMPLATE,
    PROVIDER_CONFIG_REPLACED,
    NodeGroupRoll,
    node_group_roll,
    on_provider,
    provider_rule,
    replaced_providers,
    version_paths,
)
from .node_match import NODE_GROUP
from .replacement_rules import ReplacementRule, covered_by, has_rules, replace_on_changes_rule, replacing_rule
from .update_refusals import Refusal, plan_view, refusal

SIZING_FILE = "sizing.txt"
PLAN_FILE = "plan.json"
_OPTION_KEYS = ("parent", "provider", "dependsOn", "protect", "retainOnDelete", "customTimeouts", "ignoreChanges",
                "replaceOnChanges", "deleteBeforeReplace")
REHEARSAL_KEY = "rehearsal"
"""Where `vllm-eks render` puts the deploy rehearsal in plan.json (preview/rehearsal)."""


@dataclass(frozen=True)
class Render:
    """One render folder, read back: its plan and (for this project's stacks) the sizing table."""

    label: str
    plan: dict[str, Any]
    sizing: list[str] | None = None
    """Sizing-table lines; None when the render did not record one (another project, older code)."""

    @classmethod
    def read(cls, folder: Path, label: str | None = None) -> Render:
        plan_path = folder / PLAN_FILE
        if not plan_path.is_file():
            raise FileNotFoundError(f"{plan_path} does not exist; make it with `vllm-eks render --stack NAME --out {folder}`")
        sizing_path = folder / SIZING_FILE
        sizing = sizing_path.read_text().splitlines() if sizing_path.is_file() else None
        return cls(label or str(folder), json.loads(plan_path.read_text()), sizing)

    @classmethod
    def empty(cls, label: str) -> Render:
        """A stack that does not exist on one side: everything on the other side is added or removed."""
        return cls(label, {"resources": [], "outputs": {}}, [])


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()
"""Where one side has no value at a path (a key added or removed)."""


@dataclass(frozen=True)
class Change:
    path: str
    old: Any
    new: Any
    replaces: ReplacementRule | None = None
    ignored: bool = False
    """Under the resource's ignoreChanges: Pulumi will not apply it."""
    refused: Refusal | None = None
    """An in-place update the API server refuses (preview/update_refusals.py): `pulumi up` fails on it."""


@dataclass
class ResourceDiff:
    type: str
    name: str
    action: str
    """`+` added, `-` removed, `~` updated in place, `!` replaced."""
    changes: list[Change] = field(default_factory=list)
    rules_known: bool = True
    """False when this project has no replacement table for the type (changes shown without a verdict)."""
    delete_first: bool = False
    """A Kubernetes object replaced under the same name and namespace is deleted before it is re-created
    (pulumi-kubernetes provider/pkg/provider/provider.go, Diff: deleteBeforeReplace)."""
    roll: NodeGroupRoll | None = None
    """A managed node group whose launch template makes a new version: every node is replaced."""

    @property
    def replacing(self) -> list[Change]:
        return [change for change in self.changes if change.replaces is not None]

    @property
    def refused(self) -> list[Change]:
        return [change for change in self.changes if change.refused is not None]


@dataclass
class StackDiff:
    base: str
    head: str
    resources: list[ResourceDiff]
    sizing: list[str]
    """Changed sizing-table lines, `-`/`+` prefixed."""
    rehearsal: list[Change]
    outputs: list[Change]

    @property
    def changed(self) -> bool:
        return bool(self.resources or self.sizing or self.rehearsal or self.outputs)

    def count(self, action: str) -> int:
        return sum(1 for resource in self.resources if resource.action == action)

    @property
    def refused(self) -> list[ResourceDiff]:
        return [resource for resource in self.resources if resource.refused]


def diff_renders(base: Render, head: Render) -> StackDiff:
    old = {(r["type"], r["name"]): r for r in base.plan.get("resources", [])}
    new = {(r["type"], r["name"]): r for r in head.plan.get("resources", [])}
    resources = []
    head_resources = list(new.values())
    for key in sorted(old.keys() | new.keys()):
        type_, name = key
        if key not in old:
            resources.append(ResourceDiff(type_, name, "+"))
        elif key not in new:
            resources.append(ResourceDiff(type_, name, "-"))
        else:
            resource = _resource_diff(old[key], new[key], head_resources)
            if resource is not None:
                resources.append(resource)
    return StackDiff(
        base=base.label, head=head.label, resources=_with_cascades(old, new, resources),
        sizing=_line_changes(base.sizing, head.sizing) if base.sizing is not None and head.sizing is not None else [],
        rehearsal=_value_changes(_rehearsal(base.plan), _rehearsal(head.plan)),
        outputs=_value_changes(base.plan.get("outputs", {}), head.plan.get("outputs", {})),
    )


def _rehearsal(plan: dict[str, Any]) -> Any:
    return plan.get(REHEARSAL_KEY, {})


def _resource_diff(old: dict[str, Any], new: dict[str, Any], head: list[dict[str, Any]]) -> ResourceDiff | None:
    type_ = new["type"]
    ignore = list(new.get("ignoreChanges") or [])
    replace_on = list(new.get("replaceOnChanges") or [])
    view = plan_view(new, head)
    changes = []
    for path, before, after in _leaf_changes(old.get("inputs", {}), new.get("inputs", {})):
        ignored = covered_by(ignore, path)
        rule = None if ignored else (replacing_rule(type_, path) or replace_on_changes_rule(replace_on, path))
        refused = None if ignored or rule else refusal(type_, path, before, after, view)
        changes.append(Change(path, before, after, rule, ignored, refused))
    if old.get("urn") and new.get("urn") and old["urn"] != new["urn"]:
        changes.append(Change("urn", old["urn"], new["urn"], _REPARENTED))
    for key in _OPTION_KEYS:
        if key == "parent" and old.get("urn") and new.get("urn"):
            continue  # a new parent shows as the URN change above
        if key == "dependsOn":
            # A set: show what left and what joined, not a shifted list.
            before, after = set(old.get(key) or []), set(new.get(key) or [])
            if before != after:
                changes.append(Change("options.dependsOn", sorted(before - after), sorted(after - before)))
            continue
        for path, before, after in _leaf_changes(old.get(key), new.get(key), f"options.{key}"):
            changes.append(Change(path, before, after, _REPARENTED if key == "parent" else None))
    if not changes:
        return None
    action = "!" if any(change.replaces for change in changes) else "~"
    # pulumi-kubernetes deletes first only when its own Diff replaces (a forceNew path: provider.go Diff,
    # v4.32.0); a replaceOnChanges replacement keeps that verdict (pulumi/pulumi step_generator.go
    # applyReplaceOnChanges), so it deletes first only with the deleteBeforeReplace option.
    provider_replaces = any(replacing_rule(type_, change.path) for change in changes if not change.ignored)
    delete_first = action == "!" and (bool(new.get("deleteBeforeReplace")) or (
        provider_replaces and _object_identity(old) == _object_identity(new)))
    return ResourceDiff(type_, new["name"], action, changes, rules_known=has_rules(type_), delete_first=delete_first)


def _with_cascades(old: dict[tuple[str, str], Any], new: dict[tuple[str, str], Any],
                   resources: list[ResourceDiff]) -> list[ResourceDiff]:
    """Add what the per-resource diff cannot see (preview/diff_cascade.py): objects replaced with their
    Kubernetes provider, and node groups rolled by a new launch template version."""
    by_key = {(r.type, r.name): r for r in resources}
    head = list(new.values())

    def touched(key: tuple[str, str]) -> ResourceDiff | None:
        if key not in old or key not in new:
            return None  # added or removed anyway
        return by_key.setdefault(key, ResourceDiff(key[0], key[1], "~"))

    replaced = {r.name for r in resources if r.action == "!"}
    for provider in replaced_providers(head, replaced):
        diff = touched((KUBERNETES_PROVIDER, provider))
        if diff is not None:
            diff.changes.append(Change("kubeconfig", "[secret]", "(the new cluster's, unknown until it exists)", PROVIDER_CONFIG_REPLACED))
            diff.action = "!"
        for resource in on_provider(head, provider):
            diff = touched((resource["type"], resource["name"]))
            if diff is not None and diff.action != "!":
                diff.changes.append(Change("provider", provider, f"{provider} (replaced)", provider_rule(resource["type"], provider)))
                diff.action, diff.delete_first = "!", False  # created on the new cluster before the old object goes
    templates = {r.name: version_paths([c.path for c in r.changes if not c.ignored])
                 for r in resources if r.type == LAUNCH_TEMPLATE and r.action == "~"}
    for key, group in new.items():
        if key[0] != NODE_GROUP or key not in old or (key in by_key and by_key[key].action == "!"):
            continue
        roll = node_group_roll(group, templates, head)
        diff = touched(key) if roll else None
        if diff is not None and roll is not None:
            version = ((group.get("inputs") or {}).get("launchTemplate") or {}).get("version")
            diff.changes.append(Change("launchTemplate.version", version, f"(the new version of {roll.launch_template})"))
            diff.roll = roll
    return [by_key[key] for key in sorted(by_key)]


def _object_identity(resource: dict[str, Any]) -> tuple[Any, Any]:
    metadata = (resource.get("inputs") or {}).get("metadata") or {}
    return metadata.get("name"), metadata.get("namespace")


_REPARENTED = ReplacementRule(
    ("urn",), "Pulumi URNs include the parent's type (pulumi/pulumi sdk/go/common/resource/urn.go); a new URN is a new resource unless aliased",
)


def _leaf_changes(old: Any, new: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Every changed leaf as (path, old, new); MISSING where a side has no value there."""
    # A policy or add-on configuration string compares as the document it holds, so a changed
    # statement shows as its own path, and a render that printed it parsed matches one that kept the string.
    old, new = decode_json_string(old), decode_json_string(new)
    if old == new:
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        changes = []
        for key in sorted(old.keys() | new.keys()):
            changes += _leaf_changes(old.get(key, MISSING), new.get(key, MISSING), join_key(path, str(key)))
        return changes
    if isinstance(old, list) and isinstance(new, list):
        return _list_changes(old, new, path)
    return [(path, old, new)]


_PLAIN_KEY = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$-]*$")


def join_key(path: str, key: str) -> str:
    """Pulumi's property-path syntax: `a.b`, and `a["node.kubernetes.io/instance-type"]` for keys with dots or slashes."""
    if _PLAIN_KEY.match(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


def _list_changes(old: list[Any], new: list[Any], path: str) -> list[tuple[str, Any, Any]]:
    # Named items (containers, env, ports, volumes) pair by name, so inserting one changes one path.
    old_names, new_names = _names(old), _names(new)
    if old_names is not None and new_names is not None:
        old_by, new_by = dict(zip(old_names, old, strict=True)), dict(zip(new_names, new, strict=True))
        order = old_names + [name for name in new_names if name not in old_by]
        changes = []
        for name in order:
            changes += _leaf_changes(old_by.get(name, MISSING), new_by.get(name, MISSING), f"{path}[name={name}]")
        return changes
    if len(old) == len(new):
        changes = []
        for index, (before, after) in enumerate(zip(old, new, strict=True)):
            changes += _leaf_changes(before, after, f"{path}[{index}]")
        return changes
    # Scalars of different lengths (args): report insertions and deletions, not a shifted tail.
    keys_old, keys_new = [_key(item) for item in old], [_key(item) for item in new]
    changes = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=keys_old, b=keys_new, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:
            for offset in range(i2 - i1):
                changes += _leaf_changes(old[i1 + offset], new[j1 + offset], f"{path}[{j1 + offset}]")
            continue
        changes += [(f"{path}[{i}]", old[i], MISSING) for i in range(i1, i2)]
        changes += [(f"{path}[{j}]", MISSING, new[j]) for j in range(j1, j2)]
    return changes


def _names(items: list[Any]) -> list[str] | None:
    if not items or not all(isinstance(item, dict) and isinstance(item.get("name"), str) for item in items):
        return None
    names = [item["name"] for item in items]
    return names if len(set(names)) == len(names) else None


def _key(item: Any) -> str:
    return json.dumps(item, sort_keys=True)


def _value_changes(old: Any, new: Any) -> list[Change]:
    return [Change(path, before, after) for path, before, after in _leaf_changes(old, new)]


def _line_changes(old: list[str], new: list[str]) -> list[str]:
    lines = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag != "equal":
            lines += [f"- {line}" for line in old[i1:i2]] + [f"+ {line}" for line in new[j1:j2]]
    return lines
