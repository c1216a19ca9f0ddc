"""The gateway's hold, run for real: the rendered nginx.conf and njs script in Debian's NGINX (njs 0.7.9) in
front of a stand-in router on 127.0.0.1 that lists its workers' models (`{"models": [...]}`, as vllm-router
0.1.17's IGW /v1/models does) and streams back what it was sent. A request for a stack model the router does not
list is held, counted, and forwarded with its body once the model appears; past its hold it gets 503 +
Retry-After."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from vllm_eks.components._gateway_proxy import proxy_memory_limit_mib
from vllm_eks.config.gateway import GatewayConfig, GatewayTeamConfig
from vllm_eks.config.gateway_hold import HoldTime

from .nginx_run import Gateway, free_port, needs_nginx, request, running_gateway

pytestmark = needs_nginx
KEY = "h" * 40
GATEWAY = GatewayConfig(enabled=True, teams=[GatewayTeamConfig(name="platform", requests_per_minute=6000, burst=100,
                                                               max_concurrent_requests=50)])
HOLDS = {"waking": HoldTime("waking", 30, 10, 30), "sleeper": HoldTime("sleeper", 40, 2, 38)}
CHUNKS = 3
CHUNK_GAP_S = 0.4


class StandInRouter(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    listed: set[str] = {"awake"}
    bodies: list[bytes] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        body = json.dumps({"models": sorted(self.listed)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.bodies.append(body)
        model = json.loads(body).get("model")
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for index in range(CHUNKS):
            event = f"data: {json.dumps({'model': model, 'index': index, 'received': len(body)})}\n\n".encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
            self.wfile.flush()
            time.sleep(CHUNK_GAP_S)
        self.wfile.write(b"0\r\n\r\n")


@pytest.fixture(scope="module")
def gateway(tmp_path_factory) -> Iterator[Gateway]:
    router = ThreadingHTTPServer(("127.0.0.1", 0), StandInRouter)
    threading.Thread(target=router.serve_forever, daemon=True).start()
    try:
        with running_gateway(tmp_path_factory.mktemp("hold"), GATEWAY, "{}", {"platform": KEY}, HOLDS,
                             router.server_address[1]) as running:
            yield running
    finally:
        router.shutdown()


def _stream(port: int, body: dict) -> tuple[int, list[tuple[float, dict]], float]:
    """Status, each event with the seconds since sending when it arrived, and the seconds to the status line."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.monotonic()
    connection.request("POST", "/v1/chat/completions", json.dumps(body),
                       {"Content-Type": "application/json", "Authorization": f"Bearer {KEY}"})
    reply = connection.getresponse()
    answered = time.monotonic() - started
    events = []
    while True:
        line = reply.readline()
        if not line:
            break
        if line.startswith(b"data: "):
            events.append((time.monotonic() - started, json.loads(line[6:])))
    connection.close()
    return reply.status, events, answered


def test_a_listed_model_goes_straight_to_the_router(gateway):
    status, events, answered = _stream(gateway.port, {"model": "awake", "stream": True})
    assert status == 200 and answered < 1 and [e["model"] for _, e in events] == ["awake"] * CHUNKS


def test_a_model_outside_the_stack_is_not_held(gateway):
    status, events, answered = _stream(gateway.port, {"model": "elsewhere"})
    assert status == 200 and answered < 1 and events[0][1]["model"] == "elsewhere"


def test_a_model_with_no_worker_is_held_counted_then_forwarded_with_its_body_and_streamed(gateway):
    prompt = "word " * 20_000   # 100 kB: one memory buffer, forwarded after the hold
    body = {"model": "waking", "messages": [{"role": "user", "content": prompt}], "stream": True}
    sent = len(json.dumps(body))
    outcome: dict = {}
    client = threading.Thread(target=lambda: outcome.update(zip(("status", "events", "answered"), _stream(gateway.port, body), strict=True)))
    client.start()
    time.sleep(1.5)
    while_held = gateway.held()
    StandInRouter.listed.add("waking")   # the replica is Ready and discovered
    client.join(timeout=30)
    assert while_held == {"waking": 1.0, "sleeper": 0.0}
    assert outcome["status"] == 200 and 1.5 <= outcome["answered"] < 4, outcome["answered"]
    events = outcome["events"]
    assert [e["received"] for _, e in events] == [sent] * CHUNKS          # the whole body reached the router
    assert events[-1][0] - events[0][0] >= (CHUNKS - 1) * CHUNK_GAP_S * 0.8  # streamed, not buffered
    assert gateway.held() == {"waking": 0.0, "sleeper": 0.0}


