"""The pinned kube-prometheus-stack chart and the names it gives what it installs.

Source: prometheus-community/helm-charts, charts/kube-prometheus-stack at commit ea930bae
(2026-08-21, Chart.yaml `version: 88.5.3`, `appVersion: v0.93.1` of the Prometheus Operator).
Pure data and functions, so other config code (KEDA triggers, issue 18) can derive the query URL
without Pulumi.
"""

from __future__ import annotations

from dataclasses import dataclass

from .monitoring import MonitoringBackend, MonitoringConfig


@dataclass(frozen=True)
class ChartPin:
    name: str
    version: str
    repository: str
    source: str
    """Where the pinned version's Chart.yaml, values.yaml and templates were read."""


KUBE_PROMETHEUS_STACK = ChartPin(
    name="kube-prometheus-stack",
    version="88.5.3",
    repository="https://prometheus-community.github.io/helm-charts",
    source="prometheus-community/helm-charts@ea930bae charts/kube-prometheus-stack",
)
RELEASE_NAME = "kube-prometheus-stack"
"""The Helm release name agreed with the ServiceMonitor/dashboard side of issue 17."""
PROMETHEUS_PORT = 9090
"""values.yaml `prometheus.service.port` (88.5.3), which this project does not override."""
DASHBOARD_LABEL = ("grafana_dashboard", "1")
"""ConfigMaps with this label, in any namespace, are loaded by Grafana's dashboard sidecar
(values `grafana.sidecar.dashboards.label`/`labelValue`/`searchNamespace: ALL`, set explicitly)."""

# templates/_helpers.tpl "kube-prometheus-stack.fullname": a release name containing the chart
# name is used alone, else "<release>-<chart>"; either cut to 26 characters, trailing "-" trimmed.
_FULLNAME_LIMIT = 26


def chart_fullname(release: str = RELEASE_NAME, chart: str = KUBE_PROMETHEUS_STACK.name) -> str:
    name = release if chart in release else f"{release}-{chart}"
    return name[:_FULLNAME_LIMIT].rstrip("-")


def prometheus_service_name(release: str = RELEASE_NAME) -> str:
    """templates/prometheus/service.yaml: `name: {{ fullname }}-prometheus`."""
    return f"{chart_fullname(release)}-prometheus"


def prometheus_query_url(monitoring: MonitoringConfig) -> str | None:
    """The in-cluster Prometheus HTTP API base (PromQL at `<url>/api/v1/query`) for `backend: in-cluster`,
    e.g. `http://kube-prometheus-stack-prometheus.monitoring.svc:9090`; None for any other backend
    (an AMP workspace is queried through its own SigV4-signed endpoint, not a cluster Service)."""
    if monitoring.backend is not MonitoringBackend.IN_CLUSTER:
        return None
    return f"http://{prometheus_service_name()}.{monitoring.prometheus_namespace}.svc:{PROMETHEUS_PORT}"
