"""AcceleratorNodeGroup: one EKS managed node group of a single instance type."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ..config.platform.node_groups import NodeGroupConfig
from . import _node_group_args as build


@dataclass
class AcceleratorNodeGroupArgs:
    group: NodeGroupConfig
    """Validated group config; its instance type decides AMI type, taint and labels."""
    cluster_name: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    """Private subnets the nodes start in."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What must exist before nodes join (the CNI add-on, so pods get addresses from the start)."""
    tags: dict[str, str] | None = None


class AcceleratorNodeGroup(pulumi.ComponentResource):
    """Managed node group with its own node role and an IMDSv2-only launch template.

    Accelerator groups get the Neuron or NVIDIA AL2023 AMI and a NoSchedule taint; a group of
    a CPU instance type (the system group) gets the standard AMI and no taint.
    """

    node_group: aws.eks.NodeGroup
    node_group_name: pulumi.Output[str]
    role_arn: pulumi.Output[str]

    def __init__(self, resource_name: str, args: AcceleratorNodeGroupArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("vllm-eks:index:AcceleratorNodeGroup", resource_name, None, opts)
        group = args.group
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{resource_name}-node-role",
            assume_role_policy=build.node_role_trust_policy(),
            description=f"Nodes of EKS node group {group.name}",
            tags=args.tags,
            opts=child,
        )
        attachments = [
            aws.iam.RolePolicyAttachment(
                f"{resource_name}-node-role-{policy.rsplit('/', 1)[-1]}",
                role=role.name, policy_arn=policy, opts=child,
            )
            for policy in build.NODE_ROLE_POLICIES
        ]
        launch_template = aws.ec2.LaunchTemplate(
            f"{resource_name}-lt", tags=args.tags, opts=child, **build.launch_template_args(group),
        )
        self.node_group = aws.eks.NodeGroup(
            resource_name,
            cluster_name=args.cluster_name,
            node_role_arn=role.arn,
            subnet_ids=list(args.subnet_ids),
            launch_template={"id": launch_template.id, "version": launch_template.latest_version.apply(str)},
            tags=args.tags,
            **build.node_group_args(group),
            opts=pulumi.ResourceOptions(
                parent=self,
                # Nodes cannot join without the role's policies; detaching them first on
                # delete would strand the nodes.
                depends_on=[*attachments, *args.depends_on],
                # No ignore_changes on scalingConfig.desiredSize: no autoscaler runs, so the
                # config's desiredSize is the node count and every `pulumi up` applies it. Freezing
                # it would also make EKS reject a later minSize above the frozen count.
            ),
        )
        self.node_group_name = self.node_group.node_group_name
        self.role_arn = role.arn
        self.register_outputs({"node_group_name": self.node_group_name, "role_arn": self.role_arn})
