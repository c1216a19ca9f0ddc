"""Karpenter: the controller (pinned chart, Pod Identity, on the system nodes), its interruption queue, the role
its nodes run with, and a NodePool + EC2NodeClass per `capacity: karpenter` node group."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from ..config.platform.node_groups import NodeGroupConfig
from . import _karpenter_iam as iam
from . import _karpenter_objects as build
from ._kubernetes import register_object


@dataclass
class KarpenterArgs:
    groups: Sequence[NodeGroupConfig]
    """The `capacity: karpenter` node groups; one NodePool and EC2NodeClass each."""
    cluster_name: pulumi.Input[str]
    discovery: str
    """Value of the karpenter.sh/discovery tag the node classes select subnets and security groups by (the cluster name)."""
    subnet_ids: Sequence[pulumi.Input[str]]
    """Private subnets Karpenter's nodes start in (tagged for discovery)."""
    security_group_id: pulumi.Input[str]
    """The cluster security group every node joins, as the managed groups' nodes do (tagged for discovery)."""
    provider: k8s.Provider
    depends_on: Sequence[pulumi.Resource] = ()
    """What the controller's pods need first (the system nodes and the Pod Identity agent)."""
    tags: dict[str, str] | None = None


class Karpenter(pulumi.ComponentResource):
    """Karpenter v1 for the cluster; its NodePools launch nodes for pending pods and remove empty ones."""

    node_pools: dict[str, pulumi.Resource]
    """NodePool by node group name: what a model on that group depends on."""
    queue_name: pulumi.Output[str]
    """The SQS queue of interruption events (`settings.interruptionQueue`)."""
    node_role_name: pulumi.Output[str]

    def __init__(self, resource_name: str, args: KarpenterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("vllm-eks:index:Karpenter", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        queue = aws.sqs.Queue(f"{resource_name}-interruption", message_retention_seconds=build.QUEUE_RETENTION_SECONDS,
                              sqs_managed_sse_enabled=True, tags=args.tags, opts=child)
        aws.sqs.QueuePolicy(f"{resource_name}-interruption", queue_url=queue.url, policy=queue.arn.apply(iam.queue_policy),
                            opts=child)
        for reason in build.INTERRUPTION_EVENTS:
            rule = aws.cloudwatch.EventRule(f"{resource_name}-{reason}", event_pattern=build.event_pattern(reason),
                                            description=f"Karpenter interruption handling: {reason}", tags=args.tags, opts=child)
            aws.cloudwatch.EventTarget(f"{resource_name}-{reason}", rule=rule.name, arn=queue.arn, opts=child)
        node_role = aws.iam.Role(f"{resource_name}-node", assume_role_policy=iam.node_trust_policy(),
                                 description="Nodes Karpenter launches", tags=args.tags, opts=child)
        attachments = [aws.iam.RolePolicyAttachment(f"{resource_name}-node-{arn.rsplit('/', 1)[-1]}", role=node_role.name,
                                                    policy_arn=arn, opts=child) for arn in iam.NODE_ROLE_POLICIES]
        # Nodes join with the role's identity: an EC2_LINUX access entry maps it to the node groups EKS expects
        # (EKS User Guide, "Create access entries": type EC2_LINUX for self-managed and Karpenter nodes).
        access = aws.eks.AccessEntry(f"{resource_name}-node", cluster_name=args.cluster_name, principal_arn=node_role.arn,
                                     type="EC2_LINUX", tags=args.tags, opts=child)
        controller = self._controller_identity(resource_name, args, queue, node_role)
        tags = [aws.ec2.Tag(f"{resource_name}-discovery-{name}", resource_id=resource_id, key=build.DISCOVERY_TAG,
                            value=args.discovery, opts=child)
                for name, resource_id in [*((f"subnet-{i}", s) for i, s in enumerate(args.subnet_ids)),
                                          ("security-group", args.security_group_id)]]
        chart = k8s.helm.v4.Chart(
            resource_name, values=build.chart_values(args.cluster_name, queue.name), **build.chart_args(),
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[*controller, *args.depends_on]),
        )
        on_cluster = pulumi.ResourceOptions(parent=self, provider=args.provider,
                                            depends_on=[chart, access, *attachments, *tags])
        self.node_pools = {}
        for group in args.groups:
            node_class = register_object(f"{resource_name}-{group.name}-node-class",
                                         build.ec2_node_class_object(group, node_role.name, args.discovery), on_cluster)
            self.node_pools[group.name] = register_object(
                f"{resource_name}-{group.name}-node-pool", build.node_pool_object(group),
                pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(depends_on=[node_class])))
        self.queue_name = queue.name
        self.node_role_name = node_role.name
        self.register_outputs({"queue_name": self.queue_name, "node_role_name": self.node_role_name})

    def _controller_identity(self, resource_name: str, args: KarpenterArgs, queue: aws.sqs.Queue,
                             node_role: aws.iam.Role) -> list[pulumi.Resource]:
        """The controller's role, its permissions, and the Pod Identity association for its service account."""
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(f"{resource_name}-controller", assume_role_policy=iam.pod_identity_trust_policy(),
                            description="Karpenter controller (EKS Pod Identity)", tags=args.tags, opts=child)
        partition = aws.get_partition_output().partition
        region = aws.get_region_output().region
        account = aws.get_caller_identity_output().account_id
        policy = pulumi.Output.all(partition, region, account, args.cluster_name, node_role.arn, queue.arn).apply(
            lambda v: iam.controller_policy(iam.Scope(*v)))
        inline = aws.iam.RolePolicy(f"{resource_name}-controller", role=role.id, policy=policy, opts=child)
        association = aws.eks.PodIdentityAssociation(
            f"{resource_name}-controller", cluster_name=args.cluster_name, namespace=build.chart_args()["namespace"],
            service_account=build.SERVICE_ACCOUNT, role_arn=role.arn, tags=args.tags, opts=child)
        return [inline, association]
