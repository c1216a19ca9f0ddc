"""Turn a Recording into what people read: a resource tree, manifests and a plan."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from ..config.loader import decode_json_string
from .engine import Recording, RegisteredResource

_TOP_LEVEL_ORDER = ("apiVersion", "kind", "metadata")
JSON_DOCUMENT_NOTE = ("string inputs that hold a JSON document (IAM and file system policies) are shown parsed, "
                      "so a review reads and diffs them by statement; the provider receives the string")


def manifest(resource: RegisteredResource) -> dict[str, Any]:
    """A Kubernetes object as sent to the provider: top-level keys in kubectl's order, the rest sorted."""
    inputs = _sorted(resource.inputs)
    ordered = {key: inputs[key] for key in _TOP_LEVEL_ORDER if key in inputs}
    ordered.update({key: value for key, value in inputs.items() if key not in ordered})
    return ordered


def manifests(recording: Recording) -> list[dict[str, Any]]:
    return [manifest(resource) for resource in sorted(recording.kubernetes_objects(), key=lambda r: (r.type, r.name))]


def manifest_path(obj: dict[str, Any]) -> str:
    """`vllm/deployment-llama.yaml`; cluster-scoped objects go under `_cluster/`."""
    metadata = obj.get("metadata", {})
    folder = metadata.get("namespace") or "_cluster"
    return f"{folder}/{obj['kind'].lower()}-{metadata.get('name', 'unnamed')}.yaml"


def plan(recording: Recording, rehearsal: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every registered resource with its type, name, parent, provider and inputs (secrets masked),
    and the deploy rehearsal (`preview.rehearsal.Rehearsal.as_plan()`) when given."""
    names = {resource.urn: resource.name for resource in recording.resources}
    extra = {"rehearsal": rehearsal} if rehearsal is not None else {}
    return {
        "stack": recording.stack,
        "note": JSON_DOCUMENT_NOTE,
        "resources": [
            {
                "urn": resource.urn,
                "type": resource.type,
                "name": resource.name,
                "parent": names.get(resource.parent or ""),
                "provider": _provider_name(resource.provider),
                "dependsOn": sorted(names[urn] for urn in resource.dependencies if urn in names),
                "protect": resource.protect,
                "retainOnDelete": resource.retain_on_delete,
                "customTimeouts": resource.custom_timeouts,
                "ignoreChanges": resource.ignore_changes,
                "replaceOnChanges": resource.replace_on_changes,
                # Only where set, so plans rendered before the key existed still compare equal.
                **({"deleteBeforeReplace": True} if resource.delete_before_replace else {}),
                "inputs": _readable(_sorted(resource.inputs)),
            }
            # Registration order varies with async scheduling; the plan must not.
            for resource in sorted(recording.resources, key=lambda r: (r.type, r.name))
        ],
        "outputs": recording.outputs,
        **extra,
    }


def write_render(recording: Recording, out_dir: Path, rehearsal: dict[str, Any] | None = None) -> list[Path]:
    """Write `manifests/**.yaml` and `plan.json` under `out_dir`, replacing an earlier render."""
    manifest_dir = out_dir / "manifests"
    if manifest_dir.exists():
        shutil.rmtree(manifest_dir)
    written = []
    for obj in manifests(recording):
        path = manifest_dir / manifest_path(obj)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(obj, sort_keys=False, width=1000))
        written.append(path)
    plan_path = out_dir / "plan.json"
    plan_path.write_text(json.dumps(plan(recording, rehearsal), indent=2) + "\n")
    return [*written, plan_path]


def resource_tree(recording: Recording) -> str:
    """Components and their children, indented, with type tokens (providers listed last)."""
    children: dict[str | None, list[RegisteredResource]] = {}
    urns = {resource.urn for resource in recording.resources}
    for resource in recording.resources:
        parent = resource.parent if resource.parent in urns else None
        children.setdefault(parent, []).append(resource)
    lines = [f"Stack {recording.stack}"]

    def walk(parent: str | None, depth: int) -> None:
        for resource in sorted(children.get(parent, []), key=lambda r: (r.is_provider, r.name)):
            lines.append(f"{'  ' * depth}{resource.name}  ({resource.type})")
            walk(resource.urn, depth + 1)

    walk(None, 1)
    return "\n".join(lines)


def _provider_name(reference: str | None) -> str | None:
    # A provider reference is "<urn>::<id>"; the URN's last segment is the provider's name.
    if not reference:
        return None
    urn = reference.rsplit("::", 1)[0]
    return urn.rsplit("::", 1)[-1]


def _readable(value: Any) -> Any:
    """JSON documents sent as strings (policies) parsed, with sorted keys; everything else as is."""
    if isinstance(value, dict):
        return {key: _readable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_readable(item) for item in value]
    document = decode_json_string(value)
    return _sorted(document) if isinstance(document, dict) else value


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted(item) for item in value]
    return value
