"""Where a model's pods may run: the node selector and tolerations derived from its node group.

Shared by the Deployment builder and the placement checks, so what is checked is what is rendered.
"""

from __future__ import annotations

from .accelerators import ACCELERATORS
from .model import ModelConfig
from .platform.node_groups import INSTANCE_FAMILY_LABEL, INSTANCE_TYPE_LABEL, NODE_GROUP_LABEL, NodeGroupConfig


def node_selector(group: NodeGroupConfig) -> dict[str, str]:
    """Select the group's nodes.

    The workshop selected `eks.amazonaws.com/instance-family`, an EKS Auto Mode label that
    managed node groups cannot carry; the project's own family label replaces it, next to
    the kubelet's `node.kubernetes.io/instance-type`.
    """
    return {
        INSTANCE_FAMILY_LABEL: group.instance.family,
        INSTANCE_TYPE_LABEL: group.instance_type,
        NODE_GROUP_LABEL: group.name,
    }


def tolerations(model: ModelConfig) -> list[dict[str, str]]:
    """Tolerate the taint that keeps other pods off the accelerator nodes."""
    return [{"key": ACCELERATORS[model.accelerator].taint_key, "operator": "Exists", "effect": "NoSchedule"}]


def node_taints(group: NodeGroupConfig) -> list[dict[str, str]]:
    """Taints the node group carries, in Kubernetes form (the EKS API spells effects NO_SCHEDULE)."""
    if group.accelerator is None:
        return []
    return [{"key": ACCELERATORS[group.accelerator].taint_key, "value": "true", "effect": "NoSchedule"}]
