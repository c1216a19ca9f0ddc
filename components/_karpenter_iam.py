"""IAM for Karpenter as plain JSON strings: the controller's permissions, its Pod Identity trust, and the trust of
the role its nodes run with.

The controller's statements are those of Karpenter's own CloudFormation template for v1.14.1 (aws/karpenter-provider-aws
website/content/en/docs/getting-started/getting-started-with-karpenter/cloudformation.yaml: NodeLifecyclePolicy,
IAMIntegrationPolicy, EKSIntegrationPolicy, InterruptionPolicy, ResourceDiscoveryPolicy), each named by its Sid,
written here as one inline policy; ZonalShiftPolicy is left out because `settings.enableZonalShift` stays false.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

NODE_ROLE_POLICIES = (
    # The node role of the same template (KarpenterNodeRole.ManagedPolicyArns), which the managed groups' role
    # also has, plus SSM for Session Manager as the template attaches it.
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
)
POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"


@dataclass(frozen=True)
class Scope:
    """What the controller's permissions are scoped to."""

    partition: str
    region: str
    account: str
    cluster: str
    node_role_arn: str
    queue_arn: str


def _arn(scope: Scope, service: str, resource: str, account: str = "*", region: str | None = None) -> str:
    return f"arn:{scope.partition}:{service}:{scope.region if region is None else region}:{account}:{resource}"


def _owned(prefix: str, scope: Scope) -> dict[str, str]:
    return {f"aws:{prefix}/kubernetes.io/cluster/{scope.cluster}": "owned"}


