"""Platform config: the cluster, its network, the node groups models run on, and the shared file system."""

from __future__ import annotations

import ipaddress
import re
from enum import Enum
from typing import Annotated, Literal, Optional, Protocol

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from config._base import ConfigModel
from config.accelerators import AcceleratorKind
from config.errors import ConfigIssue
from config.instance_catalog import INSTANCE_TYPES, InstanceSpec
from config.types import DnsLabel

# The EKS API rejects managed node group labels under these prefixes.
RESERVED_LABEL_PREFIXES = ("kubernetes.io/", "k8s.io/", "eks.amazonaws.com/")
# Labels this project puts on every node group; models select on them.
NODE_GROUP_LABEL = "vllm-eks/node-group"
INSTANCE_FAMILY_LABEL = "vllm-eks/instance-family"
ACCELERATOR_LABEL = "vllm-eks/accelerator"
INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type"  # set by the kubelet itself


def check_instance_type(value: str) -> str:
    if value not in INSTANCE_TYPES:
        families = sorted({spec.family for spec in INSTANCE_TYPES.values()})
        raise ValueError(
            f"unknown instance type {value!r}; the catalog knows the families {', '.join(families)} "
            f"(see config/instance_catalog.py, and add the type there if AWS offers it)"
        )
    return value


def check_node_labels(labels: dict[str, str]) -> dict[str, str]:
    for key in labels:
        reserved = next((prefix for prefix in RESERVED_LABEL_PREFIXES if key.startswith(prefix) or f".{prefix}" in key), None)
        if reserved:
            raise ValueError(
                f"label {key!r} uses the reserved prefix {reserved!r}, which the EKS API rejects on "
                f"managed node groups; use a prefix of your own such as 'example.com/{key.rsplit('/', 1)[-1]}'"
            )
    return labels


InstanceType = Annotated[str, AfterValidator(check_instance_type)]


class CapacityType(str, Enum):
    ON_DEMAND = "ON_DEMAND"
    SPOT = "SPOT"


class NodeGroupConfig(ConfigModel):
    """One EKS managed node group of a single instance type."""

    name: DnsLabel
    """Node group name; models point at it with `nodeGroup`."""
    instance_type: InstanceType
    """EC2 instance type from the catalog; its accelerator decides AMI type, taint and labels."""
    min_size: int = Field(1, ge=0)
    """Fewest nodes, and the node count when desiredSize is unset. 0 suits a group kept for later:
    a group with models needs as many nodes as their pods fill (checked)."""
    desired_size: Optional[int] = Field(None, ge=0)
    """Node count; defaults to `minSize`. No autoscaler is installed: every `pulumi up` sets the
    group to this count, so raise it (up to `maxSize`) to add nodes."""
    max_size: Optional[int] = Field(None, ge=1, validate_default=True)
    """Most nodes; defaults to `max(minSize, 1)`."""
    disk_size_gib: int = Field(200, ge=20)
    """Root volume size. vLLM and Neuron images are tens of GiB; the default leaves room for two."""
    capacity_type: CapacityType = CapacityType.ON_DEMAND
    """ON_DEMAND or SPOT. Spot accelerators can be reclaimed mid-request."""
    labels: Annotated[dict[str, str], AfterValidator(check_node_labels)] = Field(default_factory=dict)
    """Extra node labels (the project's own labels are always added)."""

    @field_validator("max_size")
    @classmethod
    def _sizes_are_ordered(cls, value: Optional[int], info: ValidationInfo) -> Optional[int]:
        if "min_size" not in info.data or "desired_size" not in info.data:
            return value  # already reported on their own keys
        minimum = info.data["min_size"]
        desired = minimum if info.data["desired_size"] is None else info.data["desired_size"]
        maximum = value if value is not None else max(minimum, 1)
        if not minimum <= desired <= maximum:
            raise ValueError(
                f"sizes must satisfy minSize <= desiredSize <= maxSize (got {minimum} <= {desired} <= {maximum}); "
                f"raise maxSize to at least {max(minimum, desired)} or lower minSize/desiredSize"
            )
        return value

    @property
    def resolved_desired_size(self) -> int:
        return self.min_size if self.desired_size is None else self.desired_size

    @property
    def resolved_max_size(self) -> int:
        return self.max_size if self.max_size is not None else max(self.min_size, 1)

    @property
    def instance(self) -> InstanceSpec:
        return INSTANCE_TYPES[self.instance_type]

    @property
    def accelerator(self) -> Optional[AcceleratorKind]:
        return self.instance.accelerator

    @property
    def node_labels(self) -> dict[str, str]:
        """Labels every node of the group carries; models' nodeSelectors are a subset of these."""
        labels = {
            NODE_GROUP_LABEL: self.name,
            INSTANCE_FAMILY_LABEL: self.instance.family,
            ACCELERATOR_LABEL: self.accelerator.value if self.accelerator else "none",
        }
        return {**self.labels, **labels}


