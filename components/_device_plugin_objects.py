"""Device plugin objects as the vendors publish them, pinned, and restricted to their own nodes.

Sources (copied, then narrowed; see /docs/platform.md):
- Neuron: aws-neuron/neuron-helm-charts `charts/neuron-helm-chart` values.yaml @ 3419bfe7
  (DaemonSet, tolerations, env, volumes) and templates/device-plugin/device-plugin-rbac.yaml
  @ 7324cd0e (ClusterRole rules). The static YAML in aws-neuron-sdk `src/k8/` is older (2.22.4.0).
- NVIDIA: NVIDIA/k8s-device-plugin `deployments/static/nvidia-device-plugin.yml` @ v0.20.0.

What differs between the two lives in DEVICE_PLUGINS; the builders have no per-vendor branches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..config.accelerators import ACCELERATORS, AcceleratorKind
from ..config.platform.node_groups import ACCELERATOR_LABEL
from . import _scanner_exceptions as scanner_exceptions
from ._container_security import POD_SECURITY_CONTEXT, container_security_context
from ._labels import managed_labels

NAMESPACE = "kube-system"
KUBELET_DEVICE_PLUGINS = "/var/lib/kubelet/device-plugins"


@dataclass(frozen=True)
class DevicePluginSpec:
    kind: AcceleratorKind
    daemonset_name: str
    service_account_name: str
    pod_label: str
    """Value of the `name` label the vendor's selector uses."""
    container_name: str
    image: str
    env: list[dict[str, Any]]
    host_paths: list[dict[str, Any]]
    """Volumes as (name, hostPath, mountPath, readOnly, type) dicts, in the vendor's order."""
    cluster_role_rules: list[dict[str, Any]] = field(default_factory=list)
    """RBAC the plugin needs; empty means it never calls the API and gets no token."""


DEVICE_PLUGINS: dict[AcceleratorKind, DevicePluginSpec] = {
    AcceleratorKind.NEURON: DevicePluginSpec(
        kind=AcceleratorKind.NEURON,
        daemonset_name="neuron-device-plugin",
        service_account_name="neuron-device-plugin",
        pod_label="neuron-device-plugin-ds",
        container_name="neuron-device-plugin",
        # Newest tag in an AWS-owned file (neuron-helm-chart values.yaml); registers
        # aws.amazon.com/neuroncore and aws.amazon.com/neuron.
        image="public.ecr.aws/neuron/neuron-device-plugin:2.29.148.0",
        env=[
            {"name": "KUBECONFIG", "value": "/etc/kubernetes/kubelet.conf"},
            {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
        ],
        host_paths=[
            {"name": "device-plugin", "path": KUBELET_DEVICE_PLUGINS, "mountPath": KUBELET_DEVICE_PLUGINS},
            {"name": "infa-map", "path": "/run", "mountPath": "/run"},
            {"name": "aws-config", "path": "/opt/aws", "mountPath": "/opt/aws", "readOnly": True},
        ],
        cluster_role_rules=[
            {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "watch"]},
            {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["update", "patch", "get", "list", "watch"]},
            {"apiGroups": [""], "resources": ["nodes/status"], "verbs": ["patch", "update"]},
            {"apiGroups": [""], "resources": ["nodes/proxy"], "verbs": ["get", "list"]},
        ],
    ),
    AcceleratorKind.GPU: DevicePluginSpec(
        kind=AcceleratorKind.GPU,
        daemonset_name="nvidia-device-plugin-daemonset",
        service_account_name="nvidia-device-plugin",
        pod_label="nvidia-device-plugin-ds",
        container_name="nvidia-device-plugin-ctr",
        image="nvcr.io/nvidia/k8s-device-plugin:v0.20.0",
        # Since v0.18 the plugin exits on nodes without GPUs (FAIL_ON_INIT_ERROR defaults to
        # true); the node selector below keeps it off them, so the vendor's empty env stands.
        env=[],
        host_paths=[
            {"name": "kubelet-device-plugins-dir", "path": KUBELET_DEVICE_PLUGINS,
             "mountPath": KUBELET_DEVICE_PLUGINS, "type": "Directory"},
        ],
    ),
}


