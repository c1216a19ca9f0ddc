"""Arguments of one EKS managed node group and its launch template, as plain dicts.

The dicts use pulumi-aws's Python keyword names, so a component passes them with `**`.
"""

from __future__ import annotations

import json
from typing import Any

from ..config.accelerators import ACCELERATORS, CPU_AMI_TYPE
from ..config.platform.node_groups import NodeGroupConfig
from ..config.scheduling import node_taints

ROOT_DEVICE = "/dev/xvda"  # AL2023 EKS AMIs boot from this device.
# Pods reach IMDS only through hostNetwork: a hop limit of 1 drops the reply one hop early
# for pods on the pod network, so they cannot borrow the node role. The hostNetwork
# daemons (aws-node, kube-proxy, efs-csi-node) still reach it, and the EFS CSI controller
# gets its credentials from EKS Pod Identity, not IMDS. Raise to 2 only for a workload that
# must read IMDS from the pod network.
IMDS_HOP_LIMIT = 1

NODE_ROLE_POLICIES = (
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    # The VPC CNI (aws-node) runs with the node's role.
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    # Pull-only: nodes never push images.
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
)

_EKS_TAINT_EFFECTS = {"NoSchedule": "NO_SCHEDULE", "NoExecute": "NO_EXECUTE", "PreferNoSchedule": "PREFER_NO_SCHEDULE"}


def ami_type(group: NodeGroupConfig) -> str:
    return ACCELERATORS[group.accelerator].ami_type if group.accelerator else CPU_AMI_TYPE


def eks_taints(group: NodeGroupConfig) -> list[dict[str, str]]:
    """The node group's taints in the EKS API's spelling (NO_SCHEDULE, not NoSchedule)."""
    return [{**taint, "effect": _EKS_TAINT_EFFECTS[taint["effect"]]} for taint in node_taints(group)]


def node_role_trust_policy() -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    })


def launch_template_args(group: NodeGroupConfig) -> dict[str, Any]:
    """IMDSv2 only and a root volume sized for multi-GB images.

    No security groups are listed, so EKS gives the nodes the cluster security group, which
    the control plane already trusts; EfsStorage opens NFS to exactly that group.
    """
    return {
        "description": f"Nodes of node group {group.name} ({group.instance_type})",
        "update_default_version": True,
        "metadata_options": {
            "http_endpoint": "enabled",
            "http_tokens": "required",
            "http_put_response_hop_limit": IMDS_HOP_LIMIT,
        },
        "block_device_mappings": [{
            "device_name": ROOT_DEVICE,
            "ebs": {
                "volume_size": group.disk_size_gib,
                "volume_type": "gp3",
                "encrypted": "true",
                "delete_on_termination": "true",
            },
        }],
        "tag_specifications": [{"resource_type": "instance", "tags": {"Name": f"vllm-eks-{group.name}"}}],
    }


def node_group_args(group: NodeGroupConfig) -> dict[str, Any]:
    """Everything of `aws.eks.NodeGroup` that follows from config (cluster, role, subnets and
    launch template are added by the component)."""
    return {
        "ami_type": ami_type(group),
        "instance_types": [group.instance_type],
        "capacity_type": group.capacity_type.value,
        "scaling_config": {
            "min_size": group.min_size,
            "desired_size": group.resolved_desired_size,
            "max_size": group.resolved_max_size,
        },
        # One node at a time: accelerator nodes hold whole model replicas.
        "update_config": {"max_unavailable": 1},
        "labels": group.node_labels,
        "taints": eks_taints(group),
    }
