"""VllmModel: one model's Deployment and Service, on the namespace it shares with others."""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field

import pulumi

from ..config.autoscaling import prometheus_query_url, queue_target
from ..config.errors import ConfigError, ConfigIssue
from ..config.model import ModelConfig
from ..config.placement.records import PlacedModel
from ..config.platform.node_groups import NodeGroupConfig
from ..config.scale_out import scale_out, windows
from ..config.scale_to_zero import wake_signals
from ..config.stack import CacheVolumesConfig, MonitoringConfig, NetworkPolicyConfig
from ..config.validation import check_model
from . import _alert_rules as alert_rules
from . import _autoscaling_objects as autoscaling
from . import _compile_job_objects as compile_job
from . import _dashboards as dashboards
from . import _deployment_objects as objects
from ._kubernetes import metadata_name, register_object
from .model_namespace import ModelNamespace, ModelNamespaceArgs


@dataclass
class VllmModelArgs:
    model: ModelConfig
    """Validated model config (build one with `ModelConfig(...)` or load a stack file)."""
    node_group: NodeGroupConfig
    """The node group the model runs on; decides the node selector and, with the model, tolerations."""
    namespace: ModelNamespace | None = None
    """Shared namespace resources; when omitted the model creates its own ModelNamespace."""
    hf_token: pulumi.Input[str] | None = None
    """Token for a namespace the model creates itself; ignored when `namespace` is given."""
    cache_volumes: CacheVolumesConfig = field(default_factory=CacheVolumesConfig)
    network_policy: NetworkPolicyConfig = field(default_factory=NetworkPolicyConfig)
    monitoring: MonitoringConfig = field(default_factory=MonitoringConfig)
    """With `service_monitors`, the model's namespace scrapes it (a namespace the model creates gets the ServiceMonitor),
    and the model gets its Grafana dashboard (a sidecar ConfigMap) and its PrometheusRule alerts."""
    node_selector: dict[str, str] | None = None
    """Replaces the node selector derived from `node_group` (which selects this project's node
    labels), for a cluster whose accelerator nodes carry other labels."""
    depends_on: Sequence[pulumi.Resource] = ()
    """Platform pieces the pods need before they can schedule (storage class, device plugin, node group)."""
    scheduler_name: str | None = objects.DERIVED
    """The pods' schedulerName. By default the vendor scheduler multi-core Neuron pods need
    (`my-scheduler`, which the Platform deploys: config/scheduler_catalog.py); on another cluster,
    the name its Neuron scheduler extension runs under, or None for the default scheduler."""
    placement: PlacedModel | None = None
    """This model's record from stack validation (`ValidatedStack.placement(model)`), whose rules
    already ran; when omitted the component checks the model against `node_group` itself."""
    autoscaler: Sequence[pulumi.Resource] = ()
    """What installs the ScaledObject CRD (the Platform's `keda.chart`), for a model with `autoscaling`."""
    prometheus_url: str | None = None
    """Where KEDA queries the model's queue; by default the Prometheus Operator's `prometheus-operated` Service in
    `monitoring.prometheus_namespace`."""


# Namespaces that VllmModels without a shared ModelNamespace created for themselves in this program,
# by cluster provider. A second one would register the same Namespace, Secret, claims and
# NetworkPolicy again, which the API server refuses only at `pulumi up`. A ContextVar, so each
# program run (one per process under the CLI; one per Context in the offline engine) starts empty.
# Values hold the provider too, so its id cannot be reused by another object while the key is in use.
_OWN_NAMESPACES: ContextVar[dict[tuple[str, int], tuple[str, object]] | None] = ContextVar("vllm_eks_own_namespaces", default=None)


def _claim_own_namespace(resource_name: str, namespace: str, opts: pulumi.ResourceOptions | None) -> None:
    claimed = _OWN_NAMESPACES.get()
    if claimed is None:
        claimed = {}
        _OWN_NAMESPACES.set(claimed)
    provider = opts.provider if opts is not None else None
    key = (namespace, id(provider) if provider is not None else 0)
    if key in claimed:
        raise ConfigError([ConfigIssue("model.namespace", (
            f"VllmModel {claimed[key][0]!r} already creates namespace {namespace!r} (its Namespace, hf-token Secret, "
            f"cache claims and NetworkPolicy) on this cluster, so a second one would collide at `pulumi up`; "
            f"create one ModelNamespace(\"{namespace}\", ModelNamespaceArgs(name=\"{namespace}\", ...)) and pass it "
            f"to both as VllmModelArgs(namespace=...), or give this model another namespace"))],
            source=f"VllmModel {resource_name!r}")
    claimed[key] = (resource_name, provider)