def _labels(spec: DevicePluginSpec) -> dict[str, str]:
    return managed_labels(spec.daemonset_name)


def _metadata(spec: DevicePluginSpec, name: str, namespaced: bool = True) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "labels": _labels(spec)}
    if namespaced:
        metadata["namespace"] = NAMESPACE
    return metadata


def service_account_object(spec: DevicePluginSpec) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _metadata(spec, spec.service_account_name),
        "automountServiceAccountToken": bool(spec.cluster_role_rules),
    }


def cluster_role_object(spec: DevicePluginSpec) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": _metadata(spec, spec.daemonset_name, namespaced=False),
        "rules": spec.cluster_role_rules,
    }


def cluster_role_binding_object(spec: DevicePluginSpec) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": _metadata(spec, spec.daemonset_name, namespaced=False),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": spec.daemonset_name},
        "subjects": [{"kind": "ServiceAccount", "name": spec.service_account_name, "namespace": NAMESPACE}],
    }


def node_selector(kind: AcceleratorKind) -> dict[str, str]:
    """Only nodes of this project's node groups with this accelerator (the vendors select by
    instance-type lists that go stale; every group carries the accelerator label)."""
    return {ACCELERATOR_LABEL: kind.value}


def tolerations(kind: AcceleratorKind) -> list[dict[str, str]]:
    return [
        # The Neuron chart's: lets the plugin onto nodes reserved for critical add-ons.
        {"key": "CriticalAddonsOnly", "operator": "Exists"},
        {"key": ACCELERATORS[kind].taint_key, "operator": "Exists", "effect": "NoSchedule"},
    ]


def daemonset_object(spec: DevicePluginSpec) -> dict[str, Any]:
    selector = {"name": spec.pod_label}
    volumes = []
    for mount in spec.host_paths:
        host_path = {"path": mount["path"]}
        if "type" in mount:
            host_path["type"] = mount["type"]
        volumes.append({"name": mount["name"], "hostPath": host_path})
    mounts = [
        {"name": m["name"], "mountPath": m["mountPath"], **({"readOnly": True} if m.get("readOnly") else {})}
        for m in spec.host_paths
    ]
    container: dict[str, Any] = {
        "name": spec.container_name,
        "image": spec.image,
        "imagePullPolicy": "IfNotPresent",
        # The plugins write only their socket, which lives on a hostPath mount: the root stays read-only.
        "securityContext": container_security_context(read_only_root_filesystem=True),
        # Neither vendor sets resources; these bound a small Go daemon so it can neither
        # starve nor be starved on nodes packed with model servers.
        "resources": {
            "requests": {"cpu": "10m", "memory": "64Mi"},
            "limits": {"cpu": "200m", "memory": "256Mi"},
        },
        "volumeMounts": mounts,
    }
    if spec.env:
        container["env"] = spec.env
    exceptions = dict(scanner_exceptions.DEVICE_PLUGIN)
    if spec.cluster_role_rules:
        exceptions.update(scanner_exceptions.API_CLIENT)
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {**_metadata(spec, spec.daemonset_name), "annotations": scanner_exceptions.skip_annotations(exceptions)},
        "spec": {
            "selector": {"matchLabels": selector},
            "updateStrategy": {"type": "RollingUpdate"},
            "template": {
                "metadata": {"labels": {**selector, **_labels(spec)}},
                "spec": {
                    "serviceAccountName": spec.service_account_name,
                    "automountServiceAccountToken": bool(spec.cluster_role_rules),
                    "priorityClassName": "system-node-critical",
                    "securityContext": dict(POD_SECURITY_CONTEXT),
                    "nodeSelector": node_selector(spec.kind),
                    "tolerations": tolerations(spec.kind),
                    "containers": [container],
                    "volumes": volumes,
                },
            },
        },
    }


def device_plugin_objects(kind: AcceleratorKind) -> list[dict[str, Any]]:
    """Every object for one vendor's plugin, in apply order (identity and RBAC before the pods)."""
    spec = DEVICE_PLUGINS[kind]
    objects = [service_account_object(spec)]
    if spec.cluster_role_rules:
        objects += [cluster_role_object(spec), cluster_role_binding_object(spec)]
    return [*objects, daemonset_object(spec)]
