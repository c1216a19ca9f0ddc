"""What a change does beyond the resource it touches, which a per-resource diff cannot see.

- A Kubernetes provider whose kubeconfig comes from a replaced resource (the EKS cluster) is replaced:
  pulumi-kubernetes' DiffConfig replaces the provider when its kubeconfig is unknown at preview, or when the
  kubeconfig's active cluster changed (provider/pkg/provider/provider.go `DiffConfig`, v4.32.0), and the
  engine replaces every resource whose provider's DiffConfig reports a replacement (pulumi/pulumi
  pkg/resource/deploy/step_generator.go `providerChanged`, `diff`: ReplaceKeys ["provider"]). So a cluster
  rename replaces every Kubernetes object, claims included.
- A launch template change that makes a new template version rolls its managed node group: a change to
  one of `resourceLaunchTemplateUpdate`'s `updateKeys` creates a version (terraform-provider-aws
  internal/service/ec2/ec2_launch_template.go @ 025e4f81), the node group follows the template's latest
  version (components/node_group.py), and a `launch_template` change is an `UpdateNodegroupVersion`
  (internal/service/eks/node_group.go `resourceNodeGroupUpdate` @ 012e0a32): EKS replaces every node, at
  most `updateConfig.maxUnavailable` at a time, draining each, so the pods on the group restart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .node_match import NODE_GROUP, pod_spec, runs_on
from .replacement_rules import ReplacementRule

KUBERNETES_PROVIDER = "pulumi:providers:kubernetes"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
# resourceLaunchTemplateUpdate's `updateKeys` (terraform-provider-aws internal/service/ec2/ec2_launch_template.go
# @ 025e4f81), in Pulumi's camelCase: a change to any of them is CreateLaunchTemplateVersion; tags, defaultVersion
# and updateDefaultVersion are not (name and namePrefix replace the template: replacement_rules.py).
_NEW_VERSION_INPUTS = frozenset({
    "blockDeviceMappings", "capacityReservationSpecification", "cpuOptions", "creditSpecification", "description",
    "disableApiStop", "disableApiTermination", "ebsOptimized", "elasticGpuSpecifications", "elasticInferenceAccelerator",
    "enclaveOptions", "hibernationOptions", "iamInstanceProfile", "imageId", "instanceInitiatedShutdownBehavior",
    "instanceMarketOptions", "instanceRequirements", "instanceType", "kernelId", "keyName", "licenseSpecifications",
    "metadataOptions", "monitoring", "networkInterfaces", "placement", "privateDnsNameOptions", "ramDiskId",
    "securityGroupNames", "tagSpecifications", "userData", "vpcSecurityGroupIds",
})

PROVIDER_CONFIG_REPLACED = ReplacementRule(
    ("kubeconfig",),
    "pulumi-kubernetes provider/pkg/provider/provider.go (DiffConfig, v4.32.0: a kubeconfig unknown at preview, "
    "or a new active cluster, replaces the provider)",
    "every Kubernetes object this provider manages is replaced with it",
)
PROVIDER_SOURCE = (
    "pulumi/pulumi pkg/resource/deploy/step_generator.go (providerChanged: a resource whose provider is replaced "
    "is replaced) and pulumi-kubernetes provider.go (DiffConfig)"
)
_ON_NEW_CLUSTER = {
    "kubernetes:core/v1:PersistentVolumeClaim": (
        "a new claim on the new cluster binds a new, empty EFS access point (the old one is retained, "
        "reclaimPolicy Retain, but nothing mounts it): the model cache starts empty"
    ),
    "kubernetes:apps/v1:Deployment": "new pods on the new cluster's nodes, starting from scratch (image pull, weights, Neuron graphs)",
    "kubernetes:batch/v1:Job": "the Job runs again on the new cluster",
}
_ROLL_SOURCE = (
    "terraform-provider-aws internal/service/ec2/ec2_launch_template.go (resourceLaunchTemplateUpdate) and "
    "internal/service/eks/node_group.go (resourceNodeGroupUpdate: UpdateNodegroupVersion)"
)


def provider_rule(type_: str, provider: str) -> ReplacementRule:
    consequence = _ON_NEW_CLUSTER.get(type_, "re-created on the new cluster")
    return ReplacementRule(("provider",), PROVIDER_SOURCE, f"provider {provider} is replaced: {consequence}")


def replaced_providers(resources: list[dict[str, Any]], replaced_names: set[str]) -> list[str]:
    """Kubernetes providers that depend on (take their kubeconfig from) a replaced resource."""
    return sorted(
        r["name"] for r in resources
        if r["type"] == KUBERNETES_PROVIDER and set(r.get("dependsOn") or []) & replaced_names
    )


def on_provider(resources: list[dict[str, Any]], provider: str) -> list[dict[str, Any]]:
    return [r for r in resources if r.get("provider") == provider]


@dataclass(frozen=True)
class NodeGroupRoll:
    launch_template: str
    paths: tuple[str, ...]
    """The launch template inputs whose change makes the new version."""
    nodes: int
    max_unavailable: int
    workloads: tuple[str, ...]
    """`<namespace>/<name>` of the Deployments whose pods run on the group (and restart)."""
    daemonsets: tuple[str, ...]

    def text(self, group: str) -> str:
        moved = ", ".join(self.paths)
        restarts = (f"the pods of {', '.join(self.workloads)} restart on new nodes (and load their models again)"
                    if self.workloads else "no model runs on it")
        daemons = f"; {', '.join(self.daemonsets)} start on each new node" if self.daemonsets else ""
        return (f"{group}: launch template {self.launch_template} changes ({moved}), a new template version, so EKS "
                f"rolls the node group onto it: all {self.nodes} node(s) replaced, {self.max_unavailable} at a time "
                f"(updateConfig.maxUnavailable), each cordoned and drained; {restarts}{daemons} (source: {_ROLL_SOURCE})")


def version_paths(changed_paths: list[str]) -> tuple[str, ...]:
    """The changed launch template inputs that make a new template version."""
    return tuple(path for path in changed_paths if path.split(".", 1)[0].split("[", 1)[0] in _NEW_VERSION_INPUTS)


def node_group_roll(group: dict[str, Any], launch_templates: dict[str, tuple[str, ...]],
                    resources: list[dict[str, Any]]) -> NodeGroupRoll | None:
    """How the group rolls when a launch template it uses makes a new version (None: it does not)."""
    changed = [name for name in sorted(group.get("dependsOn") or []) if launch_templates.get(name)]
    if group["type"] != NODE_GROUP or not changed:
        return None
    inputs = group.get("inputs") or {}
    workloads: list[str] = []
    daemonsets: list[str] = []
    for resource in resources:
        pod = pod_spec(resource["type"], resource.get("inputs") or {})
        if pod is None or resource["type"] == "kubernetes:batch/v1:Job" or not runs_on(pod, inputs):
            continue
        metadata = (resource.get("inputs") or {}).get("metadata") or {}
        label = f"{metadata.get('namespace', 'default')}/{metadata.get('name', resource['name'])}"
        (daemonsets if resource["type"].endswith(":DaemonSet") else workloads).append(label)
    return NodeGroupRoll(
        launch_template=changed[0], paths=launch_templates[changed[0]],
        nodes=int((inputs.get("scalingConfig") or {}).get("desiredSize") or 0),
        max_unavailable=int((inputs.get("updateConfig") or {}).get("maxUnavailable") or 1),
        workloads=tuple(sorted(workloads)), daemonsets=tuple(sorted(daemonsets)),
    )
