"""The front door's config: the gateway (keys, limits, routing), Open WebUI, and their exposure.

Why this gateway and how a request finds a replica: docs/gateway.md. Keys and Open WebUI's
credentials are Pulumi secrets in their own top-level keys (`gatewayApiKeys`, `openWebuiSecrets`),
so the blocks here hold nothing secret and can be printed, diffed and documented.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from ._base import ConfigModel
from .types import DnsLabel, ImageReference, StorageQuantity

ROUTER_IMAGE = "docker.io/vllm/vllm-router:v0.1.17"
"""vLLM's router, the release whose wheel (PyPI vllm-router 0.1.17) docs/gateway.md measured. The
release images are `vllm/vllm-router:v<version>` (vllm-project/router
.buildkite/scripts/publish-release-images.sh: PRIMARY_TAGS latest and v${RELEASE_VERSION})."""

PROXY_IMAGE = "public.ecr.aws/nginx/nginx-unprivileged:1.28.0"
"""NGINX, unprivileged build (uid 101, pid and temp paths under /tmp): nginxinc/docker-nginx-unprivileged
README, published to the ECR Public gallery as nginx/nginx-unprivileged."""

OPEN_WEBUI_IMAGE = "ghcr.io/open-webui/open-webui:v0.12.4"
"""Open WebUI, the release the end-to-end stage runs from PyPI (open-webui 0.12.4)."""

OPENAI_CLIENT_TIMEOUT_SECONDS = 600
"""The OpenAI Python client's default timeout, its whole-request read included (openai 2.29.0
openai/_constants.py `DEFAULT_TIMEOUT = httpx.Timeout(timeout=600, connect=5.0)`): a request held longer
than this has usually been given up on by its client, so holding longer only ties up the gateway."""


def holds_requests_from_zero(gateway: GatewayConfig) -> bool:
    """Whether the gateway holds a request while its model has no routable replica (and so whether a model behind
    it may scale to zero): the gateway is on and `maxHoldSeconds` is not 0. The hold is NGINX's
    (components/_gateway_hold.py), since vllm-router 0.1.17 in IGW mode sends such a request to another model's
    worker, which answers 404 (measured, docs/gateway.md)."""
    return gateway.enabled and gateway.max_hold_seconds > 0


RouterPolicy = Literal["cache_aware", "power_of_two", "round_robin", "consistent_hash"]


class GatewayTeamConfig(ConfigModel):
    """One team: one API key (in `gatewayApiKeys`) and its limits, enforced per gateway replica."""

    name: DnsLabel
    """Team name; its key is `gatewayApiKeys.<name>`, and the gateway's logs and metrics name it."""
    requests_per_minute: int = Field(60, ge=1, le=600_000)
    """Sustained request rate per gateway replica; more is answered 429 (NGINX limit_req)."""
    burst: int = Field(20, ge=0, le=100_000)
    """Requests allowed above the rate at once before 429s start (limit_req `burst`, `nodelay`)."""
    max_concurrent_requests: int = Field(16, ge=1, le=100_000)
    """Requests of this team in flight at once per gateway replica (streams included); more is 429 (limit_conn)."""


class GatewayConfig(ConfigModel):
    """One OpenAI-compatible URL for every model: per-team keys and limits in front of vLLM's router."""

    enabled: bool = False
    """Create the gateway (namespace, Deployment, Service, RBAC for pod discovery, keys Secret)."""
    namespace: DnsLabel = "vllm-gateway"
    """Namespace of the gateway (and Open WebUI); every model namespace's NetworkPolicy admits it."""
    replicas: int = Field(2, ge=1, le=20)
    """Gateway pods. Team limits and the router's prefix trees are per pod (docs/gateway.md)."""
    policy: RouterPolicy = "cache_aware"
    """How the router picks one of a model's replicas: `cache_aware` sends a prompt to the replica whose
    prefix tree matches it best unless load is imbalanced (vllm-router --policy)."""
    max_concurrent_requests: int = Field(512, ge=1, le=1_000_000)
    """Requests the router runs at once over all models (--max-concurrent-requests); beyond it requests wait
    in the router's queue, 100 deep for up to 60 s, then 429/408. The queue's size and timeout are not
    set: the router image's command line (src/main.rs) fixes them at 100 and 60 s and has no flag for them."""
    request_timeout_seconds: int = Field(1800, ge=10, le=86_400)
    """Longest request, streams included (--request-timeout-secs and NGINX's proxy_read_timeout)."""
    retries: int = Field(3, ge=1, le=10)
    """Attempts per request on a worker error, each on a replica the router still considers healthy
    (--retry-max-retries; 1 disables retries)."""
    health_check_interval_seconds: int = Field(10, ge=1, le=600)
    """How often the router checks each replica's /health (--health-check-interval-secs)."""
    max_hold_seconds: int = Field(OPENAI_CLIENT_TIMEOUT_SECONDS, ge=0, le=3600)
    """Longest a completion request is held while its model has no routable replica (scaled to zero, or its replica
    still starting); each model is held for its predicted time to a routed replica up to this, then answered 503
    with Retry-After. Default: the OpenAI Python client's timeout. 0 holds nothing (and refuses minReplicas 0)."""
    max_request_body_mib: int = Field(4, ge=1, le=64)
    """Largest request body in MiB (NGINX client_max_body_size; larger is 413). The hold reads every completion body
    into memory, so the proxy container's memory limit grows with this times the teams' maxConcurrentRequests
    (components/_gateway_proxy.proxy_memory_limit_mib). 4 MiB holds a 128k-token prompt several times over."""
    teams: list[GatewayTeamConfig] = Field(default_factory=list)
    """Teams with a key each; a request without a listed key is answered 401."""
    router_image: ImageReference = ROUTER_IMAGE
    """vLLM router image (routing, discovery, retries, metrics)."""
    proxy_image: ImageReference = PROXY_IMAGE
    """NGINX image (keys, per-team limits, the model list)."""


