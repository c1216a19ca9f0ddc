"""Dashboards and alerts query the metric names each model's vLLM version exports, and nothing else."""

from __future__ import annotations

import json
import re

import pulumi

from vllm_eks.components import _alert_rules as alert_rules
from vllm_eks.components import _dashboards as dashboards
from vllm_eks.components.fleet_monitoring import FleetMonitoring, FleetMonitoringArgs
from vllm_eks.components.model_namespace import ModelNamespace, ModelNamespaceArgs
from vllm_eks.components.vllm_model import VllmModel, VllmModelArgs
from vllm_eks.config.accelerators import AcceleratorKind
from vllm_eks.config.model import ModelConfig
from vllm_eks.config.monitoring_series import EXTERNAL, metrics_version
from vllm_eks.config.platform.node_groups import NodeGroupConfig
from vllm_eks.config.stack import MonitoringConfig
from vllm_eks.preview.engine import run_program

_NAME = re.compile(r"\b(vllm:[a-z_:0-9]+|[a-zA-Z_][a-zA-Z0-9_]*)(?=\{)")
GONE_SINCE_0_11 = {"vllm:gpu_cache_usage_perc", "vllm:num_requests_swapped", "vllm:cpu_cache_usage_perc"}


def _model(name: str, image: str, **extra) -> ModelConfig:
    fields = dict(name=name, namespace="team", accelerator="gpu", node_group="gpu", image=image, model="Qwen/Qwen3-8B",
                  max_model_len=8192, resources={"cpu": "3", "memory": "24Gi"})
    return ModelConfig.model_validate({**fields, **extra})


def _names(expr: str) -> set[str]:
    return set(_NAME.findall(expr)) - {"by", "on", "sum", "max", "rate"}


def _base(series: str) -> str:
    return re.sub(r"_(bucket|count|sum)$", "", series)


def _expressions(model: ModelConfig) -> list[str]:
    return (dashboards.dashboard_expressions(dashboards.model_dashboard(model))
            + alert_rules.rule_expressions(alert_rules.model_rule_object(model)))


def test_every_vllm_name_a_models_queries_use_is_one_its_version_exports():
    for image in ("vllm/vllm-openai:v0.10.2", "vllm/vllm-openai:v0.26.0", "public.ecr.aws/t0h7h1e6/vllm-neuron:qwen3-8b"):
        model = _model("m", image)
        facts = metrics_version(model).facts
        exposed = {_base(s) for s in facts.exposed_series()} | facts.exposed_series()
        for expr in _expressions(model):
            for name in _names(expr):
                assert name in exposed or name in EXTERNAL, f"{image}: {name} in {expr}"


def test_a_current_image_never_queries_the_names_vllm_dropped_in_0_11():
    for expr in _expressions(_model("m", "vllm/vllm-openai:v0.26.0")):
        assert not (_names(expr) & GONE_SINCE_0_11), expr


def test_the_neuron_images_vllm_0_9_1_gets_its_own_names():
    model = _model("m", "public.ecr.aws/t0h7h1e6/vllm-neuron:qwen3-8b", accelerator="neuron", node_group="inf2")
    assert metrics_version(model).facts.version == "0.9.1"
    text = " ".join(_expressions(model))
    assert "vllm:gpu_cache_usage_perc" in text and "vllm:kv_cache_usage_perc" not in text
    assert "vllm:time_per_output_token_seconds_bucket" in text and "inter_token_latency" not in text


def test_0_10_2_asks_for_both_kv_cache_names_since_its_v0_fallback_exports_only_the_old_one():
    [kv] = [r["expr"] for g in alert_rules.model_rule_object(_model("m", "vllm/vllm-openai:v0.10.2"))["spec"]["groups"]
            for r in g["rules"] if r["alert"] == "VllmKvCacheNearlyFull"]
    assert kv.startswith("((max by") and "vllm:kv_cache_usage_perc" in kv and "vllm:gpu_cache_usage_perc" in kv
    assert kv.endswith(") > 0.9")


