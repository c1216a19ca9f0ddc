"""Where the models' metrics go: the stack's `monitoring` block and the rules that span it.

Three backends (docs/monitoring.md says why prod runs in-cluster):
- `off`: nothing is installed; `serviceMonitors: true` still renders ServiceMonitors for a Prometheus
  Operator the cluster already runs (the behaviour before backends existed).
- `in-cluster`: kube-prometheus-stack (config/prometheus_stack.py pins it): the Prometheus Operator and
  its CRDs, Prometheus with retention and a PersistentVolumeClaim, Grafana, Alertmanager.
- `amazon-managed`: an Amazon Managed Service for Prometheus workspace fed by its managed collector
  (aws.amp.Scraper, a Prometheus scrape configuration: no ServiceMonitors), and optionally an Amazon
  Managed Grafana workspace.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Annotated, Any

from pydantic import AfterValidator, Field, model_validator

from ._base import ConfigModel
from .errors import Fix, FixableError
from .types import DnsLabel, StorageQuantity

# prometheus-operator's Prometheus CRD, spec.retention (kube-prometheus-stack 88.5.3,
# charts/crds/crds/crd-prometheuses.yaml): "0", or units from years down to milliseconds, in order.
_RETENTION = re.compile(r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$")


_UNIT_WORDS = {"year": "y", "week": "w", "day": "d", "hour": "h", "minute": "m", "second": "s"}
_SPELLED = re.compile(r"^(\d+)\s*(year|week|day|hour|minute|second)s?$", re.IGNORECASE)


def check_retention(value: str) -> str:
    if not value or not _RETENTION.match(value):
        message = (f"{value!r} is not a Prometheus duration; write whole numbers with units from largest to smallest "
                   f"(y, w, d, h, m, s, ms), e.g. '15d' or '1w3d', as the Prometheus CRD's spec.retention pattern requires")
        spelled = _SPELLED.match(value or "")
        if spelled:
            # '15 days' means '15d': say it, and carry it as the fix.
            duration = f"{spelled.group(1)}{_UNIT_WORDS[spelled.group(2).lower()]}"
            raise FixableError(f"{message}; here {duration!r}", Fix("", duration))
        raise ValueError(message)
    return value


RetentionDuration = Annotated[str, AfterValidator(check_retention)]

AMP_MIN_SCRAPE_INTERVAL_SECONDS = 30
"""The AMP managed collector refuses scrape intervals below 30 seconds
(https://docs.aws.amazon.com/prometheus/latest/userguide/AMP-collector-how-to.html, "Scrape interval")."""


class MonitoringBackend(str, Enum):
    OFF = "off"
    IN_CLUSTER = "in-cluster"
    AMAZON_MANAGED = "amazon-managed"


class AmazonManagedCollector(str, Enum):
    MANAGED_SCRAPER = "managed-scraper"
    """The AWS managed collector (aws.amp.Scraper): runs outside the cluster, nothing to operate."""
    ADOT = "adot"
    """The AWS Distro for OpenTelemetry collector in the cluster; not built (refused with the reason: it
    needs cert-manager and the ADOT operator)."""


class PrometheusConfig(ConfigModel):
    """The in-cluster Prometheus (`backend: in-cluster`)."""

    retention: RetentionDuration = "15d"
    """How long samples are kept (Prometheus duration: '15d', '1w3d'); the chart's own default is 10d."""
    storage_size: StorageQuantity = "50Gi"
    """Size of Prometheus's PersistentVolumeClaim (an EBS gp3 volume). Prometheus stores about 1-2 bytes
    per sample: a few hundred series per model at a 15s interval fit 15 days in a few GiB."""
    storage_class: DnsLabel = "gp3"
    """StorageClass of that claim. `gp3` is created with the stack (encrypted EBS through the EBS CSI
    add-on). Not `efs`: Prometheus does not support NFS file systems such as EFS for its local storage."""


class GrafanaConfig(ConfigModel):
    """Grafana next to Prometheus (`in-cluster`) or an Amazon Managed Grafana workspace (`amazon-managed`)."""

    enabled: bool = True
    """Install Grafana (in-cluster: the chart's, admin password from `grafanaAdminPassword`; amazon-managed:
    an Amazon Managed Grafana workspace with AWS IAM Identity Center sign-in)."""


class AmazonManagedConfig(ConfigModel):
    """Amazon Managed Service for Prometheus (`backend: amazon-managed`)."""

    collector: AmazonManagedCollector = AmazonManagedCollector.MANAGED_SCRAPER
    """What scrapes the cluster and writes to the workspace: `managed-scraper` (AWS runs it)."""
    workspace_alias: str | None = Field(None, min_length=1, max_length=100)
    """Alias of the AMP workspace (default: the cluster's name)."""


class MonitoringConfig(ConfigModel):
    """Where the models' metrics go and how they are scraped (queue depth, KV-cache use, preemptions)."""

    backend: MonitoringBackend = MonitoringBackend.OFF
    """`off` (install nothing), `in-cluster` (kube-prometheus-stack: Prometheus, Grafana, Alertmanager) or
    `amazon-managed` (an Amazon Managed Service for Prometheus workspace with its managed collector, and
    Amazon Managed Grafana). docs/monitoring.md compares cost and operations."""
    service_monitors: bool = False
    """Create the `vllm-monitor` ServiceMonitor in each model namespace (it scrapes every model there); needs
    the Prometheus Operator's CRDs in the cluster. Defaults to true with `backend: in-cluster` (which installs
    them), false otherwise."""
    prometheus_namespace: DnsLabel = "monitoring"
    """Namespace Prometheus runs in (the in-cluster stack is installed here); while serviceMonitors is on, each
    model's NetworkPolicy admits the Prometheus server pods there (and no other pod of that namespace)."""
    scrape_interval_seconds: int = Field(15, ge=5, le=300)
    """How often Prometheus scrapes each model (the guide's 15s); at least 30 with `amazon-managed`, whose
    collector refuses shorter intervals."""
    prometheus: PrometheusConfig = Field(default_factory=PrometheusConfig)
    """The in-cluster Prometheus: retention and storage (`backend: in-cluster` only)."""
    grafana: GrafanaConfig = Field(default_factory=GrafanaConfig)
    """Grafana, in the cluster or Amazon Managed Grafana."""
    alertmanager: bool = True
    """Run the chart's Alertmanager (`backend: in-cluster`); alert routes are configured by you."""
    amazon_managed: AmazonManagedConfig = Field(default_factory=AmazonManagedConfig)
    """The AMP workspace and its collector (`backend: amazon-managed` only)."""
    hardware_exporters: bool = True
    """With a backend on: the NVIDIA DCGM exporter on GPU nodes and neuron-monitor on Neuron nodes (each
    only where such node groups exist), scraped by the backend."""

    @model_validator(mode="before")
    @classmethod
    def _service_monitors_follow_the_backend(cls, data: Any) -> Any:
        """An in-cluster stack installs the Operator, so its models are scraped unless told otherwise."""
        if not isinstance(data, dict) or "serviceMonitors" in data or "service_monitors" in data:
            return data
        if data.get("backend") == MonitoringBackend.IN_CLUSTER.value or data.get("backend") is MonitoringBackend.IN_CLUSTER:
            return {**data, "serviceMonitors": True}
        return data

    @property
    def enabled(self) -> bool:
        return self.backend is not MonitoringBackend.OFF
