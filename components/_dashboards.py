"""Pure builders for the Grafana dashboards: one per model and one for the fleet, as sidecar ConfigMaps.

kube-prometheus-stack's Grafana loads every ConfigMap labelled `grafana_dashboard: "1"` in any namespace
(chart values grafana.sidecar.dashboards.label/labelValue/searchNamespace: ALL, set by the monitoring
stack, config/prometheus_stack.py DASHBOARD_LABEL). Queries come from components/_promql.py, so each
model's panels use the metric names its vLLM version exports; a panel a version cannot fill is replaced
by a note naming the series it lacks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from ..config.model import ModelConfig
from ..config.monitoring_series import NEEDS, SERIES, MetricsVersion, resolve
from ._labels import recommended_labels
from ._promql import RATE_WINDOW, ModelQueries, model_queries

Object = dict[str, Any]

DASHBOARD_LABEL = {"grafana_dashboard": "1"}
"""The Grafana sidecar's label (kube-prometheus-stack 88.5.3 values grafana.sidecar.dashboards.label
`grafana_dashboard`, labelValue "1")."""
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
SCHEMA_VERSION = 39
"""Grafana's dashboard JSON schema version (Grafana 11; older Grafana migrates newer JSON it cannot read only forward)."""


def _target(expr: str, legend: str, ref: str) -> Object:
    return {"datasource": DATASOURCE, "expr": expr, "legendFormat": legend, "refId": ref}


