"""Which input changes make Pulumi replace a resource instead of updating it, per resource type.

Only the types this project registers, and only rules read in the providers' own source:

- Kubernetes: pulumi-kubernetes decides in its provider's Diff (provider/pkg/provider/provider.go,
  `Diff`): a change at or under a "force new" path replaces the object. The paths are
  `.metadata.name` and `.metadata.namespace` for every kind plus the per-kind table in
  provider/pkg/provider/diff.go (`forceNew`, `forceNewProperties`); read at pulumi/pulumi-kubernetes
  v4.32.0-27-g94977969d (2026-07-01; the table is unchanged since #1951, 2022). A named object
  replaced under the same name and namespace is deleted first (`deleteBeforeReplace`, same Diff).
  Secrets replace on `.type`, `.stringData` and `.data` unless the provider sets
  `enableSecretMutable` (this project does not).
- AWS: pulumi-aws bridges terraform-provider-aws, whose `ForceNew: true` schema attributes are
  the inputs that replace (the bridge reports them as replacements); read in
  hashicorp/terraform-provider-aws internal/service/<service>/<resource>.go, as cited per type.
  Attribute names are Pulumi's camelCase of the Terraform snake_case ones.

A type without a rule here is still diffed; its changes are shown without a replacement verdict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class ReplacementRule:
    paths: tuple[str, ...]
    """Input paths (dotted, `[*]` for any list item) whose change, or any change beneath, replaces."""
    source: str
    """Where the rule is stated upstream."""
    consequence: str = ""
    """What the replacement means for a user, when it is more than 'deleted and re-created'."""


_K8S_DIFF = "pulumi-kubernetes provider/pkg/provider/diff.go (forceNew) and provider.go (Diff)"
_TF = "terraform-provider-aws internal/service/"

_IDENTITY_SOURCE = (
    "pulumi-kubernetes provider/pkg/provider/provider.go (Diff: \"Changing the identity of the resource always causes a replacement\")"
)
_IDENTITY_CONSEQUENCES = {
    "kubernetes:core/v1:Service": "the model gets a new in-cluster endpoint (DNS name); callers must change",
    "kubernetes:core/v1:PersistentVolumeClaim": "a new claim starts empty: its models download (and Neuron models compile) again",
    "kubernetes:apps/v1:Deployment": "new pods that start from scratch (image pull, weight load, Neuron graphs)",
    "kubernetes:core/v1:Namespace": "deleting a namespace deletes everything in it",
}


def _identity_rule(type_: str) -> ReplacementRule:
    return ReplacementRule(("metadata.name", "metadata.namespace"), _IDENTITY_SOURCE, _IDENTITY_CONSEQUENCES.get(type_, ""))


ADDED_CONSEQUENCES = {
    "kubernetes:core/v1:PersistentVolumeClaim": "a new claim starts empty: models that mount it download (and Neuron models compile) again",
}
"""What a newly added resource of a type means beyond 'created' (shown in the diff's notes)."""

CLUSTER_CONSEQUENCE = (
    "a new EKS cluster: its Kubernetes provider is replaced with it, and so is every Kubernetes object on it "
    "(the claims get new, empty EFS access points: hub models download, and Neuron models compile, again)"
)

RULES: dict[str, tuple[ReplacementRule, ...]] = {
    # pulumi-eks passes these to its aws.eks.Cluster (nodejs/eks/cluster/cluster.ts, v4.3.0: `name: args.name`,
    # `roleArn` from serviceRole, kubernetesNetworkConfig from kubernetesServiceIpAddressRange and ipFamily), whose
    # name, role_arn and kubernetes_network_config.{service_ipv4_cidr,ip_family} are ForceNew (eks/cluster.go
    # @ 00555dc5; vpc_config.subnet_ids is updated in place there, UpdateClusterConfig).
    "eks:index:Cluster": (ReplacementRule(
        ("name", "serviceRole", "kubernetesServiceIpAddressRange", "ipFamily"),
        "pulumi-eks nodejs/eks/cluster/cluster.ts (v4.3.0) and " + _TF + "eks/cluster.go (ForceNew attributes)",
        CLUSTER_CONSEQUENCE),),
    "kubernetes:apps/v1:Deployment": (ReplacementRule(
        ("spec.selector",), _K8S_DIFF, "the selector is immutable in apps/v1; new pods start from scratch"),),
    "kubernetes:apps/v1:DaemonSet": (ReplacementRule(("spec.selector",), _K8S_DIFF),),
    # Not `spec.resources`: a larger storage request is an in-place resize (where the class allows expansion).
    "kubernetes:core/v1:PersistentVolumeClaim": (ReplacementRule(
        ("spec.accessModes", "spec.selector", "spec.storageClassName", "spec.volumeName"), _K8S_DIFF,
        "a new claim and a new, empty volume: the model cache is downloaded (and Neuron graphs compiled) again"),),
    "kubernetes:core/v1:Secret": (ReplacementRule(("type", "stringData", "data"), _K8S_DIFF),),
    # ConfigMaps are immutable to the provider unless it sets enableConfigMapMutable (this project does not).
    "kubernetes:core/v1:ConfigMap": (ReplacementRule(("binaryData", "data"), _K8S_DIFF),),
    "kubernetes:batch/v1:Job": (ReplacementRule(
        ("spec.completions", "spec.parallelism", "spec.selector", "spec.template"), _K8S_DIFF,
        "a new Job runs again (for a compile Job: the graphs are compiled again unless the cache holds them)"),),
    "kubernetes:core/v1:Service": (ReplacementRule(("spec.clusterIP",), _K8S_DIFF),),
    "kubernetes:storage.k8s.io/v1:StorageClass": (ReplacementRule(("parameters", "provisioner"), _K8S_DIFF),),
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding": (ReplacementRule(("roleRef",), _K8S_DIFF),),
    "aws:eks/nodeGroup:NodeGroup": (ReplacementRule(
        ("amiType", "capacityType", "clusterName", "diskSize", "instanceTypes", "launchTemplate.id",
         "launchTemplate.name", "nodeGroupName", "nodeGroupNamePrefix", "nodeRoleArn", "remoteAccess", "subnetIds"),
        _TF + "eks/node_group.go (ForceNew attributes)",
        "a new node group: its nodes are drained and replaced, and every pod on them restarts"),),
    "aws:eks/addon:Addon": (ReplacementRule(("addonName", "clusterName"), _TF + "eks/addon.go (ForceNew attributes)"),),
    "aws:efs/fileSystem:FileSystem": (ReplacementRule(
        ("availabilityZoneName", "creationToken", "encrypted", "kmsKeyId", "performanceMode"),
        _TF + "efs/file_system.go (ForceNew attributes)",
        "a new, empty file system: every cached model and compiled graph is gone"),),
    "aws:efs/mountTarget:MountTarget": (ReplacementRule(
        ("fileSystemId", "ipAddress", "subnetId"), _TF + "efs/mount_target.go (ForceNew attributes)"),),
    "aws:ec2/vpc:Vpc": (ReplacementRule(
        ("cidrBlock", "ipv4IpamPoolId", "ipv4NetmaskLength"), _TF + "ec2/vpc_.go (ForceNew attributes)",
        "a new VPC: its subnets, and the cluster, nodes and mount targets in them, are replaced with it"),),
    "aws:ec2/subnet:Subnet": (ReplacementRule(
        # ipv6CidrBlock also replaces, but only when the subnet assigned IPv6 on creation (its CustomizeDiff).
        ("availabilityZone", "availabilityZoneId", "cidrBlock", "ipv4IpamPoolId", "ipv4NetmaskLength", "ipv6IpamPoolId",
         "ipv6Native", "ipv6NetmaskLength", "outpostArn", "vpcId"),
        _TF + "ec2/vpc_subnet.go (ForceNew attributes)",
        "a new subnet: what runs in it (node groups, EFS mount targets, a NAT gateway) is replaced with it"),),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": (ReplacementRule(
        ("policyArn", "role"), _TF + "iam/role_policy_attachment.go (ForceNew attributes)"),),
    "aws:iam/role:Role": (ReplacementRule(
        ("name", "namePrefix", "path"), _TF + "iam/role.go (ForceNew attributes)",
        "a new role with a new ARN: what trusts or names the old one (node groups, IRSA service accounts) is updated or replaced"),),
    # Every other launch-template input makes a new template version (resourceLaunchTemplateUpdate), not a new template.
    "aws:ec2/launchTemplate:LaunchTemplate": (ReplacementRule(
        ("name", "namePrefix"), _TF + "ec2/ec2_launch_template.go (ForceNew attributes)"),),
    "aws:ec2/securityGroup:SecurityGroup": (ReplacementRule(
        ("description", "name", "namePrefix", "vpcId"), _TF + "ec2/vpc_security_group.go (ForceNew attributes)",
        "a new security group: its rules and every mount target or node that uses it move to the new group"),),
    "aws:ec2/natGateway:NatGateway": (ReplacementRule(
        ("allocationId", "connectivityType", "privateIp", "secondaryPrivateIpAddressCount", "subnetId"),
        _TF + "ec2/vpc_nat_gateway.go (ForceNew attributes)",
        "a new NAT gateway: private subnets lose outbound traffic until their routes point at it"),),
    "aws:ec2/eip:Eip": (ReplacementRule(
        ("address", "domain", "ipamPoolId", "networkBorderGroup", "publicIpv4Pool"), _TF + "ec2/ec2_eip.go (ForceNew attributes)",
        "a new public address for the NAT gateway"),),
    "aws:ec2/routeTable:RouteTable": (ReplacementRule(
        ("vpcId",), _TF + "ec2/vpc_route_table.go (ForceNew attributes)"),),
    # A plugin-framework resource: securityGroupId RequiresReplace; ModifyPlan also replaces a rule whose
    # source kind changes (cidrIpv4 to referencedSecurityGroupId, say), which a path table cannot tell apart
    # from a changed value of the same kind, so that case shows as an update.
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": (ReplacementRule(
        ("securityGroupId",), _TF + "ec2/vpc_security_group_ingress_rule.go (RequiresReplace)"),),
}


