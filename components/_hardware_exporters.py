"""Accelerator telemetry exporters, pinned as the vendors publish them and restricted to their own nodes.

Sources (copied, then narrowed like components/_device_plugin_objects.py):
- NVIDIA: NVIDIA/dcgm-exporter tag 4.5.3-4.8.2 (commit 691c9276): `dcgm-exporter.yaml` (DaemonSet,
  Service, env, security context), `service-monitor.yaml`, and `deployment/values.yaml` +
  `templates/daemonset.yaml` of its chart 4.8.2 (probes on /health, resources, priority class).
- Neuron: aws-neuron/aws-neuron-sdk `src/k8/k8s-neuron-monitor-daemonset.yml` @ 2ae3525e, which
  `deploy/infrastructure/monitoring.rst` tells users to apply: neuron-monitor piped into its
  Prometheus exporter (`neuron-monitor-prometheus.py`, tools/neuron-sys-tools/neuron-monitor-user-guide.rst)
  by the image's entrypoint, serving on port 8000.

What differs between the two lives in EXPORTERS; the builders have no per-vendor branches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..config.accelerators import AcceleratorKind
from . import _scanner_exceptions as scanner_exceptions
from ._container_security import POD_SECURITY_CONTEXT
from ._device_plugin_objects import node_selector, tolerations
from ._labels import managed_labels

NAMESPACE = "kube-system"
POD_RESOURCES = "/var/lib/kubelet/pod-resources"
METRICS_PORT_NAME = "metrics"


@dataclass(frozen=True)
class ExporterSpec:
    kind: AcceleratorKind
    name: str
    image: str
    port: int
    security_context: dict[str, Any]
    resources: dict[str, Any]
    exceptions: dict[str, str]
    """checkov findings the vendor's design cannot satisfy, with the reason (_scanner_exceptions.py)."""
    command: list[str] = field(default_factory=list)
    args: list[str] = field(default_factory=list)
    env: list[dict[str, Any]] = field(default_factory=list)
    host_paths: list[dict[str, str]] = field(default_factory=list)
    probe: dict[str, Any] = field(default_factory=dict)
    """Readiness and liveness as the vendor sets them; empty where the vendor sets none."""


