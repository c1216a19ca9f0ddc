"""KEDA: the operator that turns each autoscaled model's ScaledObject into an HPA, installed from its pinned chart."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from . import _autoscaling_objects as build
from ._kubernetes import register_object
from ._labels import managed_labels


@dataclass
class KedaArgs:
    provider: k8s.Provider
    depends_on: Sequence[pulumi.Resource] = ()
    """What its pods need first (the system nodes)."""


class Keda(pulumi.ComponentResource):
    """KEDA on the system nodes; ScaledObjects depend on `chart`, which installs their CRD."""

    chart: k8s.helm.v4.Chart

    def __init__(self, resource_name: str, args: KedaArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("vllm-eks:index:Keda", resource_name, None, opts)
        chart_args = build.keda_chart_args()
        # helm.v4.Chart installs into a namespace but does not create it.
        namespace = register_object(f"{resource_name}-namespace", {
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": chart_args["namespace"], "labels": managed_labels("keda")}},
            pulumi.ResourceOptions(parent=self, provider=args.provider))
        self.chart = k8s.helm.v4.Chart(
            resource_name, chart=chart_args["chart"], version=chart_args["version"], namespace=chart_args["namespace"],
            repository_opts=k8s.helm.v4.RepositoryOptsArgs(**chart_args["repository_opts"]),
            values=build.keda_chart_values(),
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[namespace, *args.depends_on]),
        )
        self.register_outputs({})
