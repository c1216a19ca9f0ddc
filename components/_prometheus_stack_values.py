"""The kube-prometheus-stack chart's values for `monitoring.backend: in-cluster`, and the objects it needs first.

Every key below exists in the pinned chart's values.yaml or its subcharts' (88.5.3: grafana 12.11.1,
kube-state-metrics 8.4.0, prometheus-node-exporter 4.56.1); tests/components/test_monitoring.py checks
that against those files, pinned by checksum in tests/crd_schemas.py. The chart ships no values.schema.json.
"""

from __future__ import annotations

from typing import Any

from ..config.monitoring import MonitoringConfig
from ..config.platform.node_groups import NODE_GROUP_LABEL
from ..config.prometheus_stack import DASHBOARD_LABEL, KUBE_PROMETHEUS_STACK, RELEASE_NAME
from ._labels import managed_labels

GRAFANA_ADMIN_SECRET = "grafana-admin"
GRAFANA_ADMIN_USER = "admin"
# grafana values.yaml `admin.userKey`/`admin.passwordKey` defaults, restated by kube-prometheus-stack.
GRAFANA_USER_KEY = "admin-user"
GRAFANA_PASSWORD_KEY = "admin-password"


def system_node_selector(system_group: str) -> dict[str, str]:
    """The system node group's own label (every group carries `vllm-eks/node-group`): the stack's
    controllers stay off accelerator nodes, whose taints they do not tolerate anyway."""
    return {NODE_GROUP_LABEL: system_group}


def chart_values(monitoring: MonitoringConfig, system_group: str) -> dict[str, Any]:
    """Values that differ from the chart's defaults, each for a stated reason."""
    on_system = {"nodeSelector": system_node_selector(system_group)}
    prometheus = monitoring.prometheus
    dashboards_label, dashboards_value = DASHBOARD_LABEL
    return {
        "prometheusOperator": {
            **on_system,
            # The admission webhook's certificate Jobs run once per install/upgrade; same nodes.
            "admissionWebhooks": {"patch": dict(on_system)},
        },
        "prometheus": {
            "prometheusSpec": {
                **on_system,
                # Defaults select only objects labelled with this release; false selects every
                # ServiceMonitor, PodMonitor and PrometheusRule in the cluster (values.yaml comments
                # under prometheusSpec), so the models' objects need no release label.
                "serviceMonitorSelectorNilUsesHelmValues": False,
                "podMonitorSelectorNilUsesHelmValues": False,
                "ruleSelectorNilUsesHelmValues": False,
                "scrapeInterval": f"{monitoring.scrape_interval_seconds}s",
                "retention": prometheus.retention,
                "storageSpec": {
                    "volumeClaimTemplate": {
                        "spec": {
                            "storageClassName": prometheus.storage_class,
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": prometheus.storage_size}},
                        },
                    },
                },
            },
        },
        "alertmanager": {"enabled": monitoring.alertmanager, "alertmanagerSpec": dict(on_system)},
        "grafana": {
            "enabled": monitoring.grafana.enabled,
            **on_system,
            # The password lives in a Secret this project creates from a Pulumi secret; the values
            # (shown in the preview and stored in the Helm release) only name it.
            "admin": {"existingSecret": GRAFANA_ADMIN_SECRET, "userKey": GRAFANA_USER_KEY,
                      "passwordKey": GRAFANA_PASSWORD_KEY},
            "sidecar": {"dashboards": {"enabled": True, "label": dashboards_label, "labelValue": dashboards_value,
                                       "searchNamespace": "ALL"}},
        },
        "kube-state-metrics": dict(on_system),
        # prometheus-node-exporter stays a DaemonSet on every node: its chart tolerates every
        # NoSchedule taint (values.yaml `tolerations`), accelerator nodes included.
    }


def namespace_object(namespace: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": namespace, "labels": managed_labels(RELEASE_NAME)}}


def grafana_admin_secret(namespace: str, password: Any) -> dict[str, Any]:
    """`password` is a Pulumi secret Output: the rendered Secret shows `[secret]`."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": GRAFANA_ADMIN_SECRET, "namespace": namespace, "labels": managed_labels("grafana")},
        "type": "Opaque",
        "stringData": {GRAFANA_USER_KEY: GRAFANA_ADMIN_USER, GRAFANA_PASSWORD_KEY: password},
    }


def chart_summary(monitoring: MonitoringConfig) -> str:
    pin = KUBE_PROMETHEUS_STACK
    parts = ["Prometheus (retention " + monitoring.prometheus.retention + ", " + monitoring.prometheus.storage_size + " "
             + monitoring.prometheus.storage_class + ")"]
    if monitoring.grafana.enabled:
        parts.append("Grafana")
    if monitoring.alertmanager:
        parts.append("Alertmanager")
    return f"{pin.name} {pin.version} ({pin.repository}) in {monitoring.prometheus_namespace}: {', '.join(parts)}"
