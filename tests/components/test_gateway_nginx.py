"""The rendered nginx.conf run by a real NGINX on loopback (skipped where no nginx binary is installed):
keys, per-team limits and the model list behave as docs/gateway.md says, before any router is involved."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from vllm_eks.components import _gateway_proxy as proxy
from vllm_eks.config.gateway import GatewayConfig, GatewayTeamConfig
from vllm_eks.config.model import ModelConfig

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
pytestmark = pytest.mark.skipif(NGINX is None, reason="no nginx binary (apt-get install nginx-light)")
KEY = "k" * 40
GATEWAY = GatewayConfig(enabled=True, teams=[GatewayTeamConfig(name="platform", requests_per_minute=60, burst=2,
                                                               max_concurrent_requests=4)])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _request(port: int, path: str, key: str | None = None, body: dict | None = None) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})}
    data = json.dumps(body).encode() if body is not None else None
    try:
        with urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}{path}", data, headers), timeout=5) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    root = tmp_path_factory.mktemp("nginx")
    for name in ("config", "keys", "run"):
        (root / name).mkdir()
    port, router_port = _free_port(), _free_port()  # nothing listens on router_port: proxied requests get 502
    model = ModelConfig.model_validate(dict(name="alpha", accelerator="gpu", node_group="gpu", image="vllm/vllm-openai:v0.10.2",
                                            model="Qwen/Qwen3-32B-FP8", resources={"cpu": "3", "memory": "24Gi"}))
    conf = proxy.nginx_conf(GATEWAY, keys_dir=str(root / "keys"), config_dir=str(root / "config"), runtime_dir=str(root / "run"),
                            listen=f"127.0.0.1:{port}", router_port=router_port)
    (root / "config" / "nginx.conf").write_text(conf)
    (root / "config" / proxy.MODELS_FILE).write_text(proxy.models_document([model]))
    (root / "keys" / proxy.KEYS_FILE).write_text(proxy.keys_file({"platform": KEY}))
    # As root, NGINX's workers would switch to `nobody`, who cannot read pytest's private temp folder; the pod
    # runs it as one non-root user throughout.
    directives = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")
    server = subprocess.Popen([NGINX, "-e", "stderr", "-c", str(root / "config" / "nginx.conf"), "-g", directives],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if _request(port, proxy.HEALTH_PATH)[0] == 200:
                break
        except OSError:
            time.sleep(0.1)
    assert server.poll() is None, server.stderr.read().decode()
    yield port
    server.terminate()
    server.wait(timeout=10)


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
