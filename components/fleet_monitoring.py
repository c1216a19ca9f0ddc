"""FleetMonitoring: what spans every model: the fleet dashboard and the accelerators' hardware alerts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from ..config.model import ModelConfig
from ..config.stack import MonitoringConfig
from . import _alert_rules as alert_rules
from . import _dashboards as dashboards
from ._kubernetes import metadata_name, register_object


@dataclass
class FleetMonitoringArgs:
    models: Sequence[ModelConfig]
    """Every model of the stack: the fleet dashboard shows each, and the hardware alerts cover their accelerators."""
    monitoring: MonitoringConfig
    """Where Prometheus runs (`prometheus_namespace`): the dashboard ConfigMap and the rules go there."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What must exist first: the monitoring namespace and the Prometheus Operator's CRDs."""


class FleetMonitoring(pulumi.ComponentResource):
    """The `vllm-fleet-dashboard` ConfigMap (Grafana sidecar) and the `vllm-fleet-hardware-alerts` PrometheusRule
    (GPU XID errors where GPU models run, Neuron hardware errors where Neuron models run)."""

    dashboard_name: pulumi.Output[str]
    """Name of the fleet dashboard's ConfigMap."""
    rule_name: pulumi.Output[str] | None
    """Name of the hardware PrometheusRule, or None when no model runs on an accelerator it covers."""

    def __init__(self, resource_name: str, args: FleetMonitoringArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("vllm-eks:index:FleetMonitoring", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on))
        namespace = args.monitoring.prometheus_namespace
        dashboard = register_object(f"{resource_name}-dashboard",
                                    dashboards.fleet_dashboard_object(args.models, namespace), child)
        # Which hardware exporters' metrics exist follows from the accelerators the models run on.
        rule_object = alert_rules.fleet_rule_object(namespace, {m.accelerator for m in args.models})
        self.dashboard_name = metadata_name(dashboard)
        self.rule_name = None
        if rule_object is not None:
            rule = register_object(f"{resource_name}-hardware-alerts", rule_object, child)
            self.rule_name = metadata_name(rule)
        self.register_outputs({"dashboard_name": self.dashboard_name, "rule_name": self.rule_name})
