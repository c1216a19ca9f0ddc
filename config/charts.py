"""Helm charts the platform installs, pinned: repository, chart, version and where the pin was read.

Offline a chart is one opaque resource (pulumi-kubernetes renders it at apply time); the preview
shows its name, version and values. Neither chart publishes a values.schema.json at these versions
(none in charts/karpenter/ at v1.14.1 nor in keda/ at v2.20.2); every key the library sets is checked
against the key paths of the chart's own values.yaml instead (tests/components/test_chart_values.py,
files by checksum through tests/crd_schemas.py).
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


@dataclass(frozen=True)
class ImagePin:
    repository: str
    tag: str
    digest: str


KARPENTER_CONTROLLER_IMAGE = ImagePin("public.ecr.aws/karpenter/controller", "1.14.1",
                                      "sha256:445baefaaa689029cc12ac1f659b916b0b82fb14308ce536f8521fcf079116fa")
"""The controller image chart 1.14.1 runs, set explicitly. The chart's values.yaml in the v1.14.1 tag's tree still
names 1.13.0 (tag and digest); the release build rewrites controller.image.{repository,tag,digest} with the image it
has just published (`yq e -i` in hack/release/common.sh `build`) before `helm package`, and its StableRelease commit
on branch release-v1.14.1 (c88abbbad, "Stable Release updates Release v1.14.1") records tag 1.14.1 with this digest.
main's values.yaml after the 1.14.1 docs commit (1d927085d) pairs tag 1.14.1 with 1.14.0's digest (sha256:7231309...,
from "Stable Release updates Release v1.14.0"), which a registry would resolve to 1.14.0 (the digest wins:
templates/_helpers.tpl `karpenter.controller.image` prints repository:tag@digest). Pinning it here makes the image
what the preview shows and what the CRDs checked (1.14.1's) belong to."""
KEDA_CHART = ChartPin(
    chart="keda",
    version="2.20.2",
    repository="https://kedacore.github.io/charts",
    namespace="keda",
    source="kedacore/charts v2.20.2 keda/Chart.yaml (version 2.20.2, appVersion 2.20.2) and keda/values.yaml",
)
