"""Cross-field monitoring rules: a backend's settings, the secrets it needs, and when `off` is a risk."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from pydantic import SecretStr

from .errors import ConfigIssue, Fix
from .model import ModelConfig
from .monitoring import AMP_MIN_SCRAPE_INTERVAL_SECONDS, AmazonManagedCollector, MonitoringBackend, MonitoringConfig

if TYPE_CHECKING:
    from .stack import NetworkPolicyConfig

GRAFANA_PASSWORD_KEY = "grafanaAdminPassword"
GRAFANA_PASSWORD_FIX = f"`pulumi config set --secret {GRAFANA_PASSWORD_KEY} <password>`"

# Keys of `monitoring` that only one backend reads: set under another, they would be silently ignored.
_BACKEND_ONLY = {
    "prometheus": (MonitoringBackend.IN_CLUSTER, "prometheus"),
    "alertmanager": (MonitoringBackend.IN_CLUSTER, "alertmanager"),
    "amazon_managed": (MonitoringBackend.AMAZON_MANAGED, "amazonManaged"),
}


class _MonitoredStack(Protocol):
    @property
    def monitoring(self) -> MonitoringConfig: ...
    @property
    def network_policy(self) -> NetworkPolicyConfig: ...
    @property
    def models(self) -> list[ModelConfig]: ...
    @property
    def grafana_admin_password(self) -> SecretStr | None: ...


def monitoring_issues(stack: _MonitoredStack) -> list[ConfigIssue]:
    monitoring = stack.monitoring
    issues = [
        ConfigIssue(
            f"monitoring.{key}",
            f"is read only with backend {backend.value!r}, but backend is {monitoring.backend.value!r}; remove it, "
            f"or set monitoring.backend: {backend.value}",
            (Fix(f"monitoring.{key}", remove=True),),
        )
        for field, (backend, key) in _BACKEND_ONLY.items()
        if field in monitoring.model_fields_set and monitoring.backend is not backend
    ]
    backend = monitoring.backend
    if backend is MonitoringBackend.AMAZON_MANAGED and monitoring.scrape_interval_seconds < AMP_MIN_SCRAPE_INTERVAL_SECONDS:
        issues.append(ConfigIssue(
            "monitoring.scrapeIntervalSeconds",
            f"{monitoring.scrape_interval_seconds} is below the {AMP_MIN_SCRAPE_INTERVAL_SECONDS} seconds the AMP managed "
            f"collector accepts (AMP-collector-how-to.html, 'Scrape interval'); set it to {AMP_MIN_SCRAPE_INTERVAL_SECONDS}",
            (Fix("monitoring.scrapeIntervalSeconds", AMP_MIN_SCRAPE_INTERVAL_SECONDS),),
        ))
    if backend is MonitoringBackend.AMAZON_MANAGED and stack.network_policy.enabled and stack.models:
        # The managed collector scrapes from network interfaces it places in the cluster's subnets
        # (AMP-collector-how-to.html): it is no pod, so no namespace or pod selector of the models'
        # default-deny NetworkPolicy admits it, and only a CIDR rule would, admitting every node there too.
        issues.append(ConfigIssue(
            "monitoring.backend",
            "'amazon-managed' scrapes the models from AWS's collector in the node subnets, which the models' "
            "default-deny NetworkPolicy refuses, so no vLLM metric would arrive; use backend: in-cluster, or set "
            "networkPolicy.enabled: false where another policy engine admits the collector",
        ))
    if backend is MonitoringBackend.AMAZON_MANAGED and monitoring.amazon_managed.collector is AmazonManagedCollector.ADOT:
        issues.append(ConfigIssue(
            "monitoring.amazonManaged.collector",
            # cert-manager: https://docs.aws.amazon.com/eks/latest/userguide/add-ons-adot.html
            "'adot' (the AWS Distro for OpenTelemetry collector in the cluster) is not built by this project: it needs "
            "cert-manager and the ADOT operator on the cluster; use 'managed-scraper', which AWS runs outside the "
            "cluster and which scrapes the same endpoints",
            (Fix("monitoring.amazonManaged.collector", AmazonManagedCollector.MANAGED_SCRAPER.value),),
        ))
    if backend is MonitoringBackend.IN_CLUSTER and monitoring.grafana.enabled and stack.grafana_admin_password is None:
        issues.append(ConfigIssue(
            GRAFANA_PASSWORD_KEY,
            f"monitoring.backend is in-cluster with Grafana, whose admin password comes from this secret and is not "
            f"set; run {GRAFANA_PASSWORD_FIX}, or set monitoring.grafana.enabled: false",
            # The one fix that is an edit of the file; the secret is set with the command.
            (Fix("monitoring.grafana", {"enabled": False}),),
        ))
    if backend is MonitoringBackend.IN_CLUSTER:
        model_namespaces = {model.namespace for model in stack.models}
        if monitoring.prometheus_namespace in model_namespaces:
            free = next(name for name in ("monitoring", "vllm-eks-monitoring", "prometheus") if name not in model_namespaces)
            issues.append(ConfigIssue(
                "monitoring.prometheusNamespace",
                f"{monitoring.prometheus_namespace!r} is also a model namespace, whose default-deny NetworkPolicy "
                f"would cut Prometheus, Grafana and the Operator off from each other; use a namespace of its own "
                f"such as {free!r}",
                (Fix("monitoring.prometheusNamespace", free),),
            ))
    return issues


def monitoring_warnings(stack: _MonitoredStack) -> list[str]:
    """Monitoring off where a person will need it: several replicas (a load that is shared and queued)."""
    if stack.monitoring.enabled:
        return []
    scaled = [f"models[{index}] {model.name!r} ({model.replicas} replicas)"
              for index, model in enumerate(stack.models) if _serves_several_replicas(model)]
    if not scaled:
        return []
    return [
        f"monitoring.backend: off, but {_listing(scaled)} share load across replicas with nothing recording their "
        f"queues, KV-cache use or errors; set monitoring.backend: in-cluster (or amazon-managed), see docs/monitoring.md"
    ]


def _serves_several_replicas(model: ModelConfig) -> bool:
    return model.replicas > 1


def _listing(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"
