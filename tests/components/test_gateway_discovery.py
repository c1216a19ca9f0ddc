"""The router's pod discovery in IGW mode, with the rendered flags, against a stand-in Kubernetes API on loopback:
model-server pods become workers under their own model ids, a compile pod never does, each model gets its own
answers. Runs the vllm-router wheel's binary when one is installed (VLLM_ROUTER, .venv-gateway from
scripts/setup-gateway-e2e, or PATH); skipped otherwise."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PROJECT_DIR
from vllm_eks.components._gateway_router import model_pod_selector, router_args
from vllm_eks.config.gateway import GatewayConfig
from vllm_eks.config.model import ModelConfig


def _router() -> str | None:
    for candidate in (os.environ.get("VLLM_ROUTER"), str(PROJECT_DIR / ".venv-gateway" / "bin" / "vllm-router"),
                      shutil.which("vllm-router")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


ROUTER = _router()
pytestmark = pytest.mark.skipif(ROUTER is None, reason="no vllm-router binary (scripts/setup-gateway-e2e installs one)")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(host: str, port: int, handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _worker(model: str) -> type[BaseHTTPRequestHandler]:
    class Worker(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _json(self, value: Any) -> None:
            body = json.dumps(value).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            self._json({"object": "list", "data": [{"id": model, "object": "model"}]} if self.path.startswith("/v1/models") else {})

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self._json({"object": "chat.completion", "model": model,
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": f"from {model}"}, "finish_reason": "stop"}]})
    return Worker


def _pod(name: str, ip: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "vllm", "uid": name, "resourceVersion": "1", "labels": labels},
            "status": {"phase": "Running", "podIP": ip, "conditions": [{"type": "Ready", "status": "True"}]}}


def _api(pods: list[dict[str, Any]]) -> type[BaseHTTPRequestHandler]:
    class Api(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            if "watch=" in self.path:  # hold the watch open: no events
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                time.sleep(30)
                return
            body = json.dumps({"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": pods}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
    return Api


@pytest.fixture(scope="module")
def router(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    work = tmp_path_factory.mktemp("discovery")
    worker_port, api_port, port, metrics = _free_port(), _free_port(), _free_port(), _free_port()
    servers = [_serve("127.0.0.1", worker_port, _worker("alpha")), _serve("127.0.0.2", worker_port, _worker("beta"))]
    model_labels = model_pod_selector()
    compile_labels = {**model_labels, "app.kubernetes.io/component": "neuron-compile"}
    servers.append(_serve("127.0.0.1", api_port, _api([
        _pod("alpha-0", "127.0.0.1", model_labels), _pod("beta-0", "127.0.0.2", model_labels),
        _pod("alpha-compile", "127.0.0.3", compile_labels)])))
    (work / "kubeconfig").write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "stand-in",
        "clusters": [{"name": "stand-in", "cluster": {"server": f"http://127.0.0.1:{api_port}"}}],
        "users": [{"name": "stand-in", "user": {"token": "stand-in"}}],
        "contexts": [{"name": "stand-in", "context": {"cluster": "stand-in", "user": "stand-in", "namespace": "vllm"}}]}))
    model = ModelConfig.model_validate(dict(name="alpha", accelerator="gpu", node_group="gpu", image="vllm/vllm-openai:v0.10.2",
                                            model="Qwen/Qwen3-32B-FP8", resources={"cpu": "3", "memory": "24Gi"}, port=worker_port))
    args = router_args(GatewayConfig(enabled=True), [model], port=port)
    args[args.index("--prometheus-host") + 1] = "127.0.0.1"  # loopback only here
    args[args.index("--prometheus-port") + 1] = str(metrics)
    log = (work / "router.log").open("w")
    process = subprocess.Popen([str(ROUTER), *args], env={**os.environ, "KUBECONFIG": str(work / "kubeconfig")},
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, (work / "router.log").read_text()[-2000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/workers", timeout=2) as reply:
                    if len(json.load(reply)["workers"]) >= 2:
                        break
            except OSError:
                pass
            time.sleep(0.5)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()
        for server in servers:
            server.shutdown()


def test_discovery_adds_each_ready_model_server_pod_under_its_model_id_and_skips_the_compile_pod(router: int) -> None:
    with urllib.request.urlopen(f"http://127.0.0.1:{router}/workers", timeout=5) as reply:
        workers = json.load(reply)["workers"]
    assert sorted((w["url"].split("//")[1].split(":")[0], w["model_id"]) for w in workers) == [
        ("127.0.0.1", "alpha"), ("127.0.0.2", "beta")]


def test_each_model_is_answered_by_its_own_pod(router: int) -> None:
    for model in ("alpha", "beta"):
        request = urllib.request.Request(f"http://127.0.0.1:{router}/v1/chat/completions", method="POST",
                                         data=json.dumps({"model": model, "messages": [{"role": "user", "content": "hi"}]}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as reply:
            assert json.load(reply)["choices"][0]["message"]["content"] == f"from {model}"
