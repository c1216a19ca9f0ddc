"""VendorScheduler: the second scheduler (and its extension) some accelerators' multi-unit pods need.

One component for every vendor scheduler in config/scheduler_catalog.SCHEDULERS (today Neuron's
my-scheduler with k8s-neuron-scheduler); what differs is data there and in _scheduler_objects.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from . import _scheduler_objects as objects
from ._kubernetes import register_in_apply_order


@dataclass
class VendorSchedulerArgs:
    provider: k8s.Provider
    """The cluster's Kubernetes provider."""
    scheduler_name: str
    """A key of config/scheduler_catalog.SCHEDULERS (the pods' schedulerName)."""
    kubernetes_version: str
    """The cluster's minor version; kube-scheduler follows it (one minor older at most)."""
    depends_on: list[pulumi.Resource] = field(default_factory=list)
    """What its pods need to run: nodes that take them (Platform passes the system node group). Without it
    the Deployments start with the provider and their await counts the wait for nodes against its timeout."""


class VendorScheduler(pulumi.ComponentResource):
    """ServiceAccounts, RBAC, the KubeSchedulerConfiguration, the extension's Deployment and Service
    and the second kube-scheduler's Deployment, in kube-system. `pulumi up` waits for both
    Deployments to be ready, so pods naming the scheduler are created after it runs."""

    def __init__(self, resource_name: str, args: VendorSchedulerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("vllm-eks:index:VendorScheduler", resource_name, None, opts)
        register_in_apply_order(
            objects.scheduler_objects(args.scheduler_name, args.kubernetes_version),
            lambda obj: f"{resource_name}-{obj['metadata']['name']}-{obj['kind'].lower()}",
            frozenset({"Deployment", "Service"}),
            pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=list(args.depends_on)),
        )
        self.register_outputs({"scheduler_name": args.scheduler_name})
