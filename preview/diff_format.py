"""`vllm-eks diff` as text and as a pull-request comment (markdown): one line per resource, its
changed paths beneath, then why each replacement happens and what it means, the sizing table's
changed lines, the deploy rehearsal's and the outputs'."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from .diff import MISSING, Change, ResourceDiff, StackDiff
from .diff_cascade import PROVIDER_SOURCE
from .replacement_rules import ADDED_CONSEQUENCES, ReplacementRule


def value_text(value: Any) -> str:
    if value is MISSING:
        return "(none)"
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _change_line(change: Change) -> str:
    line = f"{change.path}: {value_text(change.old)} -> {value_text(change.new)}"
    if change.ignored:
        line += "  (ignoreChanges: not applied)"
    elif change.replaces is not None:
        line += "  [forces replacement]"
    elif change.refused is not None:
        line += "  [refused by the API server]"
    return line


def summary(diff: StackDiff) -> str:
    if not diff.changed:
        return "No changes."
    parts = [f"{diff.count('+')} to add", f"{diff.count('-')} to remove", f"{diff.count('~')} to update in place",
             f"{diff.count('!')} to replace"]
    rolls = sum(1 for resource in diff.resources if resource.roll is not None)
    if rolls:
        parts.append(f"{rolls} node group(s) to roll")
    if diff.refused:
        parts.append(f"{len(diff.refused)} update(s) the API server refuses (`pulumi up` fails)")
    extras = [label for label, present in (("sizing", diff.sizing), ("deploy rehearsal", diff.rehearsal), ("outputs", diff.outputs)) if present]
    text = ", ".join(parts)
    return text + (f"; changed: {', '.join(extras)}" if extras else "")


def resource_lines(diff: StackDiff) -> list[str]:
    lines = []
    for resource in diff.resources:
        header = f"{resource.action} {resource.type} {resource.name}"
        if resource.action == "!":
            forced = sorted({change.path for change in resource.replacing})
            header += f"  (replaced: {', '.join(forced)})"
        elif resource.refused:
            header += "  (the API server refuses this update: `pulumi up` fails)"
        elif resource.roll is not None:
            header += f"  (rolls all {resource.roll.nodes} node(s), {resource.roll.max_unavailable} at a time)"
        elif resource.action == "~" and not resource.rules_known:
            header += "  (no replacement rules for this type: check `pulumi preview --diff`)"
        lines.append(header)
        lines += [f"    {_change_line(change)}" for change in resource.changes]
    return lines


def replacement_reasons(diff: StackDiff) -> list[str]:
    """One line per (resource, rule): why it is replaced, what that means, and the source."""
    lines = _provider_cascade(diff)
    for resource in diff.resources:
        seen: list[ReplacementRule] = []
        for change in resource.replacing:
            rule = change.replaces
            if rule is None or rule in seen or change.path == "provider":
                continue
            seen.append(rule)
            paths = sorted({c.path for c in resource.replacing if c.replaces == rule})
            text = f"{resource.name}: {', '.join(paths)} forces replacement"
            if rule.consequence:
                text += f"; {rule.consequence}"
            if resource.type.startswith("kubernetes:"):
                text += "; " + ("deleted before it is re-created (same name and namespace), so it is gone in between"
                                if resource.delete_first else "the new object is created before the old one is deleted")
            lines.append(f"{text} (source: {rule.source})")
    return lines


def _provider_cascade(diff: StackDiff) -> list[str]:
    """One line per replaced Kubernetes provider: how many objects go with it, by kind, and what that means."""
    by_provider: dict[str, list[ResourceDiff]] = {}
    for resource in diff.resources:
        for change in resource.replacing:
            if change.path == "provider":
                by_provider.setdefault(str(change.old), []).append(resource)
    lines = []
    for provider, replaced in sorted(by_provider.items()):
        kinds = Counter(resource.type.rsplit(":", 1)[-1] for resource in replaced)
        counted = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
        claims = kinds.get("PersistentVolumeClaim", 0)
        lines.append(
            f"{provider}: the Kubernetes provider is replaced (its kubeconfig comes from a replaced cluster), so all "
            f"{len(replaced)} Kubernetes objects on it are replaced ({counted}) and created on the new cluster"
            + (f"; its {claims} claim(s) bind new, empty EFS access points, so every hub model downloads (and every "
               f"Neuron model compiles) again" if claims else "")
            + f" (source: {PROVIDER_SOURCE})"
        )
    return lines


def notes(diff: StackDiff) -> list[str]:
    """Replacements with their reasons and sources, node-group rolls, refused updates, then what some additions imply."""
    rolls = [resource.roll.text(resource.name) for resource in diff.resources if resource.roll is not None]
    refused = [
        f"{resource.name}: {change.path}: {change.refused.reason}; `pulumi up` fails on it; {change.refused.fix} "
        f"(source: {change.refused.source})"
        for resource in diff.resources for change in resource.refused if change.refused is not None
    ]
    added = [
        f"{resource.name}: {ADDED_CONSEQUENCES[resource.type]}"
        for resource in diff.resources if resource.action == "+" and resource.type in ADDED_CONSEQUENCES
    ]
    return replacement_reasons(diff) + rolls + refused + added


def format_text(diff: StackDiff) -> str:
    lines = [f"Offline diff {diff.base} -> {diff.head}: {summary(diff)}"]
    if diff.resources:
        lines += ["", *resource_lines(diff)]
    reasons = notes(diff)
    if reasons:
        lines += ["", "Notes:", *[f"  {reason}" for reason in reasons]]
    if diff.sizing:
        lines += ["", "Sizing:", *[f"  {line}" for line in diff.sizing]]
    if diff.rehearsal:
        lines += ["", "Deploy rehearsal:", *[f"  {_change_line(change)}" for change in diff.rehearsal]]
    if diff.outputs:
        lines += ["", "Outputs:", *[f"  {_change_line(change)}" for change in diff.outputs]]
    return "\n".join(lines) + "\n"


def format_markdown(diff: StackDiff, title: str | None = None) -> str:
    """A pull-request comment: summary, the resource diff (GitHub colours `diff` blocks), reasons, sizing."""
    lines = [f"### {title or 'vllm-eks offline diff'}", "", f"`{diff.base}` → `{diff.head}`: **{summary(diff)}**"]
    if diff.resources:
        lines += ["", "```diff", *resource_lines(diff), "```"]
    reasons = notes(diff)
    if reasons:
        lines += ["", "**Notes**", "", *[f"- {reason}" for reason in reasons]]
    if diff.sizing:
        lines += ["", "**Sizing**", "", "```diff", *diff.sizing, "```"]
    if diff.rehearsal:
        lines += ["", "**Deploy rehearsal**", "", "```", *[_change_line(change) for change in diff.rehearsal], "```"]
    if diff.outputs:
        lines += ["", "**Outputs**", "", "```", *[_change_line(change) for change in diff.outputs], "```"]
    return "\n".join(lines) + "\n"
