"""Gateway: one OpenAI-compatible URL for every model of the stack (docs/gateway.md)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi

from ..config.gateway import GatewayConfig
from ..config.gateway_hold import HoldTime
from ..config.gateway_rules import readable
from ..config.model import ModelConfig
from ..config.stack import MonitoringConfig, StackConfig
from ..config.units import SECRET_PLACEHOLDER
from . import _gateway_hold as hold
from . import _gateway_objects as objects
from . import _gateway_proxy as proxy
from ._kubernetes import metadata_name, register_object


@dataclass
class GatewayArgs:
    gateway: GatewayConfig
    models: list[ModelConfig]
    """Every model of the stack: the model list and the router's discovery scope are derived from them."""
    keys: pulumi.Input[dict[str, str]]
    """Team name -> API key; always stored as a Pulumi secret, only in the keys Secret."""
    holds: Mapping[str, HoldTime] = field(default_factory=dict)
    """Served name -> how long the gateway holds its requests while it has no routable replica
    (config/gateway_hold.hold_times); a model left out is not held."""
    monitoring: MonitoringConfig = field(default_factory=MonitoringConfig)
    """With `service_monitors`, a ServiceMonitor for the router's metrics and a NetworkPolicy rule for Prometheus."""
    service_monitor_depends_on: Sequence[pulumi.Resource] = ()
    """What installs the ServiceMonitor CRD (`Platform.monitoring.ready`), so the first `pulumi up` does not fail
    with "no matches for kind"."""


def team_keys(stack: StackConfig) -> pulumi.Output[dict[str, str]]:
    """Each team's key from `gatewayApiKeys`, as a Pulumi secret. A `secure:` value that cannot be read
    offline stands for every team's key (the preview shows `[secret]` either way)."""
    keys = readable(stack.gateway_api_keys)
    plain = ({name: key.get_secret_value() for name, key in keys.items()} if keys is not None
             else {team.name: SECRET_PLACEHOLDER for team in stack.gateway.teams})
    return pulumi.Output.secret(plain)


def config_hash(gateway: GatewayConfig, keys: dict[str, str]) -> str:
    """Changes whenever a file NGINX reads only at start does: nginx.conf, the hold script or the keys it
    includes. The model list and the holds are not in it: NGINX reads models.json and holds.json on every request and the kubelet refreshes a mounted
    ConfigMap in place (kubernetes.io/docs, ConfigMaps: "Mounted ConfigMaps are updated automatically"),
    so adding a model changes the ConfigMap alone and restarts no gateway pod."""
    text = proxy.nginx_conf(gateway) + hold.SCRIPT + proxy.keys_file(keys)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Gateway(pulumi.ComponentResource):
    """NGINX (keys, per-team limits, model list) and vLLM's router (routing by model, prefix-aware
    replica choice, pod discovery, retries, metrics) in one Deployment, behind one Service."""

    url: pulumi.Output[str]
    """In-cluster base URL for OpenAI clients: http://vllm-gateway.<namespace>.svc.cluster.local/v1."""
    namespace: pulumi.Output[str]
    """The gateway's namespace, once it exists (model NetworkPolicies admit it)."""
    service_name: str
    """The gateway Service's name (for port-forwarding and the load balancer)."""

    def __init__(self, resource_name: str, args: GatewayArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("vllm-eks:index:Gateway", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        gateway, models = args.gateway, args.models
        namespace = register_object(f"{resource_name}-namespace", objects.namespace_object(gateway), child)
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[namespace])

        account = register_object(f"{resource_name}-service-account", objects.service_account_object(gateway), in_namespace)
        rbac = [register_object(f"{resource_name}-{obj['kind'].lower()}", obj, in_namespace)
                for obj in objects.discovery_rbac_objects(gateway, models)]
        config = register_object(f"{resource_name}-config", objects.config_map_object(gateway, models, args.holds), in_namespace)
        keys = pulumi.Output.secret(args.keys)
        keys_secret = register_object(
            f"{resource_name}-keys", objects.keys_secret_object(gateway, keys.apply(proxy.keys_file)), in_namespace)
        # A hash of the keys rolls the pods when a key changes; it is marked secret like the keys.
        digest: pulumi.Output[str] = pulumi.Output.secret(keys.apply(lambda plain: config_hash(gateway, plain)))
        body = objects.deployment_object(gateway, models, "")
        body["spec"]["template"]["metadata"]["annotations"]["vllm-eks/config-hash"] = digest
        deployment = register_object(f"{resource_name}-deployment", body, pulumi.ResourceOptions(
            parent=self, depends_on=[namespace, account, *rbac, config, keys_secret]))
        service = register_object(f"{resource_name}-service", objects.service_object(gateway), in_namespace)
        register_object(f"{resource_name}-network-policy", objects.network_policy_object(gateway, args.monitoring), in_namespace)
        budget = objects.disruption_budget_object(gateway)
        if budget is not None:
            register_object(f"{resource_name}-disruption-budget", budget, in_namespace)
        if args.monitoring.service_monitors:
            register_object(f"{resource_name}-service-monitor", objects.service_monitor_object(gateway, args.monitoring),
                            pulumi.ResourceOptions(parent=self, depends_on=[service, *args.service_monitor_depends_on]))
        self.deployment = deployment
        self.namespace_resource = namespace
        """What Open WebUI, in the same namespace, waits for (not the whole component, whose RBAC children
        change with the discovery scope)."""
        self.service = service
        """What a load balancer's Ingress routes to."""
        self.service_name = objects.NAME
        self.namespace = metadata_name(namespace)
        self.url = metadata_name(service).apply(lambda _: objects.gateway_url(gateway))
        self.register_outputs({"url": self.url, "namespace": self.namespace})
