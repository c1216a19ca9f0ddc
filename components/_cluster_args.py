"""Arguments of the VPC, the EKS cluster and its core add-ons, as plain dicts and values."""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from typing import Any

from ..config.errors import ConfigIssue
from ..config.platform.access import ClusterCreator, admins_with_entries
from ..config.platform.cluster import ClusterConfig, NatGateways, VpcConfig

CLUSTER_ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"


@dataclass(frozen=True)
class ZoneSubnets:
    """The two subnets the stack creates in one availability zone."""

    index: int
    private_cidr: str
    public_cidr: str
    nat_gateway: bool
    """Whether this zone's public subnet holds a NAT gateway."""


def subnet_plan(vpc: VpcConfig) -> list[ZoneSubnets]:
    """Private subnets get an eighth of the VPC each (nodes and every pod take VPC addresses);
    public subnets, which only hold NAT gateways and load balancers, share the last eighth."""
    network = ipaddress.IPv4Network(vpc.cidr_block)
    eighths = list(network.subnets(prefixlen_diff=3))
    public = list(eighths[-1].subnets(prefixlen_diff=3))
    return [
        ZoneSubnets(
            index=index,
            private_cidr=str(eighths[index]),
            public_cidr=str(public[index]),
            nat_gateway=vpc.nat_gateways is NatGateways.PER_ZONE or index == 0,
        )
        for index in range(vpc.zone_count)
    ]


def subnet_tags(cluster_name: str, public: bool) -> dict[str, str]:
    """Tags the AWS Load Balancer Controller and in-tree service controller look subnets up by."""
    role = "kubernetes.io/role/elb" if public else "kubernetes.io/role/internal-elb"
    return {role: "1", f"kubernetes.io/cluster/{cluster_name}": "shared"}


def access_entries(cluster: ClusterConfig, creator: ClusterCreator | None = None) -> dict[str, dict[str, Any]]:
    """One cluster-admin access entry per `cluster.admins` item but the creator's, keyed by its index.

    Which items get one is config/platform/access.py's rule (the creator already is an admin; an
    entry for it fails with 409). Keys keep the config index, so leaving one out renames no other entry
    (pulumi-eks names each AccessEntry after its key: authenticationMode.ts `createAccessEntries`, v4.3.0).
    """
    return {
        f"admin-{index}": {
            "principal_arn": admin.principal_arn,
            "access_policies": {
                "cluster-admin": {"policy_arn": CLUSTER_ADMIN_POLICY, "access_scope": {"type": "cluster"}},
            },
        }
        for index, admin in admins_with_entries(cluster, creator)
    }


# DescribeAvailabilityZones returns opted-in Local Zones and Wavelength Zones with the region's own
# zones, sorted by name (us-west-2-lax-1a before us-west-2a); only Availability Zones have
# opt-in-status `opt-in-not-required` (EC2 API Reference, DescribeAvailabilityZones, Filters;
# pulumi-aws docs getAvailabilityZones, "By Filter"). EKS, NAT gateways and EFS need real zones.
AVAILABILITY_ZONE_FILTER: dict[str, Any] = {"name": "opt-in-status", "values": ["opt-in-not-required"]}


def zone_count_issues(available: list[str], count: int, region: str | None) -> list[ConfigIssue]:
    """The stack asks for more zones than the region has (checked before anything is registered)."""
    if len(available) >= count:
        return []
    where = f"region {region!r}" if region else "the region"
    return [ConfigIssue(
        "cluster.vpc.availabilityZoneCount",
        f"{count} zones asked for, but {where} has {len(available)} Availability Zones "
        f"({', '.join(available) or 'none'}); set availabilityZoneCount to {max(len(available), 2)} or fewer, "
        f"or choose a region with more zones",
    )]


def kubeconfig_with_profile(kubeconfig: Any, profile: str) -> str:
    """The cluster's kubeconfig with `--profile <profile>` on its `aws eks get-token` call.

    pulumi-eks' `kubeconfig`/`kubeconfigJson` outputs are built without the profile (cluster.ts
    `genKubeconfig(false)`, v4.3.0; pulumi/pulumi-eks#1082 left it out for multi-user use, #1426),
    so a Kubernetes provider fed from them ignores `aws:profile`. This adds it the way
    pulumi-eks' own `getKubeconfig({profileName})` does (`--profile`, not AWS_PROFILE, which
    environment credentials override: pulumi/pulumi-eks#1484).
    """
    config = json.loads(kubeconfig) if isinstance(kubeconfig, str) else json.loads(json.dumps(kubeconfig))
    for user in config.get("users", []):
        exec_ = (user.get("user") or {}).get("exec")
        if exec_ and exec_.get("command") == "aws" and "--profile" not in exec_.get("args", []):
            exec_["args"] = [*exec_.get("args", []), "--profile", profile]
    return json.dumps(config)


def cluster_args(cluster: ClusterConfig, name: str, *, irsa: bool, creator: ClusterCreator | None = None) -> dict[str, Any]:
    """`pulumi_eks.Cluster` arguments that follow from config (VPC and subnets are added by the component);
    `creator` is the cluster's creator (config/platform/access.py), whose admin entry EKS made itself."""
    public_cidrs = cluster.endpoint_public_access_cidrs
    return {
        "name": name,
        "version": cluster.kubernetes_version,
        # Managed node groups only: the default (self-managed) group and the security groups
        # pulumi-eks makes for it would be unused, and without them `clusterSecurityGroupId`
        # is the EKS-created group that managed nodes carry.
        "skip_default_node_group": True,
        "skip_default_security_groups": True,
        "node_associate_public_ip_address": False,
        "authentication_mode": "API",
        "access_entries": access_entries(cluster, creator),
        "enabled_cluster_log_types": list(cluster.control_plane_logs),
        "endpoint_private_access": True,
        "endpoint_public_access": bool(public_cidrs),
        "public_access_cidrs": list(public_cidrs) if public_cidrs else None,
        "create_oidc_provider": irsa,
        # The core add-ons are managed by EksCluster as aws.eks.Addon resources, so their
        # configuration is visible and CoreDNS can wait for the system nodes.
        "use_default_vpc_cni": True,
        "coredns_addon_options": {"enabled": False},
        "kube_proxy_addon_options": {"enabled": False},
    }


@dataclass(frozen=True)
class AddonSpec:
    name: str
    configuration: dict[str, Any] | None = None
    needs_nodes: bool = False
    """Its pods are a Deployment that stays unhealthy until nodes exist."""
    before_nodes: bool = False
    """Nodes must not join before it is configured (the CNI decides how pods get addresses)."""

    def args(self, version: str | None = None) -> dict[str, Any]:
        args: dict[str, Any] = {
            "addon_name": self.name,
            # Adopt the self-managed copies EKS bootstraps instead of failing on them.
            "resolve_conflicts_on_create": "OVERWRITE",
            "resolve_conflicts_on_update": "OVERWRITE",
        }
        if self.configuration is not None:
            args["configuration_values"] = json.dumps(self.configuration, sort_keys=True)
        if version:
            args["addon_version"] = version
        return args


CORE_ADDONS = (
    # Network policy enforcement runs in the CNI's node agent; without it NetworkPolicies
    # are accepted by the API and silently ignored.
    AddonSpec("vpc-cni", configuration={"enableNetworkPolicy": "true"}, before_nodes=True),
    AddonSpec("kube-proxy", before_nodes=True),
    AddonSpec("eks-pod-identity-agent", before_nodes=True),
    AddonSpec("coredns", needs_nodes=True),
)
