"""The vLLM router's command line, a pure function of the stack: what routes a request to a replica.

Two command lines parse it: the wheel's Python launcher (PyPI vllm-router 0.1.17,
vllm_router/router_args.py RouterArgs.add_cli_args), which the end-to-end stage runs, and the
image's Rust binary (vllm-project/router src/main.rs CliArgs, Dockerfile.router), which the cluster
runs. Only flags both accept are used: the Rust CLI has no --queue-size/--queue-timeout-secs (it
fixes 100 and 60 s, the wheel's defaults too) and no kv_aware policy. What each flag does is
measured or cited in docs/gateway.md.
"""

from __future__ import annotations

from ..config.gateway import GatewayConfig
from ..config.model import ModelConfig
from ._labels import recommended_labels

ROUTER_COMMAND = ["vllm-router"]
"""The wheel's console script (entry_points.txt: vllm-router = vllm_router.launch_router:main)."""
ROUTER_HOST = "127.0.0.1"
"""The router answers on loopback only: its worker API (POST /workers, DELETE /workers/{url},
/flush_cache) has no authentication in 0.1.17 (measured, docs/gateway.md), so only the NGINX
container of the same pod reaches it, and NGINX passes on inference paths alone."""
ROUTER_PORT = 30000
METRICS_PORT = 29000
"""vllm-router's default --prometheus-port; bound to all interfaces so Prometheus can scrape it."""
HEALTH_PATH = "/health"
"""What the router polls on every replica: vLLM's own health endpoint."""


def model_pod_selector() -> dict[str, str]:
    """Labels every model server pod carries and nothing else does (components/_deployment_objects.model_labels);
    a compile Job's pods carry another component, so the router never sends them traffic."""
    labels = recommended_labels("any", "model-server")
    return {key: labels[key] for key in ("app.kubernetes.io/component", "app.kubernetes.io/part-of")}


def discovery_namespace(models: list[ModelConfig]) -> str | None:
    """The one namespace to watch when every model shares it (a namespaced Role suffices), else None
    (all namespaces: the router's watch is cluster-wide and needs a ClusterRole)."""
    namespaces = {model.namespace for model in models}
    return next(iter(namespaces)) if len(namespaces) == 1 else None


def router_args(gateway: GatewayConfig, models: list[ModelConfig], port: int = ROUTER_PORT) -> list[str]:
    selector = [f"{key}={value}" for key, value in model_pod_selector().items()]
    args = [
        "--host", ROUTER_HOST, "--port", str(port),
        # IGW: one router for several models; each discovered worker's model id is read from its
        # /v1/models and requests go to the workers of the request's `model`.
        "--enable-igw",
        "--policy", gateway.policy,
        "--service-discovery", "--selector", *selector,
        # Every model serves on one port (config/gateway_rules.py enforces it).
        "--service-discovery-port", str(models[0].port if models else 8000),
    ]
    namespace = discovery_namespace(models)
    if namespace is not None:
        args += ["--service-discovery-namespace", namespace]
    args += [
        "--max-concurrent-requests", str(gateway.max_concurrent_requests),
        "--request-timeout-secs", str(gateway.request_timeout_seconds),
        "--retry-max-retries", str(gateway.retries),
        "--health-check-endpoint", HEALTH_PATH,
        "--health-check-interval-secs", str(gateway.health_check_interval_seconds),
        "--prometheus-host", "0.0.0.0", "--prometheus-port", str(METRICS_PORT),
        "--log-level", "info",
    ]
    return args
