"""Pure builders for scraping a model namespace: its ServiceMonitor and the NetworkPolicy peer of its scraper.

One ServiceMonitor per namespace (the GPU guide's `vllm-monitor`: port `http`, path `/metrics`, 15 s)
selects every vLLM Service of the namespace by the labels each model's Service carries
(`_deployment_objects.model_labels`); the guide's own selector, `app: vllm`, matches no Service,
since `app` holds the model's name. Only Prometheus server pods get through the model's port.
"""

from __future__ import annotations

from typing import Any

from ..config.model import VLLM_PORT_NAME
from ..config.stack import MonitoringConfig
from ._labels import recommended_labels

Object = dict[str, Any]

SERVICE_MONITOR_NAME = "vllm-monitor"
"""The GPU guide's ServiceMonitor name."""
METRICS_PATH = "/metrics"
"""Where vLLM's OpenAI server mounts prometheus_client's ASGI app (`Mount("/metrics", make_asgi_app(...))`:
vllm/entrypoints/openai/api_server.py in 0.9.1 and 0.10.2, vllm/entrypoints/serve/instrumentator/metrics.py
in 0.26.0 and 0.32.0)."""

SERVED_BY_VLLM = {"app.kubernetes.io/name": "vllm", "app.kubernetes.io/component": "model-server"}
"""Labels every model's Service carries (`model_labels`) and no other Service of the namespace does."""

PROMETHEUS_POD_LABELS = {"app.kubernetes.io/name": "prometheus", "app.kubernetes.io/managed-by": "prometheus-operator"}
"""Labels the Prometheus Operator puts on every Prometheus server pod it runs, whatever the Prometheus
object is called (prometheus-operator v0.93.0 pkg/prometheus/server/statefulset_test.go
`expectedPodLabels`; kube-prometheus-stack 88.5.3 pins the operator v0.93.1). The agent mode's pods
are `prometheus-agent` and are not admitted."""


def service_monitor_object(namespace: str, monitoring: MonitoringConfig) -> Object:
    """Scrape every vLLM Service of `namespace` through its `http` port. kube-prometheus-stack's
    Prometheus selects it with `serviceMonitorSelectorNilUsesHelmValues: false` (any ServiceMonitor
    in any namespace), so it carries no release label."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": SERVICE_MONITOR_NAME, "namespace": namespace,
                     "labels": recommended_labels(namespace, "monitoring")},
        "spec": {
            "selector": {"matchLabels": dict(SERVED_BY_VLLM)},
            "namespaceSelector": {"matchNames": [namespace]},
            "endpoints": [{"port": VLLM_PORT_NAME, "path": METRICS_PATH,
                           "interval": f"{monitoring.scrape_interval_seconds}s"}],
        },
    }


def scraper_peer(monitoring: MonitoringConfig) -> Object:
    """A NetworkPolicy `from` peer admitting Prometheus server pods of the monitoring namespace and
    nothing else there (a peer with both selectors matches pods that satisfy both)."""
    return {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": monitoring.prometheus_namespace}},
        "podSelector": {"matchLabels": dict(PROMETHEUS_POD_LABELS)},
    }
