"""The whole stack's config, validated as one plan before anything is registered."""

from __future__ import annotations

from collections import Counter
from typing import Optional

from pydantic import Field, SecretStr

from config._base import ConfigModel
from config.errors import ConfigIssue
from config.model import ModelConfig, ModelSource
from config.placement import placement_issues, placement_warnings
from config.platform import ClusterConfig, EfsConfig, NodeGroupConfig, default_system_node_group, platform_issues, platform_warnings
from config.types import ByteQuantity, DnsLabel


class CacheVolumesConfig(ConfigModel):
    """The shared cache PVCs each model namespace gets (the workshop's `huggingface-cache` and `neuron-cache`)."""

    storage_class: DnsLabel = "efs"
    """StorageClass of the cache PVCs; ReadWriteMany, so every replica shares one download."""
    huggingface_size: ByteQuantity = "100Gi"
    """Size of `huggingface-cache` (about 15 GiB per 8B model at 16-bit). Nominal on EFS, which
    grows as needed; set once: a later change is not applied to an existing claim."""
    neuron_size: ByteQuantity = "100Gi"
    """Size of `neuron-cache`, created only in namespaces with Neuron models (about 10 GiB per
    compiled model). Nominal on EFS; a later change is not applied to an existing claim."""
    retain_on_delete: bool = True
    """Keep the cache PVCs and their namespace when a model or the stack is destroyed, so cached
    weights and compiled graphs survive; set false to delete them with the stack."""


class NetworkPolicyConfig(ConfigModel):
    """The default-deny NetworkPolicy each model namespace gets (enforced by the VPC CNI)."""

    enabled: bool = True
    """Create the policy; turn off only where another policy engine governs the namespace."""
    allowed_namespaces: list[DnsLabel] = Field(default_factory=list)
    """Namespaces besides the model's own whose pods may call the vLLM port (e.g. a gateway's)."""


class MonitoringConfig(ConfigModel):
    """Prometheus Operator scraping of every model's `/metrics` (queue depth, KV cache usage, preemptions)."""

    service_monitors: bool = False
    """Create a ServiceMonitor per model; needs the Prometheus Operator's CRDs in the cluster."""
    prometheus_namespace: DnsLabel = "monitoring"
    """Namespace Prometheus runs in; model namespaces' NetworkPolicy admits it while serviceMonitors is on."""
    scrape_interval_seconds: int = Field(15, ge=5, le=300)
    """How often Prometheus scrapes each model (the guide's 15s)."""


class StackConfig(ConfigModel):
    """Everything one `Pulumi.<stack>.yaml` configures under the `vllm-eks:` namespace."""

    node_groups: list[NodeGroupConfig] = Field(default_factory=list)
    """Accelerator node groups, one instance type each; models name theirs with `nodeGroup`."""
    models: list[ModelConfig] = Field(default_factory=list)
    """Models to serve; each becomes a VllmModel (Deployment and Service)."""
    hf_token: Optional[SecretStr] = None
    """Hugging Face token (`pulumi config set --secret hfToken ...`); needed by `source: hub` models."""
    cache_volumes: CacheVolumesConfig = Field(default_factory=CacheVolumesConfig)
    """The shared cache PVCs every model namespace gets."""
    network_policy: NetworkPolicyConfig = Field(default_factory=NetworkPolicyConfig)
    """The default-deny NetworkPolicy of every model namespace."""
    monitoring: MonitoringConfig = Field(default_factory=MonitoringConfig)
    """Prometheus scraping of the models (off by default: it needs the Prometheus Operator)."""
    cluster: ClusterConfig = Field(default_factory=ClusterConfig)
    """The EKS cluster and its network (see docs/platform.md)."""
    system_node_group: NodeGroupConfig = Field(default_factory=default_system_node_group)
    """CPU nodes for CoreDNS, the EFS CSI controller and other add-ons (2-3 m6i.large by default)."""
    efs: EfsConfig = Field(default_factory=EfsConfig)
    """The encrypted EFS file system behind the cache StorageClass."""

    def node_group(self, name: str) -> Optional[NodeGroupConfig]:
        return next((group for group in self.node_groups if group.name == name), None)

    def namespaces(self) -> dict[str, list[ModelConfig]]:
        """Model namespaces in first-use order, each with its models."""
        grouped: dict[str, list[ModelConfig]] = {}
        for model in self.models:
            grouped.setdefault(model.namespace, []).append(model)
        return grouped


