"""The metrics stage's pure parts: the ServiceMonitor as a scrape config, and the names an expression selects."""

from __future__ import annotations

from pathlib import Path

from boot.pod import plan_deployments
from e2e.metrics import metric_names, name_source, scrape_config
from e2e.servers import plan_servers
from vllm_eks.components._scrape_objects import service_monitor_object
from vllm_eks.config.stack import MonitoringConfig
from vllm_eks.config.vllm_facts import facts_for
from vllm_eks.preview.render import manifests


def _servers(dev_recording, tmp_path: Path):
    objects = manifests(dev_recording)
    plans, _ = plan_deployments("dev", objects, home_for_uid=lambda uid: "/root")
    templates = {"tool_chat_template_llama3.1_json.jinja": Path("/t.jinja")}
    return plan_servers("dev", objects, plans, model_dir=Path("/m"), templates=templates, work=tmp_path, ports=[18001, 18002])


def test_the_rendered_service_monitor_becomes_one_job_targeting_every_dev_server(dev_recording, tmp_path):
    servers = _servers(dev_recording, tmp_path)
    config = scrape_config(service_monitor_object("vllm", MonitoringConfig(service_monitors=True)), servers)
    [job] = config["scrape_configs"]
    assert job["job_name"] == "serviceMonitor/vllm/vllm-monitor/0"
    assert (job["scrape_interval"], job["metrics_path"]) == ("15s", "/metrics")
    assert sorted(t["targets"][0] for t in job["static_configs"]) == ["127.0.0.1:18001", "127.0.0.1:18002"]
    assert {t["labels"]["service"] for t in job["static_configs"]} == {s.deployment for s in servers}
    assert {t["labels"]["namespace"] for t in job["static_configs"]} == {"vllm"}


def test_a_service_monitor_for_another_namespace_targets_nothing(dev_recording, tmp_path):
    config = scrape_config(service_monitor_object("other", MonitoringConfig(service_monitors=True)), _servers(dev_recording, tmp_path))
    assert config["scrape_configs"][0]["static_configs"] == []


def test_metric_names_skip_functions_labels_keywords_and_ranges():
    expr = ('(sum by (namespace, model_name) (vllm:num_requests_waiting{namespace="vllm", model_name="m"}) > 0) and on() '
            '(deriv((sum(vllm:num_requests_waiting{model_name="m"}))[10m:1m]) > 0) and on() '
            '(sum(kube_deployment_status_replicas_available{deployment="m"}) >= 1)')
    assert metric_names(expr) == {"vllm:num_requests_waiting", "kube_deployment_status_replicas_available"}
    assert metric_names('histogram_quantile(0.95, sum by (le) (rate(vllm:e2e_request_latency_seconds_bucket[5m])))') == {
        "vllm:e2e_request_latency_seconds_bucket"}


def test_a_name_is_accepted_from_the_servers_a_version_table_or_the_external_list_and_nowhere_else():
    table = [facts_for("0.10.2")]
    assert name_source("vllm:gpu_cache_usage_perc", set(), table) == "vLLM 0.10.2 table"
    assert name_source("vllm:time_to_first_token_seconds_bucket", set(), table) == "vLLM 0.10.2 table"
    assert name_source("vllm:x", {"vllm:x"}, []) == "exported"
    assert name_source("DCGM_FI_DEV_XID_ERRORS", set(), []).startswith("external")
    assert name_source("vllm:gpu_cache_usage_perc", set(), [facts_for("0.26.0")]) is None