# ----------------------------------------------------------------------------------------
# Cluster, network and storage: everything the node groups and models run inside.
# ----------------------------------------------------------------------------------------

DEFAULT_KUBERNETES_VERSION = "1.33"
CONTROL_PLANE_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
SYSTEM_NODE_GROUP_NAME = "system"

_AVAILABILITY_ZONE = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9][a-z]$")
_KUBERNETES_VERSION = re.compile(r"^1\.[0-9]{2}$")
_SUBNET_ID = re.compile(r"^subnet-[0-9a-f]{8,17}$")
_VPC_ID = re.compile(r"^vpc-[0-9a-f]{8,17}$")
_IAM_PRINCIPAL_ARN = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/[\w+=,.@/-]+$")
_KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/[\w/-]+$")


def _matching(pattern: re.Pattern[str], what: str, example: str):
    def check(value: str) -> str:
        if not pattern.match(value):
            raise ValueError(f"{value!r} is not {what}; write it like {example!r}")
        return value
    return AfterValidator(check)


def check_ipv4_cidr(value: str) -> str:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        raise ValueError(
            f"{value!r} is not an IPv4 CIDR block with its host bits zero; write it like '203.0.113.0/24' "
            f"(a single address is '203.0.113.7/32')"
        ) from None
    return str(network)


AvailabilityZone = Annotated[str, _matching(_AVAILABILITY_ZONE, "an availability zone name", "us-west-2a")]
KubernetesVersion = Annotated[str, _matching(_KUBERNETES_VERSION, "a Kubernetes minor version", "1.33")]
SubnetId = Annotated[str, _matching(_SUBNET_ID, "a subnet ID", "subnet-0123456789abcdef0")]
VpcId = Annotated[str, _matching(_VPC_ID, "a VPC ID", "vpc-0123456789abcdef0")]
IamPrincipalArn = Annotated[str, _matching(_IAM_PRINCIPAL_ARN, "an IAM role or user ARN", "arn:aws:iam::123456789012:role/platform-admins")]
KmsKeyArn = Annotated[str, _matching(_KMS_KEY_ARN, "a KMS key ARN", "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab")]
Ipv4Cidr = Annotated[str, AfterValidator(check_ipv4_cidr)]
ControlPlaneLogType = Literal["api", "audit", "authenticator", "controllerManager", "scheduler"]


class NatGateways(str, Enum):
    SINGLE = "single"
    """One NAT gateway for all zones: cheapest; nodes lose egress (image pulls) if its zone fails."""
    PER_ZONE = "perZone"
    """One NAT gateway per zone: each zone keeps egress on its own."""