def test_every_alert_tells_the_person_on_call_what_happened_and_what_to_do():
    rules = [alert_rules.model_rule_object(_model("m", "vllm/vllm-openai:v0.26.0")),
             alert_rules.fleet_rule_object("monitoring", set(AcceleratorKind))]
    alerts = [r for obj in rules for g in obj["spec"]["groups"] for r in g["rules"]]
    assert {a["alert"] for a in alerts} == {"VllmKvCacheNearlyFull", "VllmPreemptionsRising", "VllmQueueGrowingAtMaxReplicas",
                                           "VllmNoReadyReplica", "VllmCrashLooping", "GpuXidError", "NeuronHardwareError",
                                           "NeuronExecutionErrors"}
    for alert in alerts:
        assert len(alert["annotations"]["summary"]) > 40 and alert["annotations"]["description"].startswith("What to do: ")
        assert len(alert["annotations"]["description"]) > 50, alert["alert"]


def test_hardware_alerts_cover_only_the_accelerators_the_models_run_on():
    gpu_only = alert_rules.fleet_rule_object("monitoring", {AcceleratorKind.GPU})
    assert [r["alert"] for r in gpu_only["spec"]["groups"][0]["rules"]] == ["GpuXidError"]
    assert alert_rules.fleet_rule_object("monitoring", set()) is None


def test_the_model_dashboard_is_a_grafana_sidecar_config_map_with_every_panel_filled():
    obj = dashboards.model_dashboard_object(_model("m", "vllm/vllm-openai:v0.10.2"))
    assert obj["metadata"]["labels"]["grafana_dashboard"] == "1"
    board = json.loads(obj["data"]["m-dashboard.json"])
    assert [p["title"] for p in board["panels"]] == [
        "Requests running and waiting", "Time to first token", "Inter-token latency", "End-to-end request latency",
        "Tokens per second", "KV-cache use (per pod)", "Preemptions per second", "Prefix-cache hit rate"]
    assert all(p["type"] == "timeseries" for p in board["panels"]) and len(board["uid"]) <= 40


def test_with_scraping_on_each_model_gets_its_dashboard_and_rules_and_the_fleet_its_own():
    monitoring = MonitoringConfig(service_monitors=True)
    group = NodeGroupConfig(name="gpu", instance_type="g6e.xlarge", desired_size=2, max_size=2)
    models = [_model("old", "vllm/vllm-openai:v0.10.2"), _model("new", "vllm/vllm-openai:v0.26.0")]

    def program():
        shared = ModelNamespace("team", ModelNamespaceArgs(name="team", monitoring=monitoring))
        for model in models:
            VllmModel(model.name, VllmModelArgs(model=model, node_group=group, namespace=shared, monitoring=monitoring),
                      pulumi.ResourceOptions())
        FleetMonitoring("fleet", FleetMonitoringArgs(models=models, monitoring=monitoring))
    recording = run_program(program)
    rules = {r.inputs["metadata"]["name"] for r in recording.by_type("kubernetes:monitoring.coreos.com/v1:PrometheusRule")}
    assert rules == {"old-alerts", "new-alerts", "vllm-fleet-hardware-alerts"}
    maps = {(c.inputs["metadata"]["namespace"], c.inputs["metadata"]["name"])
            for c in recording.by_type("kubernetes:core/v1:ConfigMap")}
    assert maps == {("team", "old-dashboard"), ("team", "new-dashboard"), ("monitoring", "vllm-fleet-dashboard")}


def test_every_accelerator_has_hardware_alerts_keyed_by_the_resource_its_pods_request():
    from vllm_eks.config.accelerators import ACCELERATORS
    assert set(alert_rules.HARDWARE_ALERTS) == {traits.resource_name for traits in ACCELERATORS.values()}


def test_docs_metrics_lists_what_the_code_queries_today():
    from pathlib import Path

    from vllm_eks.config.monitoring_series import reference
    doc = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"
    assert doc.read_text() == reference(), "regenerate: .venv/bin/python -m vllm_eks.config.monitoring_series > docs/metrics.md"


def test_the_queue_alert_fires_only_at_the_autoscaling_maximum_and_names_that_key():
    model = _model("m", "vllm/vllm-openai:v0.26.0", autoscaling={"minReplicas": 1, "maxReplicas": 4})
    [queue] = [a for a in alert_rules.model_alerts(model) if a.name == "VllmQueueGrowingAtMaxReplicas"]
    assert queue.expr is not None and queue.expr.endswith(">= 4)") and "autoscaling.maxReplicas" in queue.fix
