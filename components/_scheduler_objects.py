"""A vendor scheduler as the vendor publishes it, pinned and hardened like the device plugins.

Source (copied, then narrowed): aws-neuron/neuron-helm-charts `charts/neuron-helm-chart/templates/
scheduler/` @ 7324cd0e (scheduler-deployment.yaml, scheduler-rbac.yaml, scheduler-custom-deployment.yaml,
scheduler-custom-rbac.yaml) and scheduler-custom-config.yaml @ 97e1b7d3 (the KubeSchedulerConfiguration),
with the chart's multiple-scheduler defaults (values.yaml @ 14049c20: customScheduler enabled,
fullnames k8s-neuron-scheduler and my-scheduler, extension env PORT=12345, my-scheduler probes on
:10259/healthz over HTTPS, cpu request 0.1). Images and versions: config/scheduler_catalog.py.

Deviations, each for the scanner baseline the device plugins meet: non-root UID 65532 (neither
binary needs root: the extension serves plain HTTP on 12345, kube-scheduler keeps its self-signed
serving certificate in memory and serves on 10259), read-only root with an emptyDir /tmp, every
capability dropped, RuntimeDefault seccomp, CPU and memory bounds, and a TCP probe on the
extension's port (the chart sets none). The extension is placed by the default scheduler (the chart
has my-scheduler place it; my-scheduler consults the extension only for pods requesting its
managed resources, so either works, and this way neither waits for the other).

What differs between vendors lives in config/scheduler_catalog.SCHEDULERS; no per-vendor branches here.
"""

from __future__ import annotations

from typing import Any

import yaml

from ..config.scheduler_catalog import SCHEDULERS, VendorScheduler, kube_scheduler_image
from . import _scanner_exceptions as scanner_exceptions
from ._container_security import POD_SECURITY_CONTEXT, container_security_context
from ._labels import managed_labels

NAMESPACE = "kube-system"
NON_ROOT_UID = 65532
KUBE_SCHEDULER_PORT = 10259
CONFIG_FILE = "my-scheduler-config.yaml"

Object = dict[str, Any]


def _metadata(name: str, namespaced: bool = True) -> Object:
    metadata: Object = {"name": name, "labels": managed_labels(name)}
    if namespaced:
        metadata["namespace"] = NAMESPACE
    return metadata


def _service_account(name: str) -> Object:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _metadata(name), "automountServiceAccountToken": True}


def _cluster_role(name: str, rules: list[Object]) -> Object:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": _metadata(name, False), "rules": rules}


def _binding(name: str, role: str, account: str) -> Object:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": _metadata(name, False),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": NAMESPACE}],
    }


def _pod_security_context() -> Object:
    return {**POD_SECURITY_CONTEXT, "runAsNonRoot": True, "runAsUser": NON_ROOT_UID, "runAsGroup": NON_ROOT_UID}


def _deployment(name: str, container: Object, volumes: list[Object], priority_class: str | None) -> Object:
    selector = {"app.kubernetes.io/name": name}
    container["volumeMounts"] = [*container.get("volumeMounts", []), {"name": "tmp", "mountPath": "/tmp"}]
    spec: Object = {
        "serviceAccountName": name,
        "automountServiceAccountToken": True,
        "securityContext": _pod_security_context(),
        "containers": [container],
        "volumes": [*volumes, {"name": "tmp", "emptyDir": {}}],
    }
    if priority_class:
        spec["priorityClassName"] = priority_class
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {**_metadata(name), "annotations": scanner_exceptions.skip_annotations(dict(scanner_exceptions.VENDOR_SCHEDULER))},
        "spec": {
            "replicas": 1,
            # The chart's Recreate: two extensions would hand out the same NeuronCores.
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": selector},
            "template": {"metadata": {"labels": managed_labels(name)}, "spec": spec},
        },
    }