def _panel(title: str, targets: list[tuple[str, str]], unit: str, slot: int) -> Object:
    return {
        "type": "timeseries", "title": title, "datasource": DATASOURCE,
        "gridPos": {"h": 8, "w": 12, "x": 12 * (slot % 2), "y": 8 * (slot // 2)},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [_target(expr, legend, chr(ord("A") + i)) for i, (expr, legend) in enumerate(targets)],
    }


def _note(title: str, text: str, slot: int) -> Object:
    return {"type": "text", "title": title, "gridPos": {"h": 8, "w": 12, "x": 12 * (slot % 2), "y": 8 * (slot // 2)},
            "options": {"mode": "markdown", "content": text}}


def _dashboard(uid: str, title: str, panels: list[Object], tags: list[str]) -> Object:
    return {
        "uid": uid, "title": title, "tags": tags, "schemaVersion": SCHEMA_VERSION, "editable": False,
        "time": {"from": "now-6h", "to": "now"}, "refresh": "30s",
        "templating": {"list": [{"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Data source"}]},
        "panels": [{**panel, "id": i + 1} for i, panel in enumerate(panels)],
    }


def _uid(*parts: str) -> str:
    # Grafana uids are at most 40 characters; namespace/name can be 127.
    return "vllm-" + hashlib.sha256("/".join(parts).encode()).hexdigest()[:20]


def _latency(q: ModelQueries, key: str) -> list[tuple[str, str]] | None:
    p50, p95 = q.quantile(key, 0.5), q.quantile(key, 0.95)
    return [(p50, "p50"), (p95, "p95")] if p50 and p95 else None


def model_panels(q: ModelQueries) -> list[tuple[str, str, list[tuple[str, str]] | None, str]]:
    """(need, title, targets or None when the version lacks a series, unit) per panel, in order."""
    running, waiting = q.gauge("requests_running"), q.gauge("requests_waiting")
    generated, prompt = q.rate("generation_tokens"), q.rate("prompt_tokens")
    kv, preempted = q.gauge("kv_cache_usage", "max", "pod"), q.rate("preemptions")
    hit_rate = q.ratio("prefix_cache_hits", "prefix_cache_queries")
    return [
        ("panel:requests", "Requests running and waiting",
         [(running, "running"), (waiting, "waiting")] if running and waiting else None, "short"),
        ("panel:time_to_first_token", "Time to first token", _latency(q, "time_to_first_token"), "s"),
        ("panel:inter_token_latency", "Inter-token latency", _latency(q, "inter_token_latency"), "s"),
        ("panel:e2e_latency", "End-to-end request latency", _latency(q, "e2e_latency"), "s"),
        ("panel:tokens_per_second", "Tokens per second",
         [(generated, "generated"), (prompt, "prompt")] if generated and prompt else None, "short"),
        ("panel:kv_cache_usage", "KV-cache use (per pod)", [(kv, "{{pod}}")] if kv else None, "percentunit"),
        ("panel:preemptions", "Preemptions per second", [(preempted, "preemptions")] if preempted else None, "short"),
        ("panel:prefix_cache_hit_rate", "Prefix-cache hit rate", [(hit_rate, "hit rate")] if hit_rate else None,
         "percentunit"),
    ]


def model_dashboard(model: ModelConfig, version: MetricsVersion | None = None) -> Object:
    q = model_queries(model, version)
    panels = []
    for slot, (need, title, targets, unit) in enumerate(model_panels(q)):
        if targets:
            panels.append(_panel(title, targets, unit, slot))
        else:
            missing = [SERIES[k].title for k in NEEDS[need] if not resolve(k, q.version.facts)]
            panels.append(_note(title, f"vLLM {q.version.facts.version} exports no series for: {', '.join(missing)}.", slot))
    title = f"vLLM {model.namespace}/{model.name} (vLLM {q.version.facts.version} metrics)"
    return _dashboard(_uid(model.namespace, model.name), title, panels, ["vllm", "vllm-eks"])


def fleet_dashboard(models: Sequence[ModelConfig], version: MetricsVersion | None = None) -> Object:
    """Every model side by side: requests, queue depth, replicas, KV-cache use, and accelerator use per node."""
    names = sorted({m.name for m in models})
    versions = [model_queries(m, version) for m in models]
    kv_names = sorted({n for q in versions for n in q.names("kv_cache_usage")})
    kv_parts = [f"max by (namespace, model_name) ({n})" for n in kv_names]
    kv = " or ".join(f"({p})" for p in kv_parts) if len(kv_parts) > 1 else "".join(kv_parts)
    deployments = "|".join(names)
    panels = [
        _panel("Requests running per model", [("sum by (namespace, model_name) (vllm:num_requests_running)",
                                               "{{namespace}}/{{model_name}}")], "short", 0),
        _panel("Queue depth (requests waiting) per model", [("sum by (namespace, model_name) (vllm:num_requests_waiting)",
                                                            "{{namespace}}/{{model_name}}")], "short", 1),
        _panel("Ready replicas per model", [(
            f'sum by (namespace, deployment) (kube_deployment_status_replicas_available{{deployment=~"{deployments}"}})',
            "{{namespace}}/{{deployment}}")], "short", 2),
        _panel("KV-cache use per model (highest pod)", [(kv, "{{namespace}}/{{model_name}}")] if kv else [],
               "percentunit", 3),
        _panel("Generated tokens per second per model", [(
            f"sum by (namespace, model_name) (rate(vllm:generation_tokens_total[{RATE_WINDOW}]))",
            "{{namespace}}/{{model_name}}")], "short", 4),
        _panel("GPU use per node (DCGM)", [("avg by (Hostname) (DCGM_FI_DEV_GPU_UTIL) / 100", "{{Hostname}}")],
               "percentunit", 5),
        _panel("NeuronCore use per node (neuron-monitor)", [
            ("avg by (instance_id) (neuroncore_utilization_ratio)", "{{instance_id}}")], "percentunit", 6),
    ]
    return _dashboard(_uid("fleet"), "vLLM fleet", panels, ["vllm", "vllm-eks"])


def dashboard_config_map(name: str, namespace: str, instance: str, dashboard: Object) -> Object:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace,
                     "labels": {**recommended_labels(instance, "dashboard"), **DASHBOARD_LABEL}},
        "data": {f"{name}.json": json.dumps(dashboard, indent=1, sort_keys=True)},
    }


def model_dashboard_object(model: ModelConfig) -> Object:
    return dashboard_config_map(f"{model.name}-dashboard", model.namespace, model.name, model_dashboard(model))


def fleet_dashboard_object(models: Sequence[ModelConfig], namespace: str) -> Object:
    return dashboard_config_map("vllm-fleet-dashboard", namespace, "fleet", fleet_dashboard(models))


def dashboard_expressions(dashboard: Object) -> list[str]:
    """Every PromQL expression of a dashboard (the e2e stage evaluates them)."""
    return [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