class VllmModel(pulumi.ComponentResource):
    """A vLLM server: Deployment, ClusterIP Service and the NetworkPolicy opening its port, plus its namespace when not shared.

    Pass the cluster's Kubernetes provider in `opts` (`provider=` or `providers=`); every
    child inherits it.
    """

    namespace: pulumi.Output[str]
    """The namespace the model's objects live in (its own ModelNamespace's, or the shared one's)."""
    deployment_name: pulumi.Output[str]
    """Name of the vLLM Deployment (the model's `name`)."""
    service_name: pulumi.Output[str]
    """Name of the ClusterIP Service in front of the pods (the model's `name`)."""
    endpoint: pulumi.Output[str]
    """In-cluster base URL of the OpenAI-compatible API, `http://<service>.<namespace>.svc.cluster.local:<port>`."""

    def __init__(self, resource_name: str, args: VllmModelArgs, opts: pulumi.ResourceOptions | None = None):
        # The same sizing and placement checks a stack file gets, before anything registers.
        placement = args.placement
        if placement is None:
            # Library mode: the same checks and warnings a stack file gets (the preview prints the warnings,
            # and --strict fails on them); a stack's models were checked, and warned about, once already.
            checked = check_model(args.model, args.node_group, source=f"VllmModel {resource_name!r}")
            for warning in checked.warnings:
                pulumi.log.warn(warning)
            placement = checked.placed
        elif placement.model is not args.model or placement.group is not args.node_group:
            raise ValueError(f"VllmModel {resource_name!r}: placement is the record of another model or node group; "
                             f"pass ValidatedStack.placement(model) for this model, or omit it")
        if args.namespace is None:
            _claim_own_namespace(resource_name, args.model.namespace, opts)
        super().__init__("vllm-eks:index:VllmModel", resource_name, None, opts)
        model = args.model
        shared = args.namespace or ModelNamespace(
            f"{resource_name}-ns",
            ModelNamespaceArgs(
                name=model.namespace,
                neuron_cache=model.has_compile_cache,
                hf_token=args.hf_token,
                cache_volumes=args.cache_volumes,
                network_policy=args.network_policy,
                monitoring=args.monitoring,
                # The storage class (and whatever else the pods need) comes first, so the claims bind at once.
                claims_depend_on=args.depends_on,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        needs = [shared, *args.depends_on]
        if compile_job.needs_compile_job(model):
            # Replicas would all compile into one directory at once: compile once, first
            # (components/_compile_job_objects.py). `pulumi up` waits for the Job to complete.
            compile_timeout = f"{compile_job.compile_timeout_minutes(model)}m"
            self.compile_job = register_object(
                f"{resource_name}-compile",
                compile_job.compile_job_object(model, args.node_group, selector=args.node_selector,
                                               scheduler=args.scheduler_name),
                pulumi.ResourceOptions(
                    parent=self, depends_on=needs,
                    custom_timeouts=pulumi.CustomTimeouts(create=compile_timeout, update=compile_timeout),
                ),
            )
            needs = [*needs, self.compile_job]
        timeout = f"{objects.await_timeout_minutes(model)}m"
        deployment = register_object(
            f"{resource_name}-deployment",
            objects.deployment_object(model, args.node_group, skip_await=not model.wait_for_ready, selector=args.node_selector,
                                     scheduler=args.scheduler_name),
            pulumi.ResourceOptions(
                parent=self, depends_on=needs,
                custom_timeouts=pulumi.CustomTimeouts(create=timeout, update=timeout),
            ),
        )
        service = register_object(
            f"{resource_name}-service", objects.service_object(model),
            pulumi.ResourceOptions(parent=self, depends_on=[shared]),
        )
        if shared.allowed_callers is not None:
            register_object(
                f"{resource_name}-network-policy",
                objects.model_network_policy_object(model, shared.allowed_callers, shared.allowed_peers),
                pulumi.ResourceOptions(parent=self, depends_on=[shared]),
            )
        self.dashboard: pulumi.CustomResource | None = None
        self.alert_rules: pulumi.CustomResource | None = None
        if args.monitoring.service_monitors:
            # The namespace's ServiceMonitor scrapes this model; its dashboard and alerts use the metric
            # names its vLLM version exports (config/monitoring_series.py).
            after_shared = pulumi.ResourceOptions(parent=self, depends_on=[shared])
            self.dashboard = register_object(f"{resource_name}-dashboard", dashboards.model_dashboard_object(model), after_shared)
            self.alert_rules = register_object(f"{resource_name}-alerts", alert_rules.model_rule_object(model), after_shared)
        budget = objects.disruption_budget_object(model)
        if budget is not None:
            register_object(f"{resource_name}-disruption-budget", budget, pulumi.ResourceOptions(parent=self, depends_on=[shared]))
        if model.autoscaling is not None:
            outlook = scale_out(model, args.node_group, args.monitoring.scrape_interval_seconds)
            url = args.prometheus_url or prometheus_query_url(args.monitoring.prometheus_namespace)
            register_object(
                f"{resource_name}-scaled-object",
                autoscaling.scaled_object(model, queue_target(placement), windows(outlook), url,
                                          wake_signals(placement, outlook)),
                pulumi.ResourceOptions(parent=self, depends_on=[deployment, *args.autoscaler]),
            )
        self.namespace = shared.namespace
        self.deployment_name = metadata_name(deployment)
        self.service_name = metadata_name(service)
        self.endpoint = pulumi.Output.all(self.service_name, self.namespace).apply(
            lambda parts: f"http://{parts[0]}.{parts[1]}.svc.cluster.local:{model.port}"
        )
        self.register_outputs({
            "namespace": self.namespace,
            "deployment_name": self.deployment_name,
            "service_name": self.service_name,
            "endpoint": self.endpoint,
        })
