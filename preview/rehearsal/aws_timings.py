"""Typical create times of the AWS resources this project registers, and how long their provider waits.

As of 2026-12-01. `typical` is what a first `pulumi up` in a quiet region takes; `timeout` is the
create timeout of the Terraform AWS provider resource that pulumi-aws bridges (the wait that
fails the step). Where a figure is an estimate and not a published number, the source says so.

Sources:
- EKS control plane: aws/containers-roadmap#1227 ("EKS cluster control plane provisioning time
  currently averages 15 minutes"); timeout: terraform-provider-aws docs r/eks_cluster, Timeouts
  (create 30m). The pulumi-eks Cluster component also creates the cluster IAM role and the access
  entries (seconds each), counted in the same step.
- Managed node group: waits for ACTIVE, i.e. every node joined and Ready: terraform-provider-aws
  internal/service/eks/node_group.go (`Create: schema.DefaultTimeout(60 * time.Minute)`); typical
  4 minutes for EC2 launch + AL2023 boot + kubelet join (estimate; accelerator AMIs boot slower,
  so 6 minutes for them).
- EKS add-on: waits for ACTIVE, so an add-on with a Deployment (CoreDNS, the EFS CSI driver) is
  only ACTIVE once its pods run on nodes: terraform-provider-aws docs r/eks_addon (create 20m),
  hashicorp/terraform-provider-aws#26629; typical 1 minute, 2 minutes with pods (estimates).
- EFS mount target: waits for `available`: hashicorp/terraform-provider-aws#15293 (create timeout
  raised to 30 minutes); typical 90 s (estimate). File system: seconds.
- NAT gateway: terraform-provider-aws docs r/nat_gateway (create 10m); typical 2 minutes (estimate).
- VPC, subnets, route tables, gateways, security groups, launch templates, IAM: seconds (estimates).
"""

from __future__ import annotations

from dataclasses import dataclass

AS_OF = "2026-12-01"


@dataclass(frozen=True)
class AwsTiming:
    typical_seconds: int
    timeout_seconds: int | None
    source: str


_TF = "terraform-provider-aws"
AWS_TIMINGS: dict[str, AwsTiming] = {
    "eks:index:Cluster": AwsTiming(15 * 60, 30 * 60, "aws/containers-roadmap#1227 (averages 15 minutes); TF r/eks_cluster create 30m"),
    "aws:eks/nodeGroup:NodeGroup": AwsTiming(4 * 60, 60 * 60, f"{_TF} eks/node_group.go create 60m; 4 min typical (estimate)"),
    "aws:eks/addon:Addon": AwsTiming(60, 20 * 60, f"{_TF} r/eks_addon create 20m; 1 min typical (estimate)"),
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": AwsTiming(5, None, "seconds (estimate)"),
    "aws:efs/fileSystem:FileSystem": AwsTiming(15, None, "seconds (estimate)"),
    "aws:efs/mountTarget:MountTarget": AwsTiming(90, 30 * 60, f"{_TF}#15293 create 30m; 90 s typical (estimate)"),
    "aws:efs/fileSystemPolicy:FileSystemPolicy": AwsTiming(3, None, "seconds (estimate)"),
    "aws:ec2/natGateway:NatGateway": AwsTiming(120, 10 * 60, f"{_TF} r/nat_gateway create 10m; 2 min typical (estimate)"),
    "aws:ec2/eip:Eip": AwsTiming(3, None, "seconds (estimate)"),
    "aws:ec2/vpc:Vpc": AwsTiming(5, None, "seconds (estimate)"),
    "aws:ec2/subnet:Subnet": AwsTiming(5, None, "seconds (estimate)"),
    "aws:ec2/internetGateway:InternetGateway": AwsTiming(5, None, "seconds (estimate)"),
    "aws:ec2/routeTable:RouteTable": AwsTiming(5, None, "seconds (estimate)"),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": AwsTiming(2, None, "seconds (estimate)"),
    "aws:ec2/securityGroup:SecurityGroup": AwsTiming(5, None, "seconds (estimate)"),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": AwsTiming(5, None, "seconds (estimate)"),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": AwsTiming(2, None, "seconds (estimate)"),
    "aws:ec2/launchTemplate:LaunchTemplate": AwsTiming(3, None, "seconds (estimate)"),
    "aws:iam/role:Role": AwsTiming(3, None, "seconds (estimate)"),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": AwsTiming(2, None, "seconds (estimate)"),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": AwsTiming(3, None, "seconds (estimate)"),
}
ACCELERATED_NODE_GROUP_SECONDS = 6 * 60
"""Accelerator AMIs (Neuron, NVIDIA) load drivers at boot: 6 minutes (estimate)."""
ADDON_WITH_PODS_SECONDS = 2 * 60
"""An add-on whose controller runs as pods turns ACTIVE once they run: 2 minutes (estimate)."""
ADDONS_WITH_PODS = ("coredns", "aws-efs-csi-driver", "aws-ebs-csi-driver")
KUBERNETES_API_CALL_SECONDS = 1
"""Creating one object through the API server, before any await."""
UNKNOWN = AwsTiming(5, None, "not in the table: 5 s assumed")


def aws_timing(resource_type: str) -> AwsTiming:
    return AWS_TIMINGS.get(resource_type, UNKNOWN)
