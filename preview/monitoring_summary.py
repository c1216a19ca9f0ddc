"""What a stack monitors, as the preview and `render` print it: backend, chart, exporters, scrape
targets, dashboards and alert rules, counted from what the program registered (not from the config)."""

from __future__ import annotations

from typing import Any

import yaml

from ..config.monitoring import MonitoringBackend, MonitoringConfig
from ..config.prometheus_stack import DASHBOARD_LABEL, prometheus_query_url
from ..config.wording import plural
from .engine import Recording, RegisteredResource

MONITORING_FILE = "monitoring.txt"
_CHART = "kubernetes:helm.sh/v4:Chart"
_MONITORING = "vllm-eks:index:Monitoring"
_EXPORTER_LABEL = "app.kubernetes.io/name"


def _kind(resource: RegisteredResource) -> str:
    return str(resource.inputs.get("kind", ""))


def _labels(resource: RegisteredResource) -> dict[str, Any]:
    metadata = resource.inputs.get("metadata") or {}
    return dict(metadata.get("labels") or {})


def monitoring_lines(monitoring: MonitoringConfig, recording: Recording) -> list[str]:
    objects = recording.kubernetes_objects()
    lines = [f"  backend: {monitoring.backend.value}"]
    # Only the Monitoring component's chart: other components install charts of their own.
    for chart in (r for r in recording.resources if r.type == _CHART and _MONITORING in (r.parent or "")):
        inputs = chart.inputs
        repo = (inputs.get("repositoryOpts") or {}).get("repo", "")
        lines.append(f"  chart: {inputs.get('chart')} {inputs.get('version')} from {repo}, release "
                     f"{inputs.get('name')} in {inputs.get('namespace')} (values in plan.json)")
    for resource in recording.resources:
        if resource.type == "aws:amp/workspace:Workspace":
            lines.append("  Amazon Managed Service for Prometheus workspace (query: its SigV4-signed prometheusEndpoint)")
        elif resource.type == "aws:amp/scraper:Scraper":
            config = yaml.safe_load(resource.inputs.get("scrapeConfiguration") or "{}") or {}
            jobs = [job.get("job_name") for job in config.get("scrape_configs") or []]
            lines.append(f"  AMP managed collector every {(config.get('global') or {}).get('scrape_interval')}: "
                         f"jobs {', '.join(jobs) or 'none'}")
        elif resource.type == "aws:grafana/workspace:Workspace":
            lines.append("  Amazon Managed Grafana workspace (IAM Identity Center sign-in)")
    url = prometheus_query_url(monitoring)
    if url:
        lines.append(f"  Prometheus query URL: {url}")
    daemonsets = {_labels(r).get(_EXPORTER_LABEL) for r in objects if _kind(r) == "DaemonSet"}
    exporters = sorted(name for name in daemonsets if name in ("dcgm-exporter", "neuron-monitor"))
    lines.append(f"  hardware exporters: {', '.join(exporters) or 'none'}")
    monitors = sorted(str((r.inputs.get("metadata") or {}).get("name")) for r in objects if _kind(r) == "ServiceMonitor")
    lines.append(f"  scraped: {plural(len(monitors), 'ServiceMonitor')}" + (f" ({', '.join(monitors)})" if monitors else ""))
    label, value = DASHBOARD_LABEL
    dashboards = [r for r in objects if _kind(r) == "ConfigMap" and _labels(r).get(label) == value]
    rules = [r for r in objects if _kind(r) == "PrometheusRule"]
    alerts = sum(len(group.get("rules") or []) for r in rules for group in ((r.inputs.get("spec") or {}).get("groups") or []))
    lines.append(f"  dashboards: {len(dashboards)}; alert rules: {alerts} in {plural(len(rules), 'PrometheusRule')}")
    if monitoring.backend is MonitoringBackend.OFF and not monitors:
        lines.append("  nothing collects the models' metrics (monitoring.backend: off)")
    return lines
