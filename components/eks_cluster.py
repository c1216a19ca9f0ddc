"""EksCluster: network, control plane, core add-ons, system nodes and the Kubernetes provider."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pulumi_kubernetes as k8s

from ..config.errors import ConfigError, ConfigIssue
from ..config.platform.access import ClusterCreator, caller_has_access, cluster_creator, skipped_admins
from ..config.platform.cluster import ClusterConfig
from ..config.platform.node_groups import NodeGroupConfig, default_system_node_group
from ..config.platform.rules import endpoint_issues
from . import _cluster_args as build
from .node_group import AcceleratorNodeGroup, AcceleratorNodeGroupArgs


@dataclass
class EksClusterArgs:
    cluster: ClusterConfig
    """Validated cluster and network config."""
    name: str
    """EKS cluster name (`ClusterConfig.resolved_name(stack)`)."""
    system_node_group: NodeGroupConfig = field(default_factory=default_system_node_group)
    """CPU nodes for CoreDNS and add-on controllers."""
    create_oidc_provider: bool = False
    """Needed only for IRSA; Pod Identity works without it."""
    tags: dict[str, str] = field(default_factory=dict)
    zones: list[str] | None = None
    """The zones `region_zones(cluster)` found (Platform looks them up before it registers);
    None: EksCluster looks them up itself."""
    rules_checked: bool = False
    """Set by Platform, whose stack validation already ran the cluster rules; left False, the
    component checks the endpoint rule itself before registering anything."""


def region_zones(config: ClusterConfig) -> list[str]:
    """The zones a created VPC spreads over: `cluster.vpc.availabilityZones`, or the region's
    Availability Zones (no Local or Wavelength Zones), looked up before anything is registered."""
    if config.existing_vpc or config.vpc.availability_zones:
        return list(config.vpc.availability_zones)
    available = aws.get_availability_zones(state="available", filters=[aws.GetAvailabilityZonesFilterArgs(**build.AVAILABILITY_ZONE_FILTER)])
    return sorted(available.names)


def zone_issues(config: ClusterConfig, zones: list[str]) -> list[ConfigIssue]:
    """A region with fewer Availability Zones than `cluster.vpc.availabilityZoneCount`."""
    if config.existing_vpc or config.vpc.availability_zones:
        return []
    return build.zone_count_issues(zones, config.vpc.availability_zone_count, pulumi.Config("aws").get("region"))


@dataclass
class _Network:
    vpc_id: pulumi.Input[str]
    private_subnet_ids: list[pulumi.Input[str]]
    """One per zone for a created VPC, so each doubles as the zone's EFS mount target subnet."""
    public_subnet_ids: list[pulumi.Input[str]]
    mount_target_subnet_ids: list[pulumi.Input[str]]


