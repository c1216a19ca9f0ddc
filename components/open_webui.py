"""OpenWebUi: the workshop's chat UI, every model of the stack through the gateway with a key of its own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
from pydantic import SecretStr

from ..config.gateway import GatewayConfig, OpenWebUiConfig
from ..config.gateway_rules import readable
from ..config.stack import StackConfig
from ..config.units import SECRET_PLACEHOLDER
from . import _open_webui_objects as objects
from ._gateway_objects import gateway_url
from ._kubernetes import metadata_name, register_object


@dataclass
class OpenWebUiArgs:
    gateway: GatewayConfig
    """The gateway it talks to (and whose namespace it runs in)."""
    webui: OpenWebUiConfig
    secrets: pulumi.Input[dict[str, str]]
    """`secretKey` (WEBUI_SECRET_KEY), `adminPassword`, and `gatewayKey` (its team's gateway key); kept a Pulumi secret."""
    depends_on: tuple[pulumi.Resource, ...] = ()
    """What must exist first: the gateway's Namespace (Gateway.namespace_resource)."""
    claim_depends_on: Sequence[pulumi.Resource] = ()
    """What its claim needs before it can bind: the StorageClass and its CSI driver (`storage_dependencies(platform)`);
    pulumi-kubernetes waits a fixed 5 minutes for a claim to bind (see ModelNamespaceArgs.claims_depend_on)."""


def open_webui_secrets(stack: StackConfig) -> pulumi.Output[dict[str, str]]:
    """Open WebUI's secret values from `openWebuiSecrets` and its team's `gatewayApiKeys` entry, as a Pulumi
    secret; a `secure:` value that cannot be read offline stands for each of them."""
    given = readable(stack.open_webui_secrets) or {}
    keys = readable(stack.gateway_api_keys) or {}

    def plain(mapping: dict[str, SecretStr], name: str) -> str:
        return mapping[name].get_secret_value() if name in mapping else SECRET_PLACEHOLDER

    return pulumi.Output.secret({
        "secretKey": plain(given, "secretKey"), "adminPassword": plain(given, "adminPassword"),
        "gatewayKey": plain(keys, stack.open_webui.team),
    })


class OpenWebUi(pulumi.ComponentResource):
    """Deployment (one pod: one SQLite writer) with its own PVC, a Secret, a Service and a NetworkPolicy."""

    url: pulumi.Output[str]
    """In-cluster URL of the UI: http://open-webui.<gateway namespace>.svc.cluster.local."""

    def __init__(self, resource_name: str, args: OpenWebUiArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("vllm-eks:index:OpenWebUi", resource_name, None, opts)
        after = pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on))
        gateway, webui = args.gateway, args.webui
        secret = register_object(f"{resource_name}-secret",
                                 objects.secret_object(gateway, pulumi.Output.secret(args.secrets)), after)
        claim = register_object(f"{resource_name}-data", objects.claim_object(gateway, webui), pulumi.ResourceOptions(
            parent=self, depends_on=[*args.depends_on, *args.claim_depends_on]))
        register_object(f"{resource_name}-deployment", objects.deployment_object(gateway, webui, gateway_url(gateway)),
                        pulumi.ResourceOptions(parent=self, depends_on=[*args.depends_on, secret, claim]))
        service = register_object(f"{resource_name}-service", objects.service_object(gateway), after)
        register_object(f"{resource_name}-network-policy", objects.network_policy_object(gateway), after)
        self.service = service
        """What a load balancer's Ingress routes to."""
        self.url = metadata_name(service).apply(lambda _: objects.open_webui_url(gateway))
        self.register_outputs({"url": self.url})
