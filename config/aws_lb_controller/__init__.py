"""The AWS Load Balancer Controller's chart pin.

Its IAM policy is not shipped here: the controller's install guide (kubernetes-sigs/aws-load-balancer-controller
docs/deploy/installation.md at tag v3.5.0, commit 11eb202c) has each account create it from that release's
docs/install/iam_policy.json, and the stack names it in `exposure.loadBalancerControllerPolicyArn`.
"""

from __future__ import annotations

CHART_VERSION = "3.5.0"
"""eks/aws-load-balancer-controller (Chart.yaml version and appVersion v3.5.0 at the tag above)."""
CHART_REPOSITORY = "https://aws.github.io/eks-charts"
"""The chart's repository (helm/aws-load-balancer-controller/README.md: helm repo add eks ...)."""
POLICY_DOCUMENT_URL = "https://raw.githubusercontent.com/kubernetes-sigs/aws-load-balancer-controller/v3.5.0/docs/install/iam_policy.json"
"""Where the install guide downloads the policy document for this release."""