class VpcConfig(ConfigModel):
    """The VPC the stack creates when `existingVpc` is not set."""

    cidr_block: Ipv4Cidr = "10.0.0.0/16"
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

    name: Optional[DnsLabel] = None
    """EKS cluster name; defaults to `vllm-eks-<stack>`. Changing it replaces the cluster."""
    kubernetes_version: KubernetesVersion = DEFAULT_KUBERNETES_VERSION
    """Control plane and node version. Raise one minor version at a time; EKS cannot downgrade."""
    endpoint_public_access_cidrs: list[Ipv4Cidr] = Field(default_factory=list)
    """Networks allowed to reach the public API endpoint. Empty (the default) turns the public
    endpoint off: only callers inside the VPC (or peered/VPN networks) reach the API. Required
    when the stack creates its VPC (no `existingVpc`): pulumi cannot be inside a VPC it is
    creating, so list the egress CIDRs of pulumi and kubectl, such as '203.0.113.7/32'."""
    admins: list[AdminAccessConfig] = Field(default_factory=list)
    """IAM roles/users given cluster-admin. The identity running `pulumi up` always is (EKS
    bootstraps the cluster creator as admin)."""
    control_plane_logs: list[ControlPlaneLogType] = Field(default_factory=lambda: list(CONTROL_PLANE_LOG_TYPES))
    """Control plane log types sent to CloudWatch; all five by default (audit is the one incident
    response needs)."""
    vpc: VpcConfig = Field(default_factory=VpcConfig)
    """The VPC to create; ignored when `existingVpc` is set."""
    existing_vpc: Optional[ExistingVpcConfig] = None
    """Use this VPC and its subnets instead of creating one."""

    def resolved_name(self, stack: str) -> str:
        return self.name or f"vllm-eks-{stack}"[:63].rstrip("-")


class ServiceAccountIdentity(str, Enum):
    POD_IDENTITY = "podIdentity"
    """EKS Pod Identity: no OIDC provider, the role trusts `pods.eks.amazonaws.com`."""
    IRSA = "irsa"
    """IAM roles for service accounts: an OIDC provider and a web-identity trust per role."""


class ThroughputMode(str, Enum):
    ELASTIC = "elastic"
    BURSTING = "bursting"


class EfsConfig(ConfigModel):
    """The shared file system behind the cache StorageClass."""

    identity: ServiceAccountIdentity = ServiceAccountIdentity.POD_IDENTITY
    """How the EFS CSI controller gets AWS credentials: `podIdentity` (default) or `irsa`."""
    throughput_mode: ThroughputMode = ThroughputMode.ELASTIC
    """`elastic` scales with bursts of model downloads and bills per use; `bursting` earns credits
    with stored size and starves a small, fresh file system."""
    kms_key_arn: Optional[KmsKeyArn] = None
    """Customer-managed KMS key for encryption at rest; default: the AWS-managed `aws/elasticfilesystem` key."""
    csi_driver_version: Optional[str] = None
    """`aws-efs-csi-driver` add-on version; default: the one EKS marks default for the cluster version."""
    directory_perms: Literal["700", "750", "755", "770", "775"] = "700"
    """Permissions of each volume's access-point directory; 700 keeps one PVC's data from other PVCs' users."""


def default_system_node_group() -> NodeGroupConfig:
    return NodeGroupConfig(name=SYSTEM_NODE_GROUP_NAME, instance_type="m6i.large", min_size=2, max_size=3, disk_size_gib=50)


# ----------------------------------------------------------------------------------------
# Cross-field rules; `config.stack.stack_issues` calls `platform_issues`.
# ----------------------------------------------------------------------------------------


class _PlatformStack(Protocol):
    cluster: ClusterConfig
    system_node_group: NodeGroupConfig
    node_groups: list[NodeGroupConfig]


def platform_issues(stack: _PlatformStack) -> list[ConfigIssue]:
    """Problems in the cluster, network and system node group, each with the path to edit."""
    issues: list[ConfigIssue] = []
    system = stack.system_node_group
    if system.accelerator is not None:
        cpu_types = ", ".join(sorted(name for name, spec in INSTANCE_TYPES.items() if spec.accelerator is None))
        issues.append(ConfigIssue(
            "systemNodeGroup.instanceType",
            f"{system.instance_type!r} has {system.accelerator.value} accelerators, whose taint keeps CoreDNS and "
            f"the EFS CSI controller off it; use a CPU instance type ({cpu_types})",
        ))
    for index, group in enumerate(stack.node_groups):
        if group.name == system.name:
            issues.append(ConfigIssue(
                f"nodeGroups[{index}].name",
                f"{group.name!r} is the system node group's name; rename this group or set systemNodeGroup.name",
            ))
    cluster = stack.cluster
    issues += endpoint_issues(cluster)
    if cluster.existing_vpc is not None:
        if "vpc" in cluster.model_fields_set:
            issues.append(ConfigIssue(
                "cluster.vpc",
                "both vpc (create a VPC) and existingVpc (use one) are set; remove one of them",
            ))
        issues += _zone_issues(
            "cluster.existingVpc.privateSubnets",
            [subnet.availability_zone for subnet in cluster.existing_vpc.private_subnets],
            f"subnets {', '.join(s.id for s in cluster.existing_vpc.private_subnets)}",
            "add a private subnet in another zone",
        )
        issues += _duplicate_subnet_issues(cluster.existing_vpc)
    elif cluster.vpc.availability_zones:
        zones = cluster.vpc.availability_zones
        issues += _zone_issues("cluster.vpc.availabilityZones", zones, f"zones {', '.join(zones)}", "list a second, different zone")
        issues += _subnet_space_issues(cluster.vpc)
    else:
        issues += _subnet_space_issues(cluster.vpc)
    return issues


