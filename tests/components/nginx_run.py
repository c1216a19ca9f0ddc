"""The rendered gateway nginx.conf (with its njs hold script) run by a real NGINX on loopback, for the
gateway's NGINX tests. Needs Debian's nginx and libnginx-mod-http-js (scripts/setup-nginx); skipped without."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest

from vllm_eks.components import _gateway_hold as hold
from vllm_eks.components import _gateway_proxy as proxy
from vllm_eks.config.gateway import GatewayConfig
from vllm_eks.config.gateway_hold import HoldTime
from vllm_eks.config.scale_to_zero import HELD_METRIC

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def _njs() -> bool:
    if NGINX is None:
        return False
    built = subprocess.run([NGINX, "-V"], capture_output=True, text=True).stderr
    prefix = re.search(r"--prefix=(\S+)", built)
    return prefix is not None and (Path(prefix.group(1)) / proxy.JS_MODULE).exists()


needs_nginx = pytest.mark.skipif(not _njs(), reason="no nginx with njs (scripts/setup-nginx: nginx, libnginx-mod-http-js)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def request(port: int, path: str, key: str | None = None, body: dict | None = None,
            timeout: float = 10) -> tuple[int, bytes, dict[str, str]]:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})}
    data = json.dumps(body).encode() if body is not None else None
    try:
        with urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}{path}", data, headers),
                                    timeout=timeout) as reply:
            return reply.status, reply.read(), dict(reply.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


class Gateway:
    def __init__(self, port: int, metrics_port: int, root: Path, process: subprocess.Popen):
        self.port, self.metrics_port, self.root, self.process = port, metrics_port, root, process

    @property
    def held_dir(self) -> Path:
        return self.root / "run" / hold.HELD_DIR

    def held(self) -> dict[str, float]:
        """The held-request gauge per model, as Prometheus would scrape it."""
        status, body, _ = request(self.metrics_port, "/metrics")
        assert status == 200, body
        found = re.findall(rf'^{HELD_METRIC}{{model="([^"]*)"}} (\S+)$', body.decode(), re.M)
        return {model: float(value) for model, value in found}


@contextmanager
def running_gateway(root: Path, gateway: GatewayConfig, models_document: str, keys: Mapping[str, str],
                    holds: Mapping[str, HoldTime], router_port: int) -> Iterator[Gateway]:
    for name in ("config", "keys", "run"):
        (root / name).mkdir(parents=True, exist_ok=True)
    port, metrics_port = free_port(), free_port()
    conf = proxy.nginx_conf(gateway, keys_dir=str(root / "keys"), config_dir=str(root / "config"),
                            runtime_dir=str(root / "run"), listen=f"127.0.0.1:{port}", router_port=router_port,
                            metrics_listen=f"127.0.0.1:{metrics_port}")
    (root / "config" / "nginx.conf").write_text(conf)
    (root / "config" / proxy.MODELS_FILE).write_text(models_document)
    (root / "config" / hold.SCRIPT_FILE).write_text(hold.SCRIPT)
    (root / "config" / hold.HOLDS_FILE).write_text(hold.holds_document(holds))
    (root / "keys" / proxy.KEYS_FILE).write_text(proxy.keys_file(dict(keys)))
    # As root, NGINX's workers would switch to `nobody`, who cannot read pytest's private temp folder; the pod
    # runs it as one non-root user throughout.
    directives = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")
    assert NGINX is not None
    server = subprocess.Popen([NGINX, "-e", "stderr", "-c", str(root / "config" / "nginx.conf"), "-g", directives],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and server.poll() is None:
            try:
                if request(port, proxy.HEALTH_PATH)[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
        yield Gateway(port, metrics_port, root, server)
    finally:
        server.terminate()
        server.wait(timeout=10)