class EksCluster(pulumi.ComponentResource):
    """An EKS cluster ready for node groups and Kubernetes objects.

    Use `provider` for every Kubernetes resource aimed at this cluster; `node_security_group_id`
    is the security group every managed node carries (for rules such as NFS to EFS).
    """

    cluster: eks.Cluster
    provider: k8s.Provider
    system_node_group: AcceleratorNodeGroup
    addons: dict[str, aws.eks.Addon]
    cluster_name: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    """Secret; as pulumi-eks builds it (no AWS profile), for people and other stacks."""
    provider_kubeconfig: pulumi.Output[str]
    """Secret; what `provider` authenticates with (`kubeconfig` plus `--profile` when `aws:profile` is set)."""
    vpc_id: pulumi.Output[str]
    private_subnet_ids: list[pulumi.Output[str]]
    mount_target_subnet_ids: list[pulumi.Output[str]]
    node_security_group_id: pulumi.Output[str]
    oidc_provider_arn: pulumi.Output[str]
    oidc_issuer: pulumi.Output[str]

    def __init__(self, resource_name: str, args: EksClusterArgs, opts: pulumi.ResourceOptions | None = None):
        # Before anything is registered: a cluster pulumi could not reach must not be half-created,
        # and a region with too few zones must fail here, not as an IndexError inside an apply.
        issues = [] if args.rules_checked else endpoint_issues(args.cluster)
        zones = args.zones if args.zones is not None else region_zones(args.cluster)
        issues += zone_issues(args.cluster, zones)
        if issues:
            raise ConfigError(issues, source=f"EksCluster {resource_name!r}")
        aws_config = pulumi.Config("aws")
        super().__init__("vllm-eks:index:EksCluster", resource_name, None, opts)
        config = args.cluster
        # Who gets an access entry is config/platform/access.py's rule: every admin but the creator.
        caller_arn = aws.get_caller_identity().arn if config.admins else None
        creator = cluster_creator(config, caller_arn)
        if creator is not None and caller_arn is not None:
            self._log_access(config, creator, caller_arn)
        network = self._existing_network(config) if config.existing_vpc else self._create_network(resource_name, args, zones)
        self.cluster = eks.Cluster(
            resource_name,
            vpc_id=network.vpc_id,
            private_subnet_ids=network.private_subnet_ids,
            public_subnet_ids=network.public_subnet_ids or None,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
            **build.cluster_args(config, args.name, irsa=args.create_oidc_provider, creator=creator),
        )
        # The name is ours, but taking it from a cluster output makes every consumer (add-ons,
        # node groups) wait for the control plane.
        self.cluster_name = self.cluster.cluster_security_group_id.apply(lambda _: args.name)
        # Exported as pulumi-eks builds it: without a profile, so each user's own credentials apply.
        self.kubeconfig: pulumi.Output[str] = pulumi.Output.secret(self.cluster.kubeconfig_json)
        # The provider runs `aws eks get-token` as this run does: with `aws:profile` when the stack sets one.
        profile = aws_config.get("profile")
        provider_kubeconfig = (
            # pulumi's Output.secret(val: Input[U]) does not bind U from an Output[str] under mypy.
            pulumi.Output.secret(self.cluster.kubeconfig_json.apply(  # type: ignore[arg-type]
                lambda text: build.kubeconfig_with_profile(text, profile or "")))
            if profile else self.kubeconfig
        )
        self.provider_kubeconfig = provider_kubeconfig
        self.provider = k8s.Provider(
            f"{resource_name}-k8s",
            kubeconfig=provider_kubeconfig,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.addons = {}
        for spec in build.CORE_ADDONS:
            if spec.before_nodes:
                self.addons[spec.name] = self._addon(resource_name, spec)
        self.system_node_group = AcceleratorNodeGroup(
            f"{resource_name}-{args.system_node_group.name}",
            AcceleratorNodeGroupArgs(
                group=args.system_node_group,
                cluster_name=self.cluster_name,
                subnet_ids=network.private_subnet_ids,
                depends_on=list(self.addons.values()),
                tags=args.tags,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        for spec in build.CORE_ADDONS:
            if spec.needs_nodes:
                self.addons[spec.name] = self._addon(resource_name, spec, depends_on=[self.system_node_group])
        self.vpc_id = pulumi.Output.from_input(network.vpc_id)
        self.private_subnet_ids = [pulumi.Output.from_input(s) for s in network.private_subnet_ids]
        self.mount_target_subnet_ids = [pulumi.Output.from_input(s) for s in network.mount_target_subnet_ids]
        self.node_security_group_id = self.cluster.cluster_security_group_id
        self.oidc_provider_arn = self.cluster.oidc_provider_arn
        self.oidc_issuer = self.cluster.oidc_issuer
        self.register_outputs({
            "cluster_name": self.cluster_name,
            "kubeconfig": self.kubeconfig,
            "vpc_id": self.vpc_id,
            "private_subnet_ids": self.private_subnet_ids,
            "node_security_group_id": self.node_security_group_id,
        })

    def _log_access(self, config: ClusterConfig, creator: ClusterCreator, caller_arn: str) -> None:
        whose = "cluster.creatorArn" if creator.recorded else "the identity running this `pulumi up` (cluster.creatorArn is not set)"
        for path in skipped_admins(config, creator):
            pulumi.log.info(f"{path}: {creator.arn} is {whose}; EKS made the cluster's creator an admin itself, "
                            f"so no access entry is created for it", self)
        if not caller_has_access(config, creator, caller_arn):
            pulumi.log.warn(f"{caller_arn} runs this `pulumi up` but is neither cluster.creatorArn nor in cluster.admins: "
                            f"the Kubernetes provider cannot authenticate unless another access entry admits it", self)

    def addon_dependencies(self) -> list[pulumi.Resource]:
        """What an add-on with its own pods needs first: system nodes and the Pod Identity agent."""
        return [self.system_node_group, self.addons["eks-pod-identity-agent"]]

    def _addon(self, resource_name: str, spec: build.AddonSpec, depends_on: list[pulumi.Resource] | None = None) -> aws.eks.Addon:
        return aws.eks.Addon(
            f"{resource_name}-{spec.name}",
            cluster_name=self.cluster_name,
            **spec.args(),
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on or []),
        )

    @staticmethod
    def _existing_network(config: ClusterConfig) -> _Network:
        existing = config.existing_vpc
        assert existing is not None
        return _Network(
            vpc_id=existing.vpc_id,
            private_subnet_ids=[subnet.id for subnet in existing.private_subnets],
            public_subnet_ids=[subnet.id for subnet in existing.public_subnets],
            mount_target_subnet_ids=[subnet.id for subnet in existing.subnet_per_zone()],
        )

    def _create_network(self, resource_name: str, args: EksClusterArgs, available: list[str]) -> _Network:
        config = args.cluster.vpc
        child = pulumi.ResourceOptions(parent=self)
        tags = args.tags
        zones = list(config.availability_zones or available[: config.zone_count])
        vpc = aws.ec2.Vpc(
            f"{resource_name}-vpc", cidr_block=config.cidr_block,
            enable_dns_hostnames=True, enable_dns_support=True,
            tags={**tags, "Name": f"{args.name}"}, opts=child,
        )
        # The VPC's default security group allows all traffic between its members; nothing
        # here uses it, so it is emptied rather than left as a trap.
        aws.ec2.DefaultSecurityGroup(f"{resource_name}-default-sg", vpc_id=vpc.id, ingress=[], egress=[], tags=tags, opts=child)
        gateway = aws.ec2.InternetGateway(f"{resource_name}-igw", vpc_id=vpc.id, tags=tags, opts=child)
        public_routes = aws.ec2.RouteTable(
            f"{resource_name}-public", vpc_id=vpc.id,
            routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": gateway.id}],
            tags={**tags, "Name": f"{args.name}-public"}, opts=child,
        )
        private_ids: list[pulumi.Input[str]] = []
        public_ids: list[pulumi.Input[str]] = []
        nat_gateway: aws.ec2.NatGateway | None = None
        # The region may list more zones than the VPC spreads over: the first zone_count are used.
        for zone, plan in zip(zones, build.subnet_plan(config), strict=False):
            suffix = f"{resource_name}-{plan.index}"
            public = aws.ec2.Subnet(
                f"{suffix}-public", vpc_id=vpc.id, cidr_block=plan.public_cidr, availability_zone=zone,
                map_public_ip_on_launch=False,
                tags={**tags, **build.subnet_tags(args.name, public=True), "Name": f"{args.name}-public-{plan.index}"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(f"{suffix}-public", subnet_id=public.id, route_table_id=public_routes.id, opts=child)
            if plan.nat_gateway:
                address = aws.ec2.Eip(f"{suffix}-nat", domain="vpc", tags=tags, opts=child)
                nat_gateway = aws.ec2.NatGateway(
                    f"{suffix}-nat", allocation_id=address.id, subnet_id=public.id, tags=tags,
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[gateway]),
                )
            assert nat_gateway is not None  # zone 0 always has one
            private = aws.ec2.Subnet(
                f"{suffix}-private", vpc_id=vpc.id, cidr_block=plan.private_cidr, availability_zone=zone,
                tags={**tags, **build.subnet_tags(args.name, public=False), "Name": f"{args.name}-private-{plan.index}"},
                opts=child,
            )
            private_routes = aws.ec2.RouteTable(
                f"{suffix}-private", vpc_id=vpc.id,
                routes=[{"cidr_block": "0.0.0.0/0", "nat_gateway_id": nat_gateway.id}],
                tags={**tags, "Name": f"{args.name}-private-{plan.index}"}, opts=child,
            )
            aws.ec2.RouteTableAssociation(f"{suffix}-private", subnet_id=private.id, route_table_id=private_routes.id, opts=child)
            private_ids.append(private.id)
            public_ids.append(public.id)
        return _Network(vpc_id=vpc.id, private_subnet_ids=private_ids, public_subnet_ids=public_ids, mount_target_subnet_ids=private_ids)
