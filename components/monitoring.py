"""Monitoring: where the models' metrics go, and the accelerators' hardware telemetry.

`backend: in-cluster` installs the pinned kube-prometheus-stack chart (Prometheus Operator and its
CRDs, Prometheus on an encrypted gp3 volume, Grafana, Alertmanager) on the system nodes; with any
backend on, the NVIDIA DCGM exporter and neuron-monitor run on the node groups of their accelerator.
Values and objects come from the pure builders _prometheus_stack_values.py and _hardware_exporters.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from ..config.accelerators import AcceleratorKind
from ..config.monitoring import MonitoringBackend, MonitoringConfig
from ..config.prometheus_stack import KUBE_PROMETHEUS_STACK, RELEASE_NAME, prometheus_query_url
from . import _amazon_managed_args as amazon
from . import _block_storage_args as block
from . import _efs_args
from . import _hardware_exporters as exporters
from . import _prometheus_stack_values as values
from ._kubernetes import register_in_apply_order, register_object


@dataclass
class MonitoringArgs:
    monitoring: MonitoringConfig
    provider: k8s.Provider
    """The cluster's Kubernetes provider."""
    system_node_group: str
    """Name of the CPU node group the stack's controllers run on (its `vllm-eks/node-group` label)."""
    accelerators: Sequence[AcceleratorKind] = ()
    """Accelerator kinds some node group provides; each gets its exporter, no other does."""
    grafana_admin_password: pulumi.Input[str] | None = None
    """A Pulumi secret; required by in-cluster Grafana (the config rules say so before anything registers)."""
    cluster_name: pulumi.Input[str] | None = None
    """The EKS cluster, for the EBS CSI add-on behind the `gp3` StorageClass (in-cluster backend)."""
    addon_depends_on: Sequence[pulumi.Resource] = ()
    """What an EKS add-on needs before it can become healthy (nodes, the Pod Identity agent)."""
    subnet_ids: Sequence[pulumi.Input[str]] = ()
    """The nodes' subnets (two zones at least), where the AMP collector puts its ENIs (amazon-managed)."""
    security_group_ids: Sequence[pulumi.Input[str]] = ()
    """Security groups of the collector's ENIs: the nodes' group, which reaches every pod (amazon-managed)."""
    model_namespaces: Sequence[str] = ()
    """Namespaces holding vLLM Services, which the AMP collector scrapes (amazon-managed)."""
    depends_on: Sequence[pulumi.Resource] = field(default_factory=list)
    """What the chart's pods need first (the system node group)."""


