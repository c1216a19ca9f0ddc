"""The EKS cluster and its network: the VPC the stack creates or the one it is given, access, logging."""

from __future__ import annotations

import re
from enum import Enum
from typing import Annotated, Literal, get_args

from pydantic import Field

from .._base import ConfigModel
from ..types import DnsLabel
from .aws_types import AvailabilityZone, IamPrincipalArn, IamPrincipalOrSessionArn, Ipv4Cidr, SubnetId, VpcCidr, VpcId, matching
from .kubernetes_versions import DEFAULT_KUBERNETES_VERSION

_KUBERNETES_VERSION = re.compile(r"^1\.[0-9]{2}$")
KubernetesVersion = Annotated[str, matching(_KUBERNETES_VERSION, "a Kubernetes minor version", DEFAULT_KUBERNETES_VERSION)]
ControlPlaneLogType = Literal["api", "audit", "authenticator", "controllerManager", "scheduler"]
CONTROL_PLANE_LOG_TYPES: tuple[ControlPlaneLogType, ...] = get_args(ControlPlaneLogType)


class NatGateways(str, Enum):
    SINGLE = "single"
    """One NAT gateway for all zones: cheapest; nodes lose egress (image pulls) if its zone fails."""
    PER_ZONE = "perZone"
    """One NAT gateway per zone: each zone keeps egress on its own."""


class VpcConfig(ConfigModel):
    """The VPC the stack creates when `existingVpc` is not set."""

    cidr_block: VpcCidr = "10.0.0.0/16"
    """Address range of the VPC; split into one private (nodes, pods) and one public subnet per zone."""
    availability_zones: list[AvailabilityZone] = Field(default_factory=list)
    """Zones to spread subnets over; empty means the region's first `availabilityZoneCount` zones."""
    availability_zone_count: int = Field(2, ge=2, le=6)
    """How many zones to use when `availabilityZones` is empty. EKS needs at least two."""
    nat_gateways: NatGateways = NatGateways.SINGLE
    """`single` (one NAT gateway, cheapest) or `perZone` (egress survives a zone outage)."""

    @property
    def zone_count(self) -> int:
        return len(self.availability_zones) or self.availability_zone_count


class SubnetConfig(ConfigModel):
    """An existing subnet; its zone is stated so the zone rules are checked before anything is created."""

    id: SubnetId
    """Subnet ID, `subnet-...`."""
    availability_zone: AvailabilityZone
    """The subnet's zone, as the console shows it (`us-west-2a`); checked for the two-zone rule."""


class ExistingVpcConfig(ConfigModel):
    """A VPC created elsewhere. Private subnets need a route to the internet (NAT) for image pulls."""

    vpc_id: VpcId
    """VPC ID, `vpc-...`; the cluster, nodes and EFS mount targets go in it."""
    private_subnets: list[SubnetConfig] = Field(min_length=1)
    """Subnets for nodes, pods and EFS mount targets; at least two zones."""
    public_subnets: list[SubnetConfig] = Field(default_factory=list)
    """Subnets for internet-facing load balancers; none means only internal load balancers work."""

    def subnet_per_zone(self) -> list[SubnetConfig]:
        """The first private subnet of each zone: EFS allows one mount target per zone, and every
        subnet of a VPC routes to every other, so nodes in a zone's other subnets reach it too."""
        chosen: dict[str, SubnetConfig] = {}
        for subnet in self.private_subnets:
            chosen.setdefault(subnet.availability_zone, subnet)
        return list(chosen.values())


class AdminAccessConfig(ConfigModel):
    """An IAM principal given cluster-admin through an EKS access entry."""

    principal_arn: IamPrincipalArn
    """IAM role or user ARN; it gets AmazonEKSClusterAdminPolicy on the whole cluster."""


class ClusterConfig(ConfigModel):
    """The EKS cluster and its network."""

    name: DnsLabel | None = None
    """EKS cluster name; defaults to `vllm-eks-<stack>`. Changing it replaces the cluster."""
    kubernetes_version: KubernetesVersion = DEFAULT_KUBERNETES_VERSION
    """Control plane and node version; defaults to the newest version in EKS standard support in
    config/platform/kubernetes_versions.py. A version in extended support (extra cost per cluster
    hour) is a warning, one past it an error. Raise one minor version at a time; EKS cannot downgrade."""
    endpoint_public_access_cidrs: list[Ipv4Cidr] = Field(default_factory=list)
    """Networks allowed to reach the public API endpoint. Empty (the default) turns the public
    endpoint off: only callers inside the VPC (or peered/VPN networks) reach the API. Required
    when the stack creates its VPC (no `existingVpc`): pulumi cannot be inside a VPC it is
    creating, so list the egress CIDRs of pulumi and kubectl, such as '203.0.113.7/32'."""
    admins: list[AdminAccessConfig] = Field(default_factory=list)
    """IAM roles/users given cluster-admin, each through its own access entry. EKS already made the
    cluster's creator an admin, so the item naming the creator (`creatorArn`) gets no entry (a second
    one fails with 409); every other identity that runs `pulumi up` or kubectl (CI) needs an item here."""
    creator_arn: IamPrincipalOrSessionArn | None = None
    """The IAM role or user that created the cluster (ran its first `pulumi up`), which EKS made an
    admin itself. Set it once when `admins` lists anyone and more than one identity deploys: unset,
    whoever runs `pulumi up` is taken to be the creator, so a CI run would delete CI's own entry.
    A session ARN (`arn:aws:sts::<account>:assumed-role/<role>/<session>`) counts as its role."""
    control_plane_logs: list[ControlPlaneLogType] = Field(default_factory=lambda: list(CONTROL_PLANE_LOG_TYPES))
    """Control plane log types sent to CloudWatch; all five by default (audit is the one incident
    response needs)."""
    vpc: VpcConfig = Field(default_factory=VpcConfig)
    """The VPC to create; ignored when `existingVpc` is set."""
    existing_vpc: ExistingVpcConfig | None = None
    """Use this VPC and its subnets instead of creating one."""

    def resolved_name(self, stack: str) -> str:
        return self.name or f"vllm-eks-{stack}"[:63].rstrip("-")
