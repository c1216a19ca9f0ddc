"""What a `capacity: karpenter` node group adds: the NodePool's lifetime and disruption settings.

Field semantics are Karpenter's (aws/karpenter-provider-aws v1.14.1,
website/content/en/docs/concepts/disruption.md and nodepools.md); each docstring names the rule used.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Annotated

from pydantic import AfterValidator, Field

from .._base import ConfigModel
from ..errors import Fix, FixableError


class NodeCapacity(str, Enum):
    MANAGED = "managed"
    """An EKS managed node group at a fixed node count (desiredSize); no autoscaler adds nodes."""
    KARPENTER = "karpenter"
    """A Karpenter NodePool and EC2NodeClass: nodes are launched for pending pods and removed when empty,
    up to maxSize nodes (the NodePool's limits, in accelerator units)."""


# A Go duration as the NodePool CRD's pattern accepts it (karpenter.sh_nodepools.yaml v1.14.1,
# spec.template.spec.expireAfter: ^(([0-9]+(s|m|h))+|Never)$).
_DURATION = re.compile(r"^(([0-9]+(s|m|h))+)$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}


def duration_seconds(value: str) -> int:
    return sum(int(number) * _UNIT_SECONDS[unit] for number, unit in re.findall(r"([0-9]+)(s|m|h)", value))


def check_duration(value: str) -> str:
    if value == "Never" or _DURATION.match(value):
        return value
    days = re.fullmatch(r"([0-9]+)d", value)
    suggestion = f"{int(days.group(1)) * 24}h" if days else "720h"
    raise FixableError(f"{value!r} is not a duration Karpenter accepts (no days); write hours, minutes and seconds "
                       f"such as {suggestion!r}, '90m' or '1h30m', or 'Never'", Fix("", suggestion))


Duration = Annotated[str, AfterValidator(check_duration)]


class KarpenterPoolConfig(ConfigModel):
    """The NodePool of a `capacity: karpenter` group: how long nodes live and when Karpenter may remove them."""

    expire_after: Duration = "720h"
    """Longest node lifetime (`spec.template.spec.expireAfter`, Karpenter's default 720h): expiry drains the node
    even past do-not-disrupt pods once `terminationGracePeriod` ends, so it is also when a serving replica moves."""
    termination_grace_period: Duration = "2h"
    """How long a drained node waits for its pods (`spec.template.spec.terminationGracePeriod`). Karpenter advises
    setting it with expireAfter when pods carry karpenter.sh/do-not-disrupt, as model pods do while they start, or
    draining can block forever (disruption.md, Expiration)."""
    ami_version: str = Field("latest", pattern=r"^(latest|v[0-9]{8})$")
    """EKS-optimized AL2023 release the EC2NodeClass's `al2023@<version>` alias selects: `latest`, or a release tag
    such as `v20261101` to pin it (nodeclasses.md recommends pinning in production, so an AMI release never
    drifts every node at once)."""
    consolidate_after: Duration = "10m"
    """How long a node must stay empty before Karpenter removes it (`disruption.consolidateAfter`; the policy is
    WhenEmpty, so a node that still serves a model is never consolidated)."""
