"""Helm charts the platform installs, pinned: repository, chart, version and where the pin was read.

Offline a chart is one opaque resource (pulumi-kubernetes renders it at apply time); the preview
shows its name, version and values. Neither chart publishes a values.schema.json at these versions
(checked in the charts' source trees); their values are not yet checked against the keys of the charts'
own values.yaml, as the load balancer controller's and kube-prometheus-stack's are (tests/crd_schemas.py).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChartPin:
    chart: str
    """Chart reference as `helm install` takes it (an OCI reference, or the name in `repository`)."""
    version: str
    repository: str
    """Helm repository URL; empty for an OCI chart reference."""
    namespace: str
    source: str
    """Where the version and the values' keys were read."""


KARPENTER_CHART = ChartPin(
    chart="oci://public.ecr.aws/karpenter/karpenter",
    version="1.14.1",
    repository="",
    # Karpenter's docs install it into kube-system (getting-started-with-karpenter, step08-apply-helm-chart.sh).
    namespace="kube-system",
    source="aws/karpenter-provider-aws v1.14.1 charts/karpenter/Chart.yaml (version 1.14.1) and values.yaml",
)
KEDA_CHART = ChartPin(
    chart="keda",
    version="2.20.2",
    repository="https://kedacore.github.io/charts",
    namespace="keda",
    source="kedacore/charts v2.20.2 keda/Chart.yaml (version 2.20.2, appVersion 2.20.2) and keda/values.yaml",
)
