"""`monitoring.backend: amazon-managed`: the AMP managed collector's scrape configuration and the AMG role.

The collector (aws.amp.Scraper) scrapes from ENIs in the cluster's subnets and reaches the cluster's API
through an EKS access entry that AMP creates itself when the cluster authenticates with `API` (this
project's EksCluster does). It reads a Prometheus scrape configuration, not ServiceMonitors; what it
accepts (https://docs.aws.amazon.com/prometheus/latest/userguide/AMP-collector-how-to.html, "Scraper
configuration"): global, scrape_config, static_config, relabel_config, metric_relabel_configs and
kubernetes_sd_config only, and no scrape interval below 30 seconds. The jobs below select the same
endpoints the in-cluster ServiceMonitors do (the models' `http` port, the exporters' `metrics` port) and
label series as the Prometheus Operator does (job = Service name, namespace, service, pod), so one set of
dashboards and alert expressions serves both backends.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import yaml

from ..config.model import VLLM_PORT_NAME
from ..config.monitoring import AMP_MIN_SCRAPE_INTERVAL_SECONDS, MonitoringConfig
from ._hardware_exporters import METRICS_PORT_NAME
from ._hardware_exporters import NAMESPACE as EXPORTER_NAMESPACE

AMG_QUERY_POLICY = "arn:aws:iam::aws:policy/AmazonPrometheusQueryAccess"
GRAFANA_PRINCIPAL = "grafana.amazonaws.com"
SCRAPER_WORKSPACE_TAG = "AMPAgentlessScraper"
"""The collector tags its destination workspace with this key; setting it ourselves keeps `pulumi up`
from removing it on every run (pulumi_aws amp.Scraper docs, "Ignoring changes to Prometheus Workspace")."""

_SERVICE_NAME_LABEL = "__meta_kubernetes_service_label_app_kubernetes_io_name"
_OPERATOR_LIKE_LABELS: list[dict[str, Any]] = [
    {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
    {"source_labels": ["__meta_kubernetes_service_name"], "target_label": "service"},
    {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
    {"source_labels": ["__meta_kubernetes_service_name"], "target_label": "job"},
]


def _endpoints_job(name: str, namespaces: Sequence[str], app_names: Sequence[str], port: str) -> dict[str, Any]:
    return {
        "job_name": name,
        "metrics_path": "/metrics",
        "kubernetes_sd_configs": [{"role": "endpoints", "namespaces": {"names": list(namespaces)}}],
        "relabel_configs": [
            {"source_labels": [_SERVICE_NAME_LABEL, "__meta_kubernetes_endpoint_port_name"],
             "regex": f"({'|'.join(app_names)});{port}", "action": "keep"},
            *_OPERATOR_LIKE_LABELS,
        ],
    }


def scrape_configuration(monitoring: MonitoringConfig, model_namespaces: Sequence[str], exporters: Sequence[str]) -> str:
    """The collector's configuration: every vLLM Service's `http` port in the model namespaces (Services
    carry `app.kubernetes.io/name: vllm`, components/_labels.py), and the hardware exporters present."""
    jobs = []
    if model_namespaces:
        jobs.append(_endpoints_job("vllm", sorted(set(model_namespaces)), ["vllm"], VLLM_PORT_NAME))
    if exporters:
        jobs.append(_endpoints_job("accelerator-exporters", [EXPORTER_NAMESPACE], sorted(exporters), METRICS_PORT_NAME))
    interval = max(monitoring.scrape_interval_seconds, AMP_MIN_SCRAPE_INTERVAL_SECONDS)
    return yaml.safe_dump({"global": {"scrape_interval": f"{interval}s"}, "scrape_configs": jobs}, sort_keys=False)


def grafana_trust_policy() -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": GRAFANA_PRINCIPAL}, "Action": "sts:AssumeRole"}],
    })


def grafana_workspace_args(name: str) -> dict[str, Any]:
    """Sign-in through AWS IAM Identity Center; the workspace reads AMP with its own role."""
    return {
        "name": name,
        "account_access_type": "CURRENT_ACCOUNT",
        "authentication_providers": ["AWS_SSO"],
        "permission_type": "SERVICE_MANAGED",
        "data_sources": ["PROMETHEUS"],
        "description": "vllm-eks: dashboards over the stack's Amazon Managed Service for Prometheus workspace",
    }
