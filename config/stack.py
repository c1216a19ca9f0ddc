"""The whole stack's config as pydantic models; config/validation.py runs the rules that span its entries."""

from __future__ import annotations

from pydantic import Field, SecretStr

from ._base import ConfigModel
from .accepted_warnings import AcceptedWarning
from .gateway import ApiKeys, ExposureConfig, GatewayConfig, OpenWebUiConfig
from .model import ModelConfig
from .monitoring import MonitoringConfig as MonitoringConfig  # re-exported: components import it from here
from .platform.cluster import ClusterConfig
from .platform.efs import EfsConfig
from .platform.node_groups import NodeGroupConfig, SystemNodeGroupConfig
from .types import DnsLabel, StorageQuantity


class CacheVolumesConfig(ConfigModel):
    """The shared cache PVCs each model namespace gets (the workshop's `huggingface-cache` and `neuron-cache`)."""

    storage_class: DnsLabel = "efs"
    """StorageClass of the cache PVCs; ReadWriteMany, so every replica shares one download."""
    huggingface_size: StorageQuantity = "100Gi"
    """Size of `huggingface-cache` (about 15 GiB per 8B model at 16-bit). Nominal on EFS, which
    grows as needed; set once: a later change is not applied to an existing claim."""
    neuron_size: StorageQuantity = "100Gi"
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


class StackConfig(ConfigModel):
    """Everything one `Pulumi.<stack>.yaml` configures under the `vllm-eks:` namespace."""

    node_groups: list[NodeGroupConfig] = Field(default_factory=list)
    """Accelerator node groups, one instance type each; models name theirs with `nodeGroup`."""
    models: list[ModelConfig] = Field(default_factory=list)
    """Models to serve; each becomes a VllmModel (Deployment and Service)."""
    hf_token: SecretStr | None = None
    """Hugging Face token (`pulumi config set --secret hfToken ...`); needed by `source: hub` models."""
    cache_volumes: CacheVolumesConfig = Field(default_factory=CacheVolumesConfig)
    """The shared cache PVCs every model namespace gets."""
    network_policy: NetworkPolicyConfig = Field(default_factory=NetworkPolicyConfig)
    """The default-deny NetworkPolicy of every model namespace."""
    monitoring: MonitoringConfig = Field(default_factory=MonitoringConfig)
    """Where metrics go (`backend`: off, in-cluster, amazon-managed) and how the models are scraped."""
    grafana_admin_password: SecretStr | None = None
    """Admin password of the in-cluster Grafana (`pulumi config set --secret grafanaAdminPassword ...`);
    needed by `monitoring.backend: in-cluster` with Grafana. Never rendered: Grafana reads it from a Secret."""
    cluster: ClusterConfig = Field(default_factory=ClusterConfig)
    """The EKS cluster and its network (see docs/platform.md)."""
    system_node_group: SystemNodeGroupConfig = Field(default_factory=SystemNodeGroupConfig)
    """CPU nodes for CoreDNS, the EFS CSI controller and other add-ons (2-3 m6i.large by default)."""
    efs: EfsConfig = Field(default_factory=EfsConfig)
    """The encrypted EFS file system behind the cache StorageClass."""
    gateway: GatewayConfig = Field(default_factory=GatewayConfig)
    """One OpenAI-compatible URL for every model, with per-team keys and limits (docs/gateway.md)."""
    gateway_api_keys: ApiKeys | None = None
    """Team name -> API key, as a secret: `pulumi config set --secret gatewayApiKeys '{"team": "<key>"}'`."""
    open_webui: OpenWebUiConfig = Field(default_factory=OpenWebUiConfig)
    """Open WebUI in front of the gateway (off by default)."""
    open_webui_secrets: ApiKeys | None = None
    """Open WebUI's `adminPassword` and `secretKey` (WEBUI_SECRET_KEY), as a secret:
    `pulumi config set --secret openWebuiSecrets '{"adminPassword": "...", "secretKey": "..."}'`."""
    exposure: ExposureConfig = Field(default_factory=ExposureConfig)
    """HTTPS for the gateway and Open WebUI through an ALB (off until `domain` is set)."""
    accepted_warnings: list[AcceptedWarning] = Field(default_factory=list)
    """Warnings this stack accepts on purpose, each with its reason: printed as accepted, not counted by `--strict`; an entry no warning matches is itself a warning."""  # noqa: E501 (one line: the config reference reads it)

    def node_group(self, name: str) -> NodeGroupConfig | None:
        return next((group for group in self.node_groups if group.name == name), None)

    def namespaces(self) -> dict[str, list[ModelConfig]]:
        """Model namespaces in first-use order, each with its models."""
        grouped: dict[str, list[ModelConfig]] = {}
        for model in self.models:
            grouped.setdefault(model.namespace, []).append(model)
        return grouped
