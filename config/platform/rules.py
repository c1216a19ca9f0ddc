"""Cross-field platform rules: the cluster, its network and the system node group. Each issue names the path to edit."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from datetime import date
from typing import Protocol

from ..errors import ConfigIssue, Fix
from ..instance_catalog import INSTANCE_TYPES
from .access import access_warnings
from .cluster import ClusterConfig, ExistingVpcConfig, VpcConfig
from .kubernetes_versions import Support, suggested_version, version_note
from .node_groups import NodeGroupConfig


class _PlatformStack(Protocol):
    @property
    def cluster(self) -> ClusterConfig: ...
    @property
    def system_node_group(self) -> NodeGroupConfig: ...
    @property
    def node_groups(self) -> Sequence[NodeGroupConfig]: ...


def platform_issues(stack: _PlatformStack, today: date | None = None) -> list[ConfigIssue]:
    """Problems in the cluster, network and system node group, each with the path to edit.
    `today` dates the Kubernetes version rule (default: the clock's date)."""
    issues: list[ConfigIssue] = []
    status, message = version_note(stack.cluster.kubernetes_version, today or date.today())
    if status is Support.ENDED:
        suggested = suggested_version(today or date.today())
        issues.append(ConfigIssue("cluster.kubernetesVersion", message,
                                  (Fix("cluster.kubernetesVersion", suggested),) if suggested else ()))
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


def platform_warnings(stack: _PlatformStack, today: date | None = None) -> list[str]:
    """Legal but risky platform settings; printed, fatal only with --strict."""
    warnings = []
    if "0.0.0.0/0" in stack.cluster.endpoint_public_access_cidrs:
        warnings.append(
            "cluster.endpointPublicAccessCidrs: 0.0.0.0/0 exposes the Kubernetes API endpoint to the whole "
            "internet (IAM authentication still applies); list only the networks you run kubectl and pulumi from"
        )
    status, message = version_note(stack.cluster.kubernetes_version, today or date.today())
    if status in (Support.EXTENDED, Support.UNKNOWN):
        warnings.append(f"cluster.kubernetesVersion: {message}")
    return warnings + access_warnings(stack.cluster)


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