EXPORTERS: dict[AcceleratorKind, ExporterSpec] = {
    AcceleratorKind.GPU: ExporterSpec(
        kind=AcceleratorKind.GPU,
        name="dcgm-exporter",
        image="nvcr.io/nvidia/k8s/dcgm-exporter:4.5.3-4.8.2-distroless",
        port=9400,
        env=[
            {"name": "DCGM_EXPORTER_LISTEN", "value": ":9400"},
            # Labels each GPU's series with the pod using it (reads the kubelet's pod-resources socket).
            {"name": "DCGM_EXPORTER_KUBERNETES", "value": "true"},
            {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
        ],
        # The vendor's: root and SYS_ADMIN, "Required for profiling metrics (DCGM_FI_PROF_*)", which the
        # default counters collect (etc/default-counters.csv: GR_ENGINE_ACTIVE, PIPE_TENSOR_ACTIVE,
        # DRAM_ACTIVE); every other capability dropped, no escalation. The vendor leaves the root
        # filesystem writable ("Enable if tmpfs volumes are configured", without naming the paths).
        security_context={
            "runAsNonRoot": False,
            "runAsUser": 0,
            "allowPrivilegeEscalation": False,
            "privileged": False,
            "readOnlyRootFilesystem": False,
            "capabilities": {"add": ["SYS_ADMIN"], "drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        resources={"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "200m", "memory": "512Mi"}},
        host_paths=[{"name": "pod-gpu-resources", "path": POD_RESOURCES, "mountPath": POD_RESOURCES}],
        probe={"httpGet": {"path": "/health", "port": 9400}, "initialDelaySeconds": 45, "periodSeconds": 5},
        exceptions=scanner_exceptions.DCGM_EXPORTER,
    ),
    AcceleratorKind.NEURON: ExporterSpec(
        kind=AcceleratorKind.NEURON,
        name="neuron-monitor",
        image="public.ecr.aws/neuron/neuron-monitor:1.3.0",
        port=8000,
        command=["/opt/bin/entrypoint.sh"],
        args=["--port", "8000", "--neuron-monitor-config", "/opt/aws/neuron/bin/neuron-monitor.conf"],
        env=[{"name": "GOMEMLIMIT", "value": "160MiB"}],
        # The vendor's: privileged, to reach the Neuron driver's devices on the host without claiming
        # them through the device plugin (which would take NeuronCores from the models). The API server
        # refuses allowPrivilegeEscalation: false next to privileged: true, so it is left unset.
        security_context={"privileged": True, "readOnlyRootFilesystem": False},
        resources={"requests": {"cpu": "256m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
        exceptions=scanner_exceptions.NEURON_MONITOR,
    ),
}


def _metadata(spec: ExporterSpec) -> dict[str, Any]:
    return {"name": spec.name, "namespace": NAMESPACE, "labels": managed_labels(spec.name)}


def _selector(spec: ExporterSpec) -> dict[str, str]:
    return {"app.kubernetes.io/name": spec.name}


def service_account_object(spec: ExporterSpec) -> dict[str, Any]:
    # Neither exporter calls the API server: no token.
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _metadata(spec), "automountServiceAccountToken": False}


def daemonset_object(spec: ExporterSpec) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": spec.name,
        "image": spec.image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": METRICS_PORT_NAME, "containerPort": spec.port}],
        "securityContext": spec.security_context,
        "resources": spec.resources,
    }
    for key, value in (("command", spec.command), ("args", spec.args), ("env", spec.env)):
        if value:
            container[key] = value
    if spec.probe:
        container["readinessProbe"] = dict(spec.probe)
        container["livenessProbe"] = dict(spec.probe)
    if spec.host_paths:
        container["volumeMounts"] = [{"name": m["name"], "mountPath": m["mountPath"], "readOnly": True} for m in spec.host_paths]
    pod: dict[str, Any] = {
        "serviceAccountName": spec.name,
        "automountServiceAccountToken": False,
        "priorityClassName": "system-node-critical",
        "securityContext": dict(POD_SECURITY_CONTEXT),
        "nodeSelector": node_selector(spec.kind),
        "tolerations": tolerations(spec.kind),
        "containers": [container],
    }
    if spec.host_paths:
        pod["volumes"] = [{"name": m["name"], "hostPath": {"path": m["path"]}} for m in spec.host_paths]
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {**_metadata(spec), "annotations": scanner_exceptions.skip_annotations(spec.exceptions)},
        "spec": {
            "selector": {"matchLabels": _selector(spec)},
            "updateStrategy": {"type": "RollingUpdate"},
            "template": {"metadata": {"labels": {**_selector(spec), **managed_labels(spec.name)}}, "spec": pod},
        },
    }


def service_object(spec: ExporterSpec) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(spec),
        "spec": {"selector": _selector(spec),
                 "ports": [{"name": METRICS_PORT_NAME, "port": spec.port, "targetPort": METRICS_PORT_NAME}]},
    }


def service_monitor_object(spec: ExporterSpec, interval_seconds: int) -> dict[str, Any]:
    """dcgm-exporter's own service-monitor.yaml shape (port `metrics`, path `/metrics`); neuron-monitor's
    exporter answers on any path, `/metrics` included (prometheus_client's HTTP server)."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": _metadata(spec),
        "spec": {
            "selector": {"matchLabels": managed_labels(spec.name)},
            "namespaceSelector": {"matchNames": [NAMESPACE]},
            "endpoints": [{"port": METRICS_PORT_NAME, "path": "/metrics", "interval": f"{interval_seconds}s"}],
        },
    }


def exporter_objects(kind: AcceleratorKind, interval_seconds: int, service_monitor: bool) -> list[dict[str, Any]]:
    """One vendor's exporter in apply order: identity, the DaemonSet, its Service, its ServiceMonitor."""
    spec = EXPORTERS[kind]
    objects = [service_account_object(spec), daemonset_object(spec), service_object(spec)]
    if service_monitor:
        objects.append(service_monitor_object(spec, interval_seconds))
    return objects
