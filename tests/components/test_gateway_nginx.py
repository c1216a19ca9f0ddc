"""The rendered nginx.conf run by a real NGINX on loopback (skipped where no nginx binary is installed):
keys, per-team limits and the model list behave as docs/gateway.md says, before any router is involved."""

from __future__ import annotations

import json
import time

import pytest

from vllm_eks.components import _gateway_proxy as proxy
from vllm_eks.config.gateway import GatewayConfig, GatewayTeamConfig
from vllm_eks.config.model import ModelConfig

from .nginx_run import free_port, needs_nginx, request, running_gateway

pytestmark = needs_nginx
KEY = "k" * 40
GATEWAY = GatewayConfig(enabled=True, teams=[GatewayTeamConfig(name="platform", requests_per_minute=60, burst=2,
                                                               max_concurrent_requests=4)])


def _request(port: int, path: str, key: str | None = None, body: dict | None = None) -> tuple[int, bytes]:
    return request(port, path, key, body, timeout=5)[:2]


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    router_port = free_port()  # nothing listens on router_port: proxied requests get 502
    model = ModelConfig.model_validate(dict(name="alpha", accelerator="gpu", node_group="gpu", image="vllm/vllm-openai:v0.10.2",
                                            model="Qwen/Qwen3-32B-FP8", resources={"cpu": "3", "memory": "24Gi"}))
    with running_gateway(tmp_path_factory.mktemp("nginx"), GATEWAY, proxy.models_document([model]), {"platform": KEY},
                         {}, router_port) as running:
        yield running.port


def test_no_or_unknown_key_is_refused_with_401(gateway):
    assert _request(gateway, "/v1/models")[0] == 401
    assert _request(gateway, "/v1/chat/completions", "x" * 40, {"model": "alpha"})[0] == 401


def test_a_key_lists_the_stack_models_in_openai_form(gateway):
    status, body = _request(gateway, "/v1/models", KEY)
    assert status == 200 and [m["id"] for m in json.loads(body)["data"]] == ["alpha"]


def test_other_paths_and_the_router_worker_api_are_not_reachable(gateway):
    assert _request(gateway, "/workers", KEY)[0] == 404
    assert _request(gateway, "/flush_cache", KEY, {})[0] == 404


def test_a_team_over_its_burst_gets_429_and_its_requests_go_to_the_router(gateway):
    time.sleep(2)  # a fresh token after the requests above (60 per minute)
    statuses = [_request(gateway, "/v1/completions", KEY, {"model": "alpha", "prompt": "x"})[0] for _ in range(6)]
    assert statuses[0] == 502  # passed the key and the limit; no router listens in this test
    assert statuses[-1] == 429 and statuses.count(429) >= 2