REPLACE_ON_CHANGES_SOURCE = (
    "the resource's replaceOnChanges option (pulumi/pulumi pkg/resource/deploy/step_generator.go applyReplaceOnChanges)"
)


def replace_on_changes_rule(paths: list[str], changed_path: str) -> ReplacementRule | None:
    """The rule when `changed_path` is at or under one of the resource's replaceOnChanges paths."""
    if any(_covers(path, changed_path) for path in paths):
        return ReplacementRule(tuple(paths), REPLACE_ON_CHANGES_SOURCE)
    return None


def rules_for(type_: str) -> tuple[ReplacementRule, ...]:
    """Every rule that applies to a resource type (Kubernetes identity rules apply to every kind)."""
    identity = (_identity_rule(type_),) if type_.startswith("kubernetes:") else ()
    return identity + RULES.get(type_, ())


def has_rules(type_: str) -> bool:
    return bool(rules_for(type_))


_TOKEN = re.compile(r'\["((?:[^"\\]|\\.)*)"\]|\[([^\]]*)\]|\.?([^.\[]+)')


def _segments(path: str) -> list[str]:
    """`spec.containers[name=vllm].args[3]` -> spec, containers, [], args, []; a quoted `["a.b"]` is one key."""
    return [quoted or plain or "[]" for quoted, _index, plain in _TOKEN.findall(path)]


def _covers(rule_path: str, changed: str) -> bool:
    """A change at or beneath `rule_path`, or a change of a whole value containing it."""
    rule, change = _segments(rule_path), _segments(changed)
    shorter = min(len(rule), len(change))
    return all(a == b or "[]" in (a, b) for a, b in zip(rule[:shorter], change[:shorter], strict=True))


def replacing_rule(type_: str, changed_path: str) -> ReplacementRule | None:
    """The rule that makes a change at `changed_path` replace a resource of `type_`, if any."""
    for rule in rules_for(type_):
        if any(_covers(path, changed_path) for path in rule.paths):
            return rule
    return None


def covered_by(paths: list[str], changed_path: str) -> bool:
    """Whether `changed_path` is at or beneath one of `paths` (ignoreChanges uses dotted paths)."""
    change = _segments(changed_path)
    return any(_segments(path) == change[:len(_segments(path))] for path in paths)
