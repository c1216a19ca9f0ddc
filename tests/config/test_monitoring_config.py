"""The `monitoring` block: backends, the keys each reads, the in-cluster query URL, and the warning for `off`."""

from __future__ import annotations

import pytest

from tests.config.stacks import REACHABLE_CLUSTER, parse_stack, warnings_of
from vllm_eks.config.errors import ConfigError
from vllm_eks.config.loader import validate_stack_config
from vllm_eks.config.monitoring import MonitoringBackend, MonitoringConfig, check_retention
from vllm_eks.config.prometheus_stack import chart_fullname, prometheus_query_url, prometheus_service_name

GROUP = {"name": "g6e", "instanceType": "g6e.xlarge", "minSize": 2, "maxSize": 2}


def _model(replicas: int = 1, **extra) -> dict:
    return {"name": "qwen", "accelerator": "gpu", "nodeGroup": "g6e", "image": "vllm/vllm-openai:v0.10.2",
            "source": "image", "model": "/models/qwen3-8b", "maxModelLen": 4096, "replicas": replicas,
            "architecture": "Qwen/Qwen3-8B", **extra}


def test_the_existing_keys_keep_their_meaning_with_the_backend_off_by_default():
    monitoring = MonitoringConfig.model_validate({"serviceMonitors": True, "prometheusNamespace": "obs", "scrapeIntervalSeconds": 30})
    assert monitoring.backend is MonitoringBackend.OFF
    assert (monitoring.service_monitors, monitoring.prometheus_namespace, monitoring.scrape_interval_seconds) == (True, "obs", 30)
    assert not monitoring.enabled


def test_an_in_cluster_backend_scrapes_the_models_unless_told_not_to():
    assert MonitoringConfig.model_validate({"backend": "in-cluster"}).service_monitors is True
    assert MonitoringConfig.model_validate({"backend": "in-cluster", "serviceMonitors": False}).service_monitors is False
    assert MonitoringConfig.model_validate({"backend": "amazon-managed"}).service_monitors is False


@pytest.mark.parametrize("value", ["15d", "1w3d", "0", "720h", "1y", "90m30s"])
def test_retention_accepts_what_the_prometheus_crd_accepts(value):
    assert check_retention(value) == value


@pytest.mark.parametrize("value", ["15 days", "3d1w", "15D", "1.5d", ""])
def test_retention_refuses_what_the_prometheus_crd_refuses(value):
    with pytest.raises(ValueError, match="not a Prometheus duration"):
        check_retention(value)


def test_the_query_url_follows_the_charts_service_naming():
    # templates/_helpers.tpl: a release name holding the chart name is used alone, cut to 26 characters.
    assert chart_fullname() == "kube-prometheus-stack"
    assert chart_fullname("metrics") == "metrics-kube-prometheus-st"
    assert chart_fullname("kube-prometheus-stack-production") == "kube-prometheus-stack-prod"
    assert prometheus_service_name() == "kube-prometheus-stack-prometheus"
    in_cluster = MonitoringConfig.model_validate({"backend": "in-cluster", "prometheusNamespace": "obs"})
    assert prometheus_query_url(in_cluster) == "http://kube-prometheus-stack-prometheus.obs.svc:9090"


@pytest.mark.parametrize("backend", ["off", "amazon-managed"])
def test_there_is_no_in_cluster_query_url_without_an_in_cluster_prometheus(backend):
    assert prometheus_query_url(MonitoringConfig.model_validate({"backend": backend})) is None


def test_monitoring_off_warns_at_its_key_when_a_model_runs_several_replicas():
    stack = parse_stack({"nodeGroups": [GROUP], "models": [_model(replicas=2)]})
    assert [w for w in warnings_of(stack) if w.startswith("monitoring.")] == [
        "monitoring.backend: off, but models[0] 'qwen' (2 replicas) share load across replicas with nothing recording "
        "their queues, KV-cache use or errors; set monitoring.backend: in-cluster (or amazon-managed), see docs/monitoring.md"
    ]


def test_monitoring_off_does_not_warn_for_single_replicas_as_in_the_workshop():
    stack = parse_stack({"nodeGroups": [GROUP], "models": [_model(replicas=1)]})
    assert [w for w in warnings_of(stack) if w.startswith("monitoring.")] == []


def test_a_backend_on_silences_the_warning():
    stack = parse_stack({"nodeGroups": [GROUP], "models": [_model(replicas=2)],
                         "monitoring": {"backend": "in-cluster", "grafana": {"enabled": False}}})
    assert [w for w in warnings_of(stack) if w.startswith("monitoring.")] == []


def test_keys_of_another_backend_are_refused_at_their_path():
    with pytest.raises(ConfigError) as error:
        validate_stack_config({"cluster": REACHABLE_CLUSTER, "monitoring": {
            "backend": "in-cluster", "amazonManaged": {"workspaceAlias": "x"}, "grafana": {"enabled": False}}})
    assert [issue.path for issue in error.value.issues] == ["monitoring.amazonManaged"]


def test_the_grafana_password_is_required_only_where_grafana_runs_in_the_cluster():
    base = {"cluster": REACHABLE_CLUSTER}
    validate_stack_config({**base, "monitoring": {"backend": "in-cluster", "grafana": {"enabled": False}}})
    validate_stack_config({**base, "monitoring": {"backend": "in-cluster"}, "grafanaAdminPassword": "s3cret"},
                          secret_keys={"grafanaAdminPassword"})
    with pytest.raises(ConfigError) as error:
        validate_stack_config({**base, "monitoring": {"backend": "in-cluster"}})
    assert [issue.path for issue in error.value.issues] == ["grafanaAdminPassword"]


def test_the_grafana_password_never_appears_in_an_error_or_a_dump():
    stack = validate_stack_config({"cluster": REACHABLE_CLUSTER, "monitoring": {"backend": "in-cluster"},
                                   "grafanaAdminPassword": "correct-horse-battery"}, secret_keys={"grafanaAdminPassword"}).stack
    assert "correct-horse-battery" not in repr(stack) + stack.model_dump_json()
    assert stack.grafana_admin_password is not None
    assert stack.grafana_admin_password.get_secret_value() == "correct-horse-battery"
