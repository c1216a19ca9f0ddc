"""Platform: everything models run on, built from one validated StackConfig.

Models need three things from it, and only these (so Pulumi creates the rest in parallel):
the cache StorageClass, the device plugin of their accelerator, and their node group.
`model_dependencies` returns exactly that list.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from ..config.accelerators import AcceleratorKind
from ..config.errors import ConfigError
from ..config.model import ModelConfig
from ..config.platform.efs import ServiceAccountIdentity
from ..config.scheduler_catalog import model_scheduler, schedulers_needed
from ..config.stack import StackConfig
from ..config.validation import ValidatedStack
from .device_plugins import DEVICE_PLUGIN_COMPONENTS, DevicePlugin, DevicePluginArgs
from .efs_storage import EfsStorage, EfsStorageArgs
from .eks_cluster import EksCluster, EksClusterArgs, region_zones, zone_issues
from .karpenter import Karpenter, KarpenterArgs
from .keda import Keda, KedaArgs
from .monitoring import Monitoring, MonitoringArgs
from .node_group import AcceleratorNodeGroup, AcceleratorNodeGroupArgs
from .vendor_scheduler import VendorScheduler, VendorSchedulerArgs


@dataclass
class PlatformArgs:
    stack: StackConfig
    """A validated stack (`validate_stack` or `load_stack_config` already ran every check)."""
    stack_name: str
    """Pulumi stack name; the cluster is named `vllm-eks-<stack>` unless `cluster.name` is set."""


class Platform(pulumi.ComponentResource):
    cluster: EksCluster
    provider: k8s.Provider
    node_groups: dict[str, AcceleratorNodeGroup]
    """Managed accelerator node groups by `NodeGroupConfig.name` (the system group is `cluster.system_node_group`)."""
    karpenter: Karpenter | None
    """Karpenter, when some node group has `capacity: karpenter`; its NodePools are `karpenter.node_pools`."""
    keda: Keda | None
    """KEDA, when some model has `autoscaling`; its ScaledObjects depend on `keda.chart`."""
    storage: EfsStorage
    storage_class: pulumi.CustomResource
    device_plugins: dict[AcceleratorKind, DevicePlugin]
    """One per accelerator kind that some node group provides."""
    schedulers: dict[str, VendorScheduler]
    """Vendor schedulers by schedulerName, one per scheduler some model's pods need."""
    monitoring: Monitoring
    """The metrics backend and hardware exporters (`monitoring.backend`); `monitoring.ready` is what
    ServiceMonitors, PrometheusRules and dashboards depend on."""
    cluster_name: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    """Secret."""

    def __init__(self, resource_name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None):
        # The one rule that needs the AWS account: the region's zones, before anything registers.
        zones = region_zones(args.stack.cluster)
        issues = zone_issues(args.stack.cluster, zones)
        if issues:
            raise ConfigError(issues, source=f"platform {resource_name!r}")
        super().__init__("vllm-eks:index:Platform", resource_name, None, opts)
        stack = args.stack
        irsa = stack.efs.identity is ServiceAccountIdentity.IRSA
        self.cluster = EksCluster(
            resource_name,
            EksClusterArgs(
                cluster=stack.cluster,
                name=stack.cluster.resolved_name(args.stack_name),
                system_node_group=stack.system_node_group,
                create_oidc_provider=irsa,
                zones=zones,
                rules_checked=True,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        cluster = self.cluster
        self.provider = cluster.provider
        self.node_groups = {
            group.name: AcceleratorNodeGroup(
                f"{resource_name}-{group.name}",
                AcceleratorNodeGroupArgs(
                    group=group,
                    cluster_name=cluster.cluster_name,
                    subnet_ids=cluster.private_subnet_ids,
                    depends_on=[cluster.addons["vpc-cni"]],
                ),
                pulumi.ResourceOptions(parent=self),
            )
            for group in stack.node_groups if not group.is_karpenter
        }
        karpenter_groups = [group for group in stack.node_groups if group.is_karpenter]
        self.karpenter = Karpenter(
            f"{resource_name}-karpenter",
            KarpenterArgs(
                groups=karpenter_groups, cluster_name=cluster.cluster_name,
                discovery=stack.cluster.resolved_name(args.stack_name), subnet_ids=cluster.private_subnet_ids,
                security_group_id=cluster.node_security_group_id, provider=cluster.provider,
                depends_on=cluster.addon_dependencies(),
            ),
            pulumi.ResourceOptions(parent=self),
        ) if karpenter_groups else None
        self.keda = Keda(
            f"{resource_name}-keda", KedaArgs(provider=cluster.provider, depends_on=cluster.addon_dependencies()),
            pulumi.ResourceOptions(parent=self),
        ) if any(model.autoscaling is not None for model in stack.models) else None
        self.storage = EfsStorage(
            f"{resource_name}-cache",
            EfsStorageArgs(
                efs=stack.efs,
                storage_class_name=stack.cache_volumes.storage_class,
                cluster_name=cluster.cluster_name,
                vpc_id=cluster.vpc_id,
                subnet_ids=cluster.mount_target_subnet_ids,
                node_security_group_id=cluster.node_security_group_id,
                provider=cluster.provider,
                oidc_provider_arn=cluster.oidc_provider_arn if irsa else None,
                oidc_issuer=cluster.oidc_issuer if irsa else None,
                addon_depends_on=cluster.addon_dependencies(),
            ),
            pulumi.ResourceOptions(parent=self),
        )
        self.storage_class = self.storage.storage_class
        kinds = [group.accelerator for group in stack.node_groups if group.accelerator is not None]
        self.device_plugins = {
            kind: DEVICE_PLUGIN_COMPONENTS[kind](
                f"{resource_name}-{kind.value}-device-plugin",
                DevicePluginArgs(provider=cluster.provider),
                pulumi.ResourceOptions(parent=self),
            )
            for kind in dict.fromkeys(kinds)
        }
        # Multi-core Neuron pods need the scheduler extension (config/scheduler_catalog.py).
        self.schedulers = {
            scheduler: VendorScheduler(
                f"{resource_name}-{scheduler}",
                VendorSchedulerArgs(provider=cluster.provider, scheduler_name=scheduler,
                                    kubernetes_version=stack.cluster.kubernetes_version,
                                    # Its Deployments' pods run on the system nodes (no accelerator taint).
                                    depends_on=[cluster.system_node_group]),
                pulumi.ResourceOptions(parent=self),
            )
            for scheduler in schedulers_needed(stack)
        }
        password = stack.grafana_admin_password
        self.monitoring = Monitoring(
            f"{resource_name}-monitoring",
            MonitoringArgs(
                monitoring=stack.monitoring,
                provider=cluster.provider,
                system_node_group=stack.system_node_group.name,
                accelerators=list(dict.fromkeys(kinds)),
                grafana_admin_password=pulumi.Output.secret(password.get_secret_value()) if password else None,
                cluster_name=cluster.cluster_name,
                addon_depends_on=cluster.addon_dependencies(),
                depends_on=[cluster.system_node_group],
                subnet_ids=cluster.private_subnet_ids,
                security_group_ids=[cluster.node_security_group_id],
                model_namespaces=list(stack.namespaces()),
            ),
            pulumi.ResourceOptions(parent=self),
        )
        self.cluster_name = cluster.cluster_name
        self.kubeconfig = cluster.kubeconfig
        self.register_outputs({"cluster_name": self.cluster_name, "kubeconfig": self.kubeconfig})


def build_platform(validated: ValidatedStack, opts: pulumi.ResourceOptions | None = None, name: str = "platform") -> Platform:
    """The platform for the running Pulumi stack. Takes a ValidatedStack (`validate_stack(stack)`),
    so every platform rule has run before anything is registered."""
    return Platform(name, PlatformArgs(stack=validated.stack, stack_name=pulumi.get_stack()), opts)


def autoscaler_dependencies(platform: Platform) -> list[pulumi.Resource]:
    """What a ScaledObject needs first: the KEDA chart that installs its CRD."""
    return [platform.keda.chart] if platform.keda is not None else []


def storage_dependencies(platform: Platform) -> list[pulumi.Resource]:
    """What a cache claim needs to bind at once: the StorageClass and the CSI driver that provisions it."""
    return [platform.storage_class, platform.storage.csi_driver]


def model_dependencies(platform: Platform, model: ModelConfig) -> list[pulumi.Resource]:
    """What a model's pods need before they can schedule and mount their caches."""
    nodes: pulumi.Resource | None = platform.node_groups.get(model.node_group)
    if nodes is None and platform.karpenter is not None:
        nodes = platform.karpenter.node_pools[model.node_group]
    needs: list[pulumi.Resource] = [platform.storage_class, platform.device_plugins[model.accelerator]]
    if nodes is not None:
        needs.append(nodes)
    scheduler = model_scheduler(model)
    if scheduler is not None:
        needs.append(platform.schedulers[scheduler])
    return needs
