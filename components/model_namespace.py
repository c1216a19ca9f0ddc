"""ModelNamespace: what every model in one namespace shares (namespace, caches, token, policy)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from ..config.stack import CacheVolumesConfig, MonitoringConfig, NetworkPolicyConfig
from . import _namespace_objects as objects
from . import _scrape_objects as scrape
from ._kubernetes import metadata_name, register_object


@dataclass
class ModelNamespaceArgs:
    name: str
    """Kubernetes namespace name."""
    neuron_cache: bool = False
    """Create the `neuron-cache` PVC (any Neuron model in the namespace)."""
    hf_token: pulumi.Input[str] | None = None
    """Hugging Face token; stored as the `hf-token` Secret, and always treated as a Pulumi secret."""
    cache_volumes: CacheVolumesConfig = field(default_factory=CacheVolumesConfig)
    network_policy: NetworkPolicyConfig = field(default_factory=NetworkPolicyConfig)
    monitoring: MonitoringConfig = field(default_factory=MonitoringConfig)
    """With `service_monitors`, the namespace gets the `vllm-monitor` ServiceMonitor (every vLLM Service in it)
    and every model's NetworkPolicy admits Prometheus's server pods (and no other pod of its namespace)."""
    gateway_namespace: str | None = None
    """The gateway's namespace, when there is one: every model's NetworkPolicy admits it."""
    service_monitor_depends_on: Sequence[pulumi.Resource] = ()
    """What installs the ServiceMonitor CRD (`Platform.monitoring.ready`: the kube-prometheus-stack chart), so
    the first `pulumi up` does not fail with "no matches for kind"."""
    claims_depend_on: Sequence[pulumi.Resource] = ()
    """What a cache claim needs before it can bind: the StorageClass and its CSI driver
    (`storage_dependencies(platform)`). pulumi-kubernetes waits a fixed 5 minutes for a claim to
    bind, whatever customTimeouts say (v4.32.0 provider/pkg/await/awaiters.go
    untilCoreV1PersistentVolumeClaimReady), so a claim created while the class or its driver is
    still minutes away fails the apply."""


class ModelNamespace(pulumi.ComponentResource):
    """Namespace with the shared `huggingface-cache` (and `neuron-cache`) PVCs and `hf-token` Secret.

    Caches are retained on delete by default: deleting a namespace deletes its PVCs, so the
    namespace is retained with them.
    """

    namespace: pulumi.Output[str]
    """The Namespace's name, once it exists; models in it depend on this."""
    huggingface_cache_claim: pulumi.Output[str]
    """Name of the shared `huggingface-cache` claim (ReadWriteMany)."""
    hf_token_secret_name: pulumi.Output[str] | None
    """Name of the `hf-token` Secret, or None when no token was given."""

    def __init__(self, resource_name: str, args: ModelNamespaceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("vllm-eks:index:ModelNamespace", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        kept = pulumi.ResourceOptions(parent=self, retain_on_delete=args.cache_volumes.retain_on_delete)

        namespace = register_object(f"{resource_name}-namespace", objects.namespace_object(args.name), kept)
        # EFS is elastic and its CSI driver cannot expand claims, so a claim's size is nominal;
        # a later size change would be rejected by the API server, so it is not applied.
        after_namespace = pulumi.ResourceOptions.merge(
            kept, pulumi.ResourceOptions(
                depends_on=[namespace, *args.claims_depend_on], ignore_changes=["spec.resources.requests.storage"],
            ),
        )
        claims = [
            register_object(f"{resource_name}-{claim['metadata']['name']}", claim, after_namespace)
            for claim in objects.cache_claim_objects(args.name, args.cache_volumes, args.neuron_cache)
        ]
        self.namespace = metadata_name(namespace)
        self.huggingface_cache_claim = metadata_name(claims[0])
        self.cache_claims = claims
        after_namespace_child = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[namespace]))
        self.hf_token_secret = None
        self.hf_token_secret_name = None
        if args.hf_token is not None:
            secret_object = objects.hf_token_secret_object(args.name, pulumi.Output.secret(args.hf_token))
            self.hf_token_secret = register_object(f"{resource_name}-hf-token", secret_object, after_namespace_child)
            self.hf_token_secret_name = metadata_name(self.hf_token_secret)
        self.network_policy = None
        self.allowed_callers: list[str] | None = None
        """Namespaces each model's NetworkPolicy admits besides this one; None when policies are off."""
        self.allowed_peers: list[dict[str, Any]] = []
        """Further NetworkPolicy peers each model admits: Prometheus's server pods while scraping is on."""
        self.service_monitor = None
        if args.monitoring.service_monitors:
            self.service_monitor = register_object(
                f"{resource_name}-service-monitor", scrape.service_monitor_object(args.name, args.monitoring),
                pulumi.ResourceOptions.merge(after_namespace_child,
                                             pulumi.ResourceOptions(depends_on=list(args.service_monitor_depends_on))))
            self.allowed_peers = [scrape.scraper_peer(args.monitoring)]
        if args.network_policy.enabled:
            callers = list(args.network_policy.allowed_namespaces)
            if args.gateway_namespace is not None and args.gateway_namespace not in callers:
                callers.append(args.gateway_namespace)
            self.allowed_callers = callers
            policy = objects.network_policy_object(args.name)
            self.network_policy = register_object(f"{resource_name}-network-policy", policy, after_namespace_child)
        self.namespace_resource = namespace
        self.register_outputs({
            "namespace": self.namespace,
            "huggingface_cache_claim": self.huggingface_cache_claim,
            "hf_token_secret_name": self.hf_token_secret_name,
        })