class OpenWebUiConfig(ConfigModel):
    """Open WebUI in the gateway's namespace, talking to the gateway with a team key of its own."""

    enabled: bool = False
    """Create Open WebUI (Deployment, PVC, Secret, Service); needs `gateway.enabled`."""
    team: DnsLabel = "open-webui"
    """The `gateway.teams` entry whose key and limits Open WebUI uses."""
    admin_email: str = Field("admin@example.com", pattern=r"^[^@\s]+@[^@\s]+$")
    """The admin account created on first start; its password is `openWebuiSecrets.adminPassword`."""
    enable_signup: bool = False
    """Let visitors create accounts; off, only the admin (and users the admin adds) sign in."""
    storage_class: DnsLabel = "efs"
    """StorageClass of Open WebUI's own PVC (its SQLite database and uploads)."""
    storage_size: StorageQuantity = "10Gi"
    """Size of that PVC."""
    image: ImageReference = OPEN_WEBUI_IMAGE
    """Open WebUI image."""
    builtin_tools: bool = False
    """Let Open WebUI attach its built-in tools (time, knowledge, chats, notes, tasks, automations, calendar: 28
    function schemas in 0.12.4, about 5.4k prompt tokens with Qwen3's chat template) to every chat. Needs every model
    to have `toolCallParser`: vLLM refuses a request with tools from a server started without it (400)."""


class ExposureConfig(ConfigModel):
    """HTTPS through an AWS Application Load Balancer; off (no `domain`) the URLs stay in-cluster."""

    domain: str | None = Field(None, pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,63}$")
    """DNS domain the hosts below live in; setting it creates the load balancer objects."""
    gateway_host: DnsLabel = "api"
    """The gateway's host name: https://<gatewayHost>.<domain>."""
    open_webui_host: DnsLabel = "openwebui"
    """Open WebUI's host name: https://<openWebuiHost>.<domain>."""
    scheme: Literal["internal", "internet-facing"] = "internal"
    """ALB scheme: reachable from the VPC only, or from the internet (then `allowedCidrs` is required)."""
    allowed_cidrs: list[str] = Field(default_factory=list)
    """Source CIDRs the load balancer admits (alb.ingress.kubernetes.io/inbound-cidrs)."""
    certificate_arn: str | None = Field(None, pattern=r"^arn:aws[-a-z]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[-0-9a-f]+$")
    """An existing ACM certificate covering both hosts; or leave it out and give `hostedZoneId`."""
    hosted_zone_id: str | None = Field(None, pattern=r"^Z[A-Z0-9]{1,31}$")
    """Route 53 public zone of `domain`: an ACM certificate is created and validated through DNS there."""
    external_dns: bool = False
    """Install ExternalDNS to publish the hosts' records in `hostedZoneId`."""
    load_balancer_controller_policy_arn: str | None = Field(None, pattern=r"^arn:aws[-a-z]*:iam::[0-9]{12}:policy/[\w+=,.@/-]+$")
    """The IAM policy the AWS Load Balancer Controller's role is given; required with `domain`. Create it once per
    account from the policy the controller publishes for its release (docs/gateway.md, "Exposure")."""


ApiKeys = dict[str, SecretStr] | SecretStr
"""`gatewayApiKeys`: team name -> key, or the placeholder of a `secure:` value that cannot be read offline."""
