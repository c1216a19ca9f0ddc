"""Updates the Kubernetes API server refuses: `pulumi up` fails on them instead of replacing the object.

pulumi-kubernetes replaces an object only on its forceNew paths or the resource's `replaceOnChanges`
(preview/replacement_rules.py); every other change is sent as a patch, which the API server checks with
the kind's update validation and admission plugins. Below, for the kinds this project renders, the fields
that check refuses to change and pulumi-kubernetes does not already replace on, each read in
kubernetes/kubernetes (master, stored copy of 2026):

- StorageClass `reclaimPolicy`, `volumeBindingMode` (also `parameters`, `provisioner`, which the provider
  replaces): pkg/apis/storage/validation/validation.go `ValidateStorageClassUpdate` ("updates to
  reclaimPolicy are forbidden.", `ValidateImmutableField(...VolumeBindingMode...)`). EfsStorage sets
  `replaceOnChanges` on both, so for this project's class they replace; another project's class fails.
- PersistentVolumeClaim `spec`, except `spec.resources.requests` and `spec.volumeAttributesClassName`:
  pkg/apis/core/validation/validation.go `ValidatePersistentVolumeClaimUpdate` ("spec is immutable after
  creation except resources.requests and volumeAttributesClassName for bound claims"); a smaller storage
  request is refused by the same function, and a larger one unless the claim's StorageClass sets
  `allowVolumeExpansion: true` (plugin/pkg/admission/storage/persistentvolume/resize/admission.go: "only
  dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support
  resize").

The other kinds this project renders either have no immutable field it sets beyond the provider's forceNew
table (Deployment and DaemonSet `spec.selector`, Job `spec.template`/`spec.selector`, Service
`spec.clusterIP`, ClusterRoleBinding `roleRef`), or none at all (Namespace, ServiceAccount, Secret without
`immutable`, NetworkPolicy, PodDisruptionBudget in policy/v1, ClusterRole).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..config.types import parse_quantity

_K8S = "kubernetes/kubernetes "
_STORAGE_CLASS = _K8S + "pkg/apis/storage/validation/validation.go (ValidateStorageClassUpdate)"
_CLAIM = _K8S + "pkg/apis/core/validation/validation.go (ValidatePersistentVolumeClaimUpdate)"
_RESIZE = _K8S + "plugin/pkg/admission/storage/persistentvolume/resize/admission.go (persistentVolumeClaimResize)"
CLAIM_STORAGE = "spec.resources.requests.storage"


@dataclass(frozen=True)
class Refusal:
    reason: str
    fix: str
    source: str


def _storage_class_refusal(path: str, old: Any, new: Any, plan: PlanView) -> Refusal | None:
    field = path.split(".", 1)[0].split("[", 1)[0]
    if field not in ("reclaimPolicy", "volumeBindingMode"):
        return None
    return Refusal(f"the API server refuses to update a StorageClass's {field}",
                   f"add replaceOnChanges: [\"{field}\"] and deleteBeforeReplace: true to the StorageClass "
                   f"(components/efs_storage.py does; created first under its own name, it would fail with AlreadyExists), "
                   f"or delete the class and let `pulumi up` create it again", _STORAGE_CLASS)


def _claim_refusal(path: str, old: Any, new: Any, plan: PlanView) -> Refusal | None:
    if path == CLAIM_STORAGE:
        return _resize_refusal(old, new, plan)
    if not path.startswith("spec.") or path.startswith(("spec.resources.requests", "spec.volumeAttributesClassName")):
        return None
    return Refusal("a bound claim's spec is immutable except its storage request",
                   "rename the claim (a new, empty volume) or leave the field as it is", _CLAIM)


def _resize_refusal(old: Any, new: Any, plan: PlanView) -> Refusal | None:
    try:
        before, after = parse_quantity(str(old)), parse_quantity(str(new))
    except (TypeError, ValueError):
        return None
    if after < before:
        return Refusal(f"a claim's storage request cannot shrink ({old} -> {new})",
                       f"keep {old}, or rename the claim (a new, empty volume)", _CLAIM)
    if after > before and plan.class_allows_expansion is False:
        return Refusal(
            f"StorageClass {plan.class_name!r} does not set allowVolumeExpansion, so the claim cannot grow ({old} -> {new})",
            "keep the old size (an EFS claim's size is nominal: EFS is elastic and the CSI driver enforces no size)",
            _RESIZE,
        )
    return None


@dataclass(frozen=True)
class PlanView:
    """What a refusal rule may need from the rest of the new render: the claim's StorageClass."""

    class_name: str | None = None
    class_allows_expansion: bool | None = None
    """None when the class is not in the render (another project's cluster): no verdict."""


_RULES: dict[str, Callable[[str, Any, Any, PlanView], Refusal | None]] = {
    "kubernetes:storage.k8s.io/v1:StorageClass": _storage_class_refusal,
    "kubernetes:core/v1:PersistentVolumeClaim": _claim_refusal,
}


def plan_view(resource: dict[str, Any], resources: list[dict[str, Any]]) -> PlanView:
    """The claim's StorageClass as the same render registers it (other kinds need nothing)."""
    name = ((resource.get("inputs") or {}).get("spec") or {}).get("storageClassName")
    if not name:
        return PlanView()
    for other in resources:
        inputs = other.get("inputs") or {}
        if other.get("type") == "kubernetes:storage.k8s.io/v1:StorageClass" and (inputs.get("metadata") or {}).get("name") == name:
            return PlanView(name, inputs.get("allowVolumeExpansion") is True)
    return PlanView(name, None)


def refusal(type_: str, path: str, old: Any, new: Any, view: PlanView) -> Refusal | None:
    """Why the API server would refuse to apply this change in place, if it would."""
    rule = _RULES.get(type_)
    return rule(path, old, new, view) if rule else None