def controller_policy(scope: Scope) -> str:
    def ec2(resource: str) -> str:
        return _arn(scope, "ec2", resource)

    launched = [ec2(f"{kind}/*") for kind in ("fleet", "instance", "volume", "network-interface", "launch-template",
                                              "spot-instances-request")]
    nodepool_tag = {"StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"}}
    owned_nodepool = {"StringEquals": _owned("ResourceTag", scope), "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"}}
    request_tags = {**_owned("RequestTag", scope), "aws:RequestTag/eks:eks-cluster-name": scope.cluster}
    profile = _arn(scope, "iam", "instance-profile/*", account=scope.account, region="")
    region_tag = {"aws:ResourceTag/topology.kubernetes.io/region": scope.region}
    statements: list[dict[str, Any]] = [
        {"Sid": "AllowScopedEC2InstanceAccessActions", "Effect": "Allow", "Action": ["ec2:RunInstances", "ec2:CreateFleet"],
         "Resource": [_arn(scope, "ec2", "image/*", account=""), _arn(scope, "ec2", "snapshot/*", account="")]
         + [ec2(f"{kind}/*") for kind in ("security-group", "subnet", "capacity-reservation", "placement-group")]},
        {"Sid": "AllowScopedEC2LaunchTemplateAccessActions", "Effect": "Allow", "Action": ["ec2:RunInstances", "ec2:CreateFleet"],
         "Resource": ec2("launch-template/*"), "Condition": owned_nodepool},
        {"Sid": "AllowScopedEC2InstanceActionsWithTags", "Effect": "Allow",
         "Action": ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"], "Resource": launched,
         "Condition": {"StringEquals": request_tags, **nodepool_tag}},
        {"Sid": "AllowScopedResourceCreationTagging", "Effect": "Allow", "Action": "ec2:CreateTags", "Resource": launched,
         "Condition": {"StringEquals": {**request_tags, "ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"]},
                       **nodepool_tag}},
        {"Sid": "AllowScopedResourceTagging", "Effect": "Allow", "Action": "ec2:CreateTags", "Resource": ec2("instance/*"),
         "Condition": {**owned_nodepool,
                       "StringEqualsIfExists": {"aws:RequestTag/eks:eks-cluster-name": scope.cluster},
                       "ForAllValues:StringEquals": {"aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"]}}},
        {"Sid": "AllowScopedDeletion", "Effect": "Allow", "Action": ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
         "Resource": [ec2("instance/*"), ec2("launch-template/*")], "Condition": owned_nodepool},
        {"Sid": "AllowPassingInstanceRole", "Effect": "Allow", "Action": "iam:PassRole", "Resource": scope.node_role_arn,
         "Condition": {"StringEquals": {"iam:PassedToService": ["ec2.amazonaws.com", "ec2.amazonaws.com.cn"]}}},
        {"Sid": "AllowScopedInstanceProfileCreationActions", "Effect": "Allow", "Action": ["iam:CreateInstanceProfile"],
         "Resource": profile, "Condition": {
             "StringEquals": {**request_tags, "aws:RequestTag/topology.kubernetes.io/region": scope.region},
             "StringLike": {"aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*"}}},
        {"Sid": "AllowScopedInstanceProfileTagActions", "Effect": "Allow", "Action": ["iam:TagInstanceProfile"],
         "Resource": profile, "Condition": {
             "StringEquals": {**_owned("ResourceTag", scope), **region_tag, **request_tags,
                              "aws:RequestTag/topology.kubernetes.io/region": scope.region},
             "StringLike": {"aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*",
                            "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*"}}},
        {"Sid": "AllowScopedInstanceProfileActions", "Effect": "Allow",
         "Action": ["iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile", "iam:DeleteInstanceProfile"],
         "Resource": profile, "Condition": {
             "StringEquals": {**_owned("ResourceTag", scope), **region_tag},
             "StringLike": {"aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*"}}},
        {"Sid": "AllowAPIServerEndpointDiscovery", "Effect": "Allow", "Action": "eks:DescribeCluster",
         "Resource": _arn(scope, "eks", f"cluster/{scope.cluster}", account=scope.account)},
        {"Sid": "AllowInterruptionQueueActions", "Effect": "Allow",
         "Action": ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"], "Resource": scope.queue_arn},
        {"Sid": "AllowRegionalReadActions", "Effect": "Allow", "Resource": "*",
         "Action": ["ec2:DescribeCapacityReservations", "ec2:DescribeImages", "ec2:DescribeInstances",
                    "ec2:DescribeInstanceStatus", "ec2:DescribeInstanceTypeOfferings", "ec2:DescribeInstanceTypes",
                    "ec2:DescribeLaunchTemplates", "ec2:DescribePlacementGroups", "ec2:DescribeSecurityGroups",
                    "ec2:DescribeSpotPriceHistory", "ec2:DescribeSubnets"],
         "Condition": {"StringEquals": {"aws:RequestedRegion": scope.region}}},
        {"Sid": "AllowSSMReadActions", "Effect": "Allow", "Action": "ssm:GetParameter",
         "Resource": _arn(scope, "ssm", "parameter/aws/service/*", account="")},
        {"Sid": "AllowPricingReadActions", "Effect": "Allow", "Action": "pricing:GetProducts", "Resource": "*"},
        {"Sid": "AllowUnscopedInstanceProfileListAction", "Effect": "Allow", "Action": "iam:ListInstanceProfiles", "Resource": "*"},
        {"Sid": "AllowInstanceProfileReadActions", "Effect": "Allow", "Action": "iam:GetInstanceProfile", "Resource": profile},
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def pod_identity_trust_policy() -> str:
    """EKS Pod Identity assumes the role for the controller's service account (sts:TagSession for its session tags)."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": POD_IDENTITY_PRINCIPAL}, "Action": ["sts:AssumeRole", "sts:TagSession"]}]})


def node_trust_policy() -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def queue_policy(queue_arn: str) -> str:
    """EventBridge and SQS may send to the queue; nothing may reach it over plain HTTP (the template's
    KarpenterInterruptionQueuePolicy)."""
    return json.dumps({"Version": "2012-10-17", "Id": "EC2InterruptionPolicy", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": ["events.amazonaws.com", "sqs.amazonaws.com"]},
         "Action": "sqs:SendMessage", "Resource": queue_arn},
        {"Sid": "DenyHTTP", "Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": queue_arn,
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    ]})
