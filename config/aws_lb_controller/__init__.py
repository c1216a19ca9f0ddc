"""The AWS Load Balancer Controller's IAM policy, vendored with the chart version it belongs to.

data/iam_policy.json: kubernetes-sigs/aws-load-balancer-controller docs/install/iam_policy.json at tag
v3.5.0 (commit 11eb202c97e4ae2ee45e0658c4cde9a4b59f33d4), the policy the project's install guide
attaches to the controller's role; the chart at that tag is helm/aws-load-balancer-controller 3.5.0.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

CHART_VERSION = "3.5.0"
"""eks/aws-load-balancer-controller (Chart.yaml version and appVersion v3.5.0 at the tag above)."""
CHART_REPOSITORY = "https://aws.github.io/eks-charts"
"""The chart's repository (helm/aws-load-balancer-controller/README.md: helm repo add eks ...)."""


def iam_policy() -> dict[str, Any]:
    policy: dict[str, Any] = json.loads(resources.files(__package__).joinpath("data/iam_policy.json").read_text())
    return policy