def test_past_its_hold_a_request_gets_503_with_retry_after_and_is_no_longer_counted(gateway):
    started = time.monotonic()
    status, body, headers = request(gateway.port, "/v1/completions", KEY, {"model": "sleeper", "prompt": "x"}, timeout=15)
    waited = time.monotonic() - started
    assert status == 503 and headers["Retry-After"] == "38"
    assert 2 <= waited < 4, waited
    assert json.loads(body)["error"]["code"] == 503
    assert gateway.held()["sleeper"] == 0.0 and not list(gateway.held_dir.iterdir())


def test_a_marker_left_by_a_dead_worker_is_dropped_after_the_hold_time(gateway):
    gateway.held_dir.mkdir(exist_ok=True)
    stale, fresh = gateway.held_dir / "stale", gateway.held_dir / "fresh"
    stale.write_text("sleeper")
    fresh.write_text("sleeper")
    old = time.time() - 60
    os.utime(stale, (old, old))
    assert gateway.held()["sleeper"] == 1.0
    assert not stale.exists() and fresh.exists()
    fresh.unlink()


def test_the_router_model_list_location_is_internal_only(gateway):
    assert request(gateway.port, "/_router_models", KEY)[0] == 404


def _tree_rss_mib(pid: int) -> float:
    """Resident memory of NGINX's master and workers, as the container's memory cgroup would count it."""
    workers = subprocess.run(["ps", "--ppid", str(pid), "-o", "rss="], capture_output=True, text=True, check=False).stdout.split()
    own = subprocess.run(["ps", "-p", str(pid), "-o", "rss="], capture_output=True, text=True, check=False).stdout.split()
    return sum(int(kib) for kib in workers + own) / 1024


def test_a_team_at_its_concurrency_limit_with_the_largest_bodies_stays_under_the_proxys_memory_limit(tmp_path):
    # Every request held (the stand-in router is never started, so no model is listed) for the whole measurement.
    team = GatewayTeamConfig(name="platform", requests_per_minute=6000, burst=100, max_concurrent_requests=3)
    gateway = GatewayConfig(enabled=True, max_request_body_mib=4, teams=[team])
    limit = proxy_memory_limit_mib(gateway)
    content = "x" * (gateway.max_request_body_mib * 2**20 - 200)
    body = {"model": "sleeper", "messages": [{"role": "user", "content": content}]}
    with running_gateway(tmp_path, gateway, "{}", {"platform": KEY}, {"sleeper": HoldTime("sleeper", 40, 4, 36)},
                         free_port()) as running:
        idle = _tree_rss_mib(running.process.pid)
        statuses: list[int] = []
        clients = [threading.Thread(target=lambda: statuses.append(
            request(running.port, "/v1/chat/completions", KEY, body, timeout=20)[0])) for _ in range(team.max_concurrent_requests)]
        for client in clients:
            client.start()
        peak = idle
        while any(client.is_alive() for client in clients):
            peak = max(peak, _tree_rss_mib(running.process.pid))
            time.sleep(0.2)
        too_large = request(running.port, "/v1/chat/completions", KEY, {**body, "padding": " " * 2**20}, timeout=20)[0]
    assert statuses == [503] * team.max_concurrent_requests   # all three were held to the end of their hold
    assert peak - idle > team.max_concurrent_requests * gateway.max_request_body_mib  # the bodies were in memory
    assert peak < limit, f"peak {peak:.0f} MiB against the rendered limit {limit} MiB"
    assert too_large == 413
