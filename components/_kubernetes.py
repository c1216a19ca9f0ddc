"""Register a builder's plain-dict Kubernetes object as its typed pulumi-kubernetes resource."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

_KINDS: dict[tuple[str, str], type[pulumi.CustomResource]] = {
    ("v1", "Namespace"): k8s.core.v1.Namespace,
    ("v1", "PersistentVolumeClaim"): k8s.core.v1.PersistentVolumeClaim,
    ("v1", "Secret"): k8s.core.v1.Secret,
    ("v1", "ConfigMap"): k8s.core.v1.ConfigMap,
    ("v1", "Service"): k8s.core.v1.Service,
    ("v1", "ServiceAccount"): k8s.core.v1.ServiceAccount,
    ("apps/v1", "Deployment"): k8s.apps.v1.Deployment,
    ("apps/v1", "DaemonSet"): k8s.apps.v1.DaemonSet,
    ("batch/v1", "Job"): k8s.batch.v1.Job,
    ("networking.k8s.io/v1", "NetworkPolicy"): k8s.networking.v1.NetworkPolicy,
    ("networking.k8s.io/v1", "Ingress"): k8s.networking.v1.Ingress,
    ("policy/v1", "PodDisruptionBudget"): k8s.policy.v1.PodDisruptionBudget,
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): k8s.rbac.v1.ClusterRole,
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): k8s.rbac.v1.ClusterRoleBinding,
    ("rbac.authorization.k8s.io/v1", "Role"): k8s.rbac.v1.Role,
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): k8s.rbac.v1.RoleBinding,
    ("storage.k8s.io/v1", "StorageClass"): k8s.storage.v1.StorageClass,
}
# Top-level fields the typed classes take as Python keywords in snake_case; nested dicts
# pass through in the Kubernetes spelling, which the provider receives unchanged.
_KEYWORDS = {
    "stringData": "string_data",
    "allowVolumeExpansion": "allow_volume_expansion",
    "reclaimPolicy": "reclaim_policy",
    "volumeBindingMode": "volume_binding_mode",
    "mountOptions": "mount_options",
    "roleRef": "role_ref",
    "automountServiceAccountToken": "automount_service_account_token",
}


# Kinds from CRDs have no typed class; they go through CustomResource with the same body.
_CUSTOM_KINDS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
    ("karpenter.sh/v1", "NodePool"),
    ("karpenter.k8s.aws/v1", "EC2NodeClass"),
    ("keda.sh/v1alpha1", "ScaledObject"),
}


def register_object(name: str, obj: dict[str, Any], opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    key = (obj["apiVersion"], obj["kind"])
    if key in _CUSTOM_KINDS:
        body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
        return k8s.apiextensions.CustomResource(name, api_version=obj["apiVersion"], kind=obj["kind"], opts=opts, **body)
    kind = _KINDS.get(key)
    if kind is None:
        raise ValueError(f"no typed resource registered for {obj['apiVersion']} {obj['kind']}")
    body = {_KEYWORDS.get(key, key): value for key, value in obj.items() if key not in ("apiVersion", "kind")}
    return kind(name, opts=opts, **body)


def metadata_name(resource: pulumi.CustomResource) -> pulumi.Output[str]:
    """The registered object's name. Every class register_object returns has a `metadata` output, which
    their common base (pulumi.CustomResource) does not declare."""
    metadata: pulumi.Output[dict[str, Any]] = getattr(resource, "metadata")  # noqa: B009
    return metadata.apply(lambda value: str(value["name"]))


def register_in_apply_order(
    objects: Iterable[dict[str, Any]], name: Callable[[dict[str, Any]], str], workload_kinds: frozenset[str],
    opts: pulumi.ResourceOptions,
) -> list[pulumi.CustomResource]:
    """Register a vendor's objects in the order given; each workload among them depends on everything
    registered before it, since pods that start before their identity, RBAC and config exist crash-loop once."""
    registered: list[pulumi.CustomResource] = []
    for obj in objects:
        needs = list(registered) if obj["kind"] in workload_kinds else []
        registered.append(register_object(name(obj), obj, pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=needs))))
    return registered
