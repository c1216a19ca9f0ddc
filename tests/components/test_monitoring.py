"""The Monitoring component and its builders: chart values the pinned chart knows, the agreed interface,
secrets kept out of the plan, exporters only on their own nodes, ServiceMonitors valid for the CRD."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import pytest
import yaml

from tests import crd_schemas
from tests.config.stacks import REACHABLE_CLUSTER
from tests.conftest import recording_for
from vllm_eks.components import _amazon_managed_args as amazon
from vllm_eks.components import _deployment_objects
from vllm_eks.components import _hardware_exporters as exporters
from vllm_eks.components import _prometheus_stack_values as values
from vllm_eks.components.platform import build_platform
from vllm_eks.config.accelerators import AcceleratorKind
from vllm_eks.config.loader import validate_stack_config
from vllm_eks.config.model import ModelConfig
from vllm_eks.config.monitoring import MonitoringConfig
from vllm_eks.config.platform.node_groups import ACCELERATOR_LABEL
from vllm_eks.preview.engine import Recording, run_program
from vllm_eks.preview.render import manifests

SUBCHARTS = ("grafana", "kube-state-metrics", "prometheus-node-exporter")
IN_CLUSTER = MonitoringConfig.model_validate({"backend": "in-cluster"})
PASSWORD = "never-in-the-plan-7f3a"
CHART = "kubernetes:helm.sh/v4:Chart"


def _chart_defaults() -> dict[str, Any]:
    defaults = yaml.safe_load(_pinned("kube-prometheus-stack values.yaml"))
    for name in SUBCHARTS:
        defaults[name] = {**yaml.safe_load(_pinned(f"{name} values.yaml")), **(defaults.get(name) or {})}
    return defaults


def _pinned(name: str) -> bytes:
    return crd_schemas.pinned_chart_file(name)


def _service_monitor_schema() -> dict[str, Any]:
    schema = crd_schemas.crd_schema("ServiceMonitor", "v1")
    if schema is None:
        pytest.skip(crd_schemas.missing_reason("ServiceMonitor"))
    return schema


def test_every_value_set_is_a_key_of_the_pinned_chart_or_its_subcharts():
    defaults = _chart_defaults()
    assert crd_schemas.unknown_value_paths(values.chart_values(IN_CLUSTER, "system"), defaults) == []


def test_the_key_check_catches_a_misspelt_value():
    assert crd_schemas.unknown_value_paths({"prometheus": {"prometheusSpec": {"retension": "1d"}}}, _chart_defaults()) == [
        "prometheus.prometheusSpec.retension"]


def test_the_values_keep_the_agreed_interface():
    spec = values.chart_values(IN_CLUSTER, "system")["prometheus"]["prometheusSpec"]
    assert {key: spec[key] for key in ("serviceMonitorSelectorNilUsesHelmValues", "podMonitorSelectorNilUsesHelmValues",
                                        "ruleSelectorNilUsesHelmValues")} == dict.fromkeys(
        ("serviceMonitorSelectorNilUsesHelmValues", "podMonitorSelectorNilUsesHelmValues", "ruleSelectorNilUsesHelmValues"), False)
    sidecar = values.chart_values(IN_CLUSTER, "system")["grafana"]["sidecar"]["dashboards"]
    assert sidecar == {"enabled": True, "label": "grafana_dashboard", "labelValue": "1", "searchNamespace": "ALL"}


def test_every_controller_of_the_chart_runs_on_the_system_nodes():
    chart = values.chart_values(IN_CLUSTER, "system")
    selectors = [chart["prometheusOperator"], chart["prometheusOperator"]["admissionWebhooks"]["patch"],
                 chart["prometheus"]["prometheusSpec"], chart["alertmanager"]["alertmanagerSpec"], chart["grafana"],
                 chart["kube-state-metrics"]]
    assert [s["nodeSelector"] for s in selectors] == [{"vllm-eks/node-group": "system"}] * len(selectors)


def test_the_charts_own_defaults_already_run_its_servers_as_non_root_with_runtime_default_seccomp():
    # Hardening the project relies on rather than restates (values.yaml of 88.5.3 and grafana 12.11.1).
    defaults = _chart_defaults()
    for context in (defaults["prometheusOperator"]["securityContext"], defaults["prometheus"]["prometheusSpec"]["securityContext"],
                    defaults["alertmanager"]["alertmanagerSpec"]["securityContext"]):
        assert context["runAsNonRoot"] is True and context["seccompProfile"] == {"type": "RuntimeDefault"}
    grafana = defaults["grafana"]
    assert grafana["securityContext"]["runAsNonRoot"] is True
    assert grafana["containerSecurityContext"]["capabilities"] == {"drop": ["ALL"]}


def _record_prod_like(monitoring: dict[str, Any], groups: list[dict[str, Any]], **more: Any) -> Recording:
    validated = validate_stack_config(
        {"cluster": REACHABLE_CLUSTER, "nodeGroups": groups, "monitoring": monitoring, "grafanaAdminPassword": PASSWORD, **more},
        secret_keys={"grafanaAdminPassword"})
    return run_program(lambda: build_platform(validated), stack="dev")


GPU_ONLY = [{"name": "g6e", "instanceType": "g6e.xlarge", "minSize": 0, "maxSize": 1}]


@pytest.fixture(scope="module")
def gpu_in_cluster() -> Recording:
    return _record_prod_like({"backend": "in-cluster"}, GPU_ONLY)


def test_the_grafana_password_reaches_a_secret_and_nothing_else(gpu_in_cluster):
    everything = json.dumps([r.inputs for r in gpu_in_cluster.resources])
    assert PASSWORD not in everything
    secret = next(obj for obj in manifests(gpu_in_cluster) if obj["kind"] == "Secret" and obj["metadata"]["name"] == "grafana-admin")
    assert secret["stringData"]["admin-password"] == "[secret]"
    chart = next(r for r in gpu_in_cluster.resources if r.type == CHART)
    assert chart.inputs["values"]["grafana"]["admin"]["existingSecret"] == "grafana-admin"


def test_the_chart_is_pinned_and_waits_for_its_namespace_secret_and_storage(gpu_in_cluster):
    chart = next(r for r in gpu_in_cluster.resources if r.type == CHART)
    assert (chart.inputs["chart"], chart.inputs["version"], chart.inputs["name"], chart.inputs["namespace"]) == (
        "kube-prometheus-stack", "88.5.3", "kube-prometheus-stack", "monitoring")
    names = {r.urn: r.name for r in gpu_in_cluster.resources}
    needs = {names[urn] for urn in chart.dependencies}
    assert {"platform-monitoring-namespace", "platform-monitoring-grafana-admin", "platform-monitoring-gp3"} <= needs


def test_only_the_accelerators_present_get_an_exporter(gpu_in_cluster):
    daemonsets = {obj["metadata"]["name"] for obj in manifests(gpu_in_cluster) if obj["kind"] == "DaemonSet"}
    assert "dcgm-exporter" in daemonsets and "neuron-monitor" not in daemonsets


def test_a_backend_off_installs_no_chart_and_no_exporter():
    recording = _record_prod_like({"backend": "off"}, GPU_ONLY)
    assert [r for r in recording.resources if r.type == CHART] == []
    assert [obj for obj in manifests(recording) if obj["metadata"]["name"] in ("dcgm-exporter", "grafana-admin", "gp3")] == []


@pytest.mark.parametrize("kind", list(exporters.EXPORTERS))
def test_each_exporter_runs_only_on_its_accelerators_nodes_and_tolerates_their_taint(kind):
    pod = exporters.daemonset_object(exporters.EXPORTERS[kind])["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {ACCELERATOR_LABEL: kind.value}
    taint = {AcceleratorKind.GPU: "nvidia.com/gpu", AcceleratorKind.NEURON: "aws.amazon.com/neuron"}[kind]
    assert {"key": taint, "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]
    assert pod["automountServiceAccountToken"] is False


@pytest.mark.parametrize("kind", list(exporters.EXPORTERS))
def test_each_exporters_service_monitor_selects_its_service_and_is_valid_for_the_crd(kind):
    spec = exporters.EXPORTERS[kind]
    monitor = exporters.service_monitor_object(spec, 15)
    service = exporters.service_object(spec)
    labels = service["metadata"]["labels"]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert monitor["spec"]["endpoints"][0]["port"] == service["spec"]["ports"][0]["name"]
    schema = _service_monitor_schema()
    jsonschema.validate(monitor, schema)


def test_the_crd_check_rejects_a_malformed_service_monitor():
    schema = _service_monitor_schema()
    bad = {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": {"name": "x"},
           "spec": {"selector": {}, "endpoints": [{"port": 9400}]}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_prod_renders_the_chart_and_both_exporters():
    recording = recording_for("prod")
    assert [r.inputs["version"] for r in recording.resources if r.type == CHART and r.inputs["chart"] == "kube-prometheus-stack"] == ["88.5.3"]
    names = {obj["metadata"]["name"] for obj in manifests(recording) if obj["kind"] in ("DaemonSet", "ServiceMonitor")}
    assert {"dcgm-exporter", "neuron-monitor"} <= names


@pytest.fixture(scope="module")
def amazon_managed() -> Recording:
    groups = [*GPU_ONLY, {"name": "inf2", "instanceType": "inf2.xlarge", "minSize": 0, "maxSize": 1}]
    # Without models the collector has nothing the NetworkPolicy would refuse; the stack turns it off as the
    # amazon-managed rule asks of a stack with models.
    return _record_prod_like({"backend": "amazon-managed", "scrapeIntervalSeconds": 30}, groups, networkPolicy={"enabled": False})


def test_amazon_managed_creates_a_workspace_its_collector_and_managed_grafana_and_no_chart(amazon_managed):
    types = [r.type for r in amazon_managed.resources]
    assert CHART not in types
    assert {"aws:amp/workspace:Workspace", "aws:amp/scraper:Scraper", "aws:grafana/workspace:Workspace"} <= set(types)
    scraper = next(r for r in amazon_managed.resources if r.type == "aws:amp/scraper:Scraper")
    assert scraper.inputs["source"]["eks"]["clusterArn"].startswith("arn:aws:eks:")
    assert len(scraper.inputs["source"]["eks"]["subnetIds"]) >= 2  # the collector needs two zones


def test_the_collector_scrapes_the_exporters_without_service_monitors(amazon_managed):
    scraper = next(r for r in amazon_managed.resources if r.type == "aws:amp/scraper:Scraper")
    config = yaml.safe_load(scraper.inputs["scrapeConfiguration"])
    assert config["global"]["scrape_interval"] == "30s"
    exporter_job = next(job for job in config["scrape_configs"] if job["job_name"] == "accelerator-exporters")
    assert exporter_job["relabel_configs"][0]["regex"] == "(dcgm-exporter|neuron-monitor);metrics"
    assert [obj for obj in manifests(amazon_managed) if obj["kind"] == "ServiceMonitor"] == []


def test_the_collectors_model_job_keeps_exactly_what_a_vllm_service_exposes():
    model = ModelConfig(name="qwen", accelerator="gpu", node_group="g6e", image="vllm/vllm-openai:v0.10.2", model="Qwen/Qwen3-8B")
    service = _deployment_objects.service_object(model)
    config = yaml.safe_load(amazon.scrape_configuration(IN_CLUSTER, [model.namespace], []))
    keep = config["scrape_configs"][0]["relabel_configs"][0]
    value = f"{service['metadata']['labels']['app.kubernetes.io/name']};{service['spec']['ports'][0]['name']}"
    assert re.fullmatch(keep["regex"], value)
    assert config["scrape_configs"][0]["kubernetes_sd_configs"][0]["namespaces"]["names"] == [model.namespace]