def endpoint_issues(cluster: ClusterConfig) -> list[ConfigIssue]:
    """A private-only API endpoint in a VPC this same run creates: pulumi's Kubernetes provider,
    running outside that VPC, could never reach the API, so the first `pulumi up` would hang and
    fail on the cluster's Kubernetes objects. With `existingVpc` the private endpoint stays the
    default, since pulumi can run inside that network.

    Part of `platform_issues`, so a stack fails before anything is registered; EksCluster checks
    it again for callers that build the component directly.
    """
    if cluster.existing_vpc is not None or cluster.endpoint_public_access_cidrs:
        return []
    return [ConfigIssue(
        "cluster.endpointPublicAccessCidrs",
        "[] turns the public API endpoint off, and existingVpc is not set, so the stack creates its own "
        "VPC: the private endpoint answers only inside that new VPC, and pulumi, running outside it, cannot "
        "reach the API to create the cluster's Kubernetes objects on the first `pulumi up`; list the CIDRs "
        "pulumi and kubectl run from (e.g. ['203.0.113.7/32']), or create the network separately, pass it "
        "as existingVpc and run pulumi from inside it",
    )]


def platform_warnings(stack: _PlatformStack) -> list[str]:
    """Legal but risky platform settings; printed, never fatal."""
    if "0.0.0.0/0" in stack.cluster.endpoint_public_access_cidrs:
        return [
            "cluster.endpointPublicAccessCidrs: 0.0.0.0/0 exposes the Kubernetes API endpoint to the whole "
            "internet (IAM authentication still applies); list only the networks you run kubectl and pulumi from"
        ]
    return []


def _zone_issues(path: str, zones: list[str], what: str, fix: str) -> list[ConfigIssue]:
    if len(set(zones)) >= 2:
        return []
    where = f"all in {zones[0]}" if zones else "empty"
    return [ConfigIssue(path, f"{what} are {where}; EKS needs node subnets in at least two availability zones; {fix}")]


def _duplicate_subnet_issues(vpc: ExistingVpcConfig) -> list[ConfigIssue]:
    issues = []
    seen: dict[str, int] = {}
    for index, subnet in enumerate([*vpc.private_subnets, *vpc.public_subnets]):
        if subnet.id in seen:
            issues.append(ConfigIssue(
                "cluster.existingVpc",
                f"subnet {subnet.id!r} is listed twice; a subnet is either private (nodes) or public (load balancers)",
            ))
        seen[subnet.id] = index
    return issues


def _subnet_space_issues(vpc: VpcConfig) -> list[ConfigIssue]:
    # Each zone gets 1/8 of the VPC as its private subnet; the last eighth holds the public ones.
    network = ipaddress.IPv4Network(vpc.cidr_block)
    if network.prefixlen > 20:
        return [ConfigIssue(
            "cluster.vpc.cidrBlock",
            f"{vpc.cidr_block!r} is too small for node and pod addresses (the VPC CNI gives every pod a VPC "
            f"address); use a /16 to /20 block such as '10.0.0.0/16'",
        )]
    if network.prefixlen < 16:
        return [ConfigIssue("cluster.vpc.cidrBlock", f"{vpc.cidr_block!r} is larger than AWS allows for a VPC (/16 at most); use a /16 to /20 block")]
    return []