class Monitoring(pulumi.ComponentResource):
    """Outputs: `backend`, `prometheus_url` (in-cluster query URL, or None), `chart` (name and version),
    `exporters` (names of the hardware exporters). `ready` is what a ServiceMonitor, PrometheusRule or
    dashboard must depend on (the chart that installs their CRDs and Grafana)."""

    chart: k8s.helm.v4.Chart | None
    ready: list[pulumi.Resource]
    workspace: aws.amp.Workspace | None
    """The AMP workspace (amazon-managed); its `prometheus_endpoint` is the SigV4-signed query API."""

    def __init__(self, resource_name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("vllm-eks:index:Monitoring", resource_name, None, opts)
        monitoring = args.monitoring
        on_cluster = pulumi.ResourceOptions(parent=self, provider=args.provider)
        self.chart = None
        self.workspace = None
        self.ready = []
        if monitoring.backend is MonitoringBackend.IN_CLUSTER:
            self.chart = self._prometheus_stack(resource_name, args, on_cluster)
            self.ready = [self.chart]
        service_monitors = monitoring.backend is MonitoringBackend.IN_CLUSTER
        exporter_names = [exporters.EXPORTERS[kind].name for kind in dict.fromkeys(args.accelerators)]
        if not (monitoring.enabled and monitoring.hardware_exporters):
            exporter_names = []
        if monitoring.backend is MonitoringBackend.AMAZON_MANAGED:
            self.workspace = self._amazon_managed(resource_name, args, exporter_names)
        if exporter_names:
            for kind in dict.fromkeys(args.accelerators):
                spec = exporters.EXPORTERS[kind]
                objects = exporters.exporter_objects(kind, monitoring.scrape_interval_seconds, service_monitors)
                register_in_apply_order(
                    objects, _resource_namer(f"{resource_name}-{spec.name}"),
                    frozenset({"DaemonSet", "ServiceMonitor"}),
                    pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(depends_on=self.ready)),
                )
        pin = KUBE_PROMETHEUS_STACK
        self.register_outputs({
            "backend": monitoring.backend.value,
            "prometheus_url": prometheus_query_url(monitoring),
            "chart": f"{pin.name} {pin.version}" if self.chart else None,
            "exporters": exporter_names,
            "amp_workspace_id": self.workspace.id if self.workspace else None,
        })

    def _amazon_managed(self, resource_name: str, args: MonitoringArgs, exporter_names: list[str]) -> aws.amp.Workspace:
        """An AMP workspace, its managed collector on the cluster, and (with grafana.enabled) an AMG workspace."""
        monitoring = args.monitoring
        if args.cluster_name is None or not args.subnet_ids:
            raise ValueError("Monitoring with backend amazon-managed needs cluster_name and subnet_ids")
        child = pulumi.ResourceOptions(parent=self)
        alias = monitoring.amazon_managed.workspace_alias
        workspace = aws.amp.Workspace(
            f"{resource_name}-amp",
            alias=alias if alias is not None else pulumi.Output.from_input(args.cluster_name),
            tags={amazon.SCRAPER_WORKSPACE_TAG: ""},
            opts=child,
        )
        cluster = aws.eks.get_cluster_output(name=args.cluster_name)
        aws.amp.Scraper(
            f"{resource_name}-amp-scraper",
            alias=f"{resource_name}-scraper",
            source={"eks": {"cluster_arn": cluster.arn, "subnet_ids": list(args.subnet_ids),
                            "security_group_ids": list(args.security_group_ids)}},
            destination={"amp": {"workspace_arn": workspace.arn}},
            scrape_configuration=amazon.scrape_configuration(monitoring, args.model_namespaces, exporter_names),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)),
        )
        if monitoring.grafana.enabled:
            role = aws.iam.Role(f"{resource_name}-grafana", assume_role_policy=amazon.grafana_trust_policy(),
                                description="Amazon Managed Grafana: query the stack's AMP workspace", opts=child)
            aws.iam.RolePolicyAttachment(f"{resource_name}-grafana-amp-query", role=role.name,
                                         policy_arn=amazon.AMG_QUERY_POLICY, opts=child)
            aws.grafana.Workspace(f"{resource_name}-grafana", role_arn=role.arn,
                                  **amazon.grafana_workspace_args(f"{resource_name}-grafana"), opts=child)
        return workspace

    def _prometheus_stack(self, resource_name: str, args: MonitoringArgs, on_cluster: pulumi.ResourceOptions) -> k8s.helm.v4.Chart:
        monitoring = args.monitoring
        namespace = monitoring.prometheus_namespace
        needs: list[pulumi.Resource] = [register_object(f"{resource_name}-namespace", values.namespace_object(namespace), on_cluster)]
        if monitoring.grafana.enabled:
            if args.grafana_admin_password is None:
                raise ValueError("Monitoring with in-cluster Grafana needs grafana_admin_password (a Pulumi secret)")
            password = pulumi.Output.secret(args.grafana_admin_password)
            needs.append(register_object(
                f"{resource_name}-grafana-admin", values.grafana_admin_secret(namespace, password),
                pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(depends_on=list(needs))),
            ))
        if monitoring.prometheus.storage_class == block.GP3:
            needs.append(self._gp3_storage(resource_name, args, on_cluster))
        pin = KUBE_PROMETHEUS_STACK
        return k8s.helm.v4.Chart(
            f"{resource_name}-{RELEASE_NAME}",
            chart=pin.name,
            version=pin.version,
            repository_opts=k8s.helm.v4.RepositoryOptsArgs(repo=pin.repository),
            namespace=namespace,
            name=RELEASE_NAME,
            values=values.chart_values(monitoring, args.system_node_group),
            opts=pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(depends_on=[*needs, *args.depends_on])),
        )

    def _gp3_storage(self, resource_name: str, args: MonitoringArgs, on_cluster: pulumi.ResourceOptions) -> pulumi.Resource:
        """The EBS CSI add-on (Pod Identity, like the EFS driver's) and the encrypted gp3 StorageClass."""
        if args.cluster_name is None:
            raise ValueError("Monitoring with storage class gp3 needs cluster_name for the EBS CSI add-on")
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{resource_name}-ebs-csi-driver",
            assume_role_policy=_efs_args.pod_identity_trust_policy(),
            description="EBS CSI controller: create, attach and delete the Prometheus volume",
            opts=child,
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{resource_name}-ebs-csi-driver", role=role.name, policy_arn=block.EBS_CSI_POLICY, opts=child,
        )
        addon = aws.eks.Addon(
            f"{resource_name}-ebs-csi-driver",
            cluster_name=args.cluster_name,
            addon_name=block.EBS_CSI_ADDON,
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            pod_identity_associations=[{"role_arn": role.arn, "service_account": block.EBS_CSI_CONTROLLER_SERVICE_ACCOUNT}],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[attachment, *args.addon_depends_on]),
        )
        return register_object(
            f"{resource_name}-{block.GP3}", block.gp3_storage_class_object(),
            pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(depends_on=[addon])),
        )


def _resource_namer(prefix: str) -> Callable[[dict[str, Any]], str]:
    """`<prefix>-<kind>`: one exporter's objects are one of each kind."""
    def name(obj: dict[str, Any]) -> str:
        return f"{prefix}-{str(obj['kind']).lower()}"
    return name