def stack_issues(stack: StackConfig) -> list[ConfigIssue]:
    """Rules that span several entries; each issue names the path the user must edit."""
    issues: list[ConfigIssue] = []
    issues += _duplicates(stack)
    issues += platform_issues(stack)
    for index, model in enumerate(stack.models):
        issues += _node_group_issues(stack, index, model)
        issues += _token_issues(stack, index, model)
    issues += placement_issues(stack)
    return issues


def model_issues(model: ModelConfig, group: NodeGroupConfig) -> list[ConfigIssue]:
    """One model's checks against the node group it targets, for a model deployed outside a
    stack file (the VllmModel component used as a library): accelerator kind, sizing and
    placement. Paths read `models[0]` (the model) and `nodeGroups[0]` (the node group).

    Left out: the token rule (whoever owns the namespace's Secret decides) and the running
    node count, since another cluster may run an autoscaler; `maxSize` still bounds the nodes.
    """
    stack = StackConfig(node_groups=[group], models=[model])
    return _node_group_issues(stack, 0, model) + placement_issues(stack, groups_run_as_configured=False)


def _node_group_issues(stack: StackConfig, index: int, model: ModelConfig) -> list[ConfigIssue]:
    group = stack.node_group(model.node_group)
    if group is None:
        known = ", ".join(repr(g.name) for g in stack.node_groups) or "none are configured"
        return [ConfigIssue(
            f"models[{index}].nodeGroup",
            f"node group {model.node_group!r} does not exist (node groups: {known}); "
            f"add it under nodeGroups or point the model at an existing one",
        )]
    if group.accelerator is not model.accelerator:
        offered = group.accelerator.value if group.accelerator else "no accelerator"
        return [ConfigIssue(
            f"models[{index}].accelerator",
            f"model {model.name!r} needs {model.accelerator.value} but node group {group.name!r} "
            f"runs {group.instance_type} ({offered}); choose a {model.accelerator.value} node group "
            f"or change accelerator",
        )]
    return []


def _token_issues(stack: StackConfig, index: int, model: ModelConfig) -> list[ConfigIssue]:
    if model.source is not ModelSource.HUB or stack.hf_token is not None:
        return []
    return [ConfigIssue(
        f"models[{index}].source",
        f"model {model.name!r} downloads {model.model!r} from the Hugging Face hub but no token "
        f"is configured; run `pulumi config set --secret hfToken <token>`, or serve weights "
        f"baked into the image with source: image",
    )]


def stack_warnings(stack: StackConfig) -> list[str]:
    """Legitimate but probably unintended setups; printed, never fatal."""
    used = {model.node_group for model in stack.models}
    warnings = [
        f"nodeGroups[{index}] {group.name!r} runs no model; its nodes cost money while idle "
        f"(fine for a platform-only stack)"
        for index, group in enumerate(stack.node_groups)
        if group.name not in used
    ]
    warnings += platform_warnings(stack)
    warnings += placement_warnings(stack)
    return warnings


def _duplicates(stack: StackConfig) -> list[ConfigIssue]:
    issues = []
    checks = [
        ("nodeGroups", "name", [group.name for group in stack.node_groups]),
        ("models", "name", [model.name for model in stack.models]),
        ("models", "servedModelName", [model.resolved_served_model_name for model in stack.models]),
    ]
    for section, field, values in checks:
        counts = Counter(values)
        seen: set[str] = set()
        for index, value in enumerate(values):
            if counts[value] > 1 and value in seen:
                first = values.index(value)
                issues.append(ConfigIssue(
                    f"{section}[{index}].{field}",
                    f"{value!r} is already used by {section}[{first}]; names must be unique in the stack",
                ))
            seen.add(value)
    return issues