def _resources(cpu_request: str) -> Object:
    return {"requests": {"cpu": cpu_request, "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}}


def extension_objects(scheduler: VendorScheduler) -> list[Object]:
    name, port = scheduler.extension_name, scheduler.extension_port
    rules = [
        {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": [""], "resources": ["nodes/status"], "verbs": ["get", "patch", "update", "list", "watch"]},
        {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "patch", "update", "list", "watch"]},
        {"apiGroups": [""], "resources": ["bindings", "pods/binding"], "verbs": ["create"]},
    ]
    probe = {"tcpSocket": {"port": port}, "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 3}
    container = {
        "name": "neuron-scheduler-exp",
        "image": scheduler.extension_image,
        "imagePullPolicy": "IfNotPresent",
        "env": [{"name": "PORT", "value": str(port)}],
        "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
        "securityContext": container_security_context(read_only_root_filesystem=True),
        "resources": _resources("10m"),
        "readinessProbe": probe,
        "livenessProbe": {**probe, "initialDelaySeconds": 10},
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(name),
        "spec": {"selector": {"app.kubernetes.io/name": name},
                 "ports": [{"name": "http", "port": port, "targetPort": port, "protocol": "TCP"}]},
    }
    return [_service_account(name), _cluster_role(name, rules), _binding(name, name, name),
            _deployment(name, container, [], "system-node-critical"), service]


def scheduler_configuration(scheduler: VendorScheduler) -> Object:
    name = scheduler.scheduler_name
    return {
        "apiVersion": "kubescheduler.config.k8s.io/v1",
        "kind": "KubeSchedulerConfiguration",
        "profiles": [{"schedulerName": name}],
        "extenders": [{
            "urlPrefix": f"http://{scheduler.extension_name}.{NAMESPACE}.svc.cluster.local:{scheduler.extension_port}",
            "filterVerb": "filter",
            "bindVerb": "bind",
            "enableHTTPS": False,
            "nodeCacheCapable": False,
            "managedResources": [{"name": resource, "ignoredByScheduler": False} for resource in scheduler.managed_resources],
            "ignorable": False,
        }],
        "leaderElection": {"leaderElect": True, "resourceNamespace": NAMESPACE, "resourceName": name},
    }


def kube_scheduler_objects(scheduler: VendorScheduler, kubernetes_version: str) -> list[Object]:
    name = scheduler.scheduler_name
    config_dir = f"/etc/kubernetes/{name}"
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(name),
        "data": {CONFIG_FILE: yaml.safe_dump(scheduler_configuration(scheduler), sort_keys=False)},
    }
    probe = {"httpGet": {"path": "/healthz", "port": KUBE_SCHEDULER_PORT, "scheme": "HTTPS"},
             "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 3}
    container = {
        "name": "kube-second-scheduler",
        "image": kube_scheduler_image(scheduler, kubernetes_version),
        "imagePullPolicy": "IfNotPresent",
        "command": ["/usr/local/bin/kube-scheduler"],
        "args": [f"--config={config_dir}/{CONFIG_FILE}", "--leader-elect=true", "--v=2"],
        "securityContext": container_security_context(read_only_root_filesystem=True),
        "resources": _resources("100m"),
        "readinessProbe": probe,
        "livenessProbe": {**probe, "initialDelaySeconds": 15},
        "volumeMounts": [{"name": "config-volume", "mountPath": config_dir, "readOnly": True}],
    }
    own_rules = [
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create", "get", "list", "update"]},
    ]
    return [
        _service_account(name),
        _cluster_role(name, own_rules),
        _binding(name, name, name),
        _binding(f"{name}-as-kube-scheduler", "system:kube-scheduler", name),
        _binding(f"{name}-as-volume-scheduler", "system:volume-scheduler", name),
        config_map,
        _deployment(name, container, [{"name": "config-volume", "configMap": {"name": name}}], None),
    ]


def scheduler_objects(name: str, kubernetes_version: str) -> list[Object]:
    """Every object of one vendor scheduler, in apply order (identity, RBAC and config before pods;
    the extension before the scheduler that calls it)."""
    scheduler = SCHEDULERS[name]
    return extension_objects(scheduler) + kube_scheduler_objects(scheduler, kubernetes_version)
