"""The gateway's hold, end to end: the real router with only the first model's worker registered, the rendered
NGINX with its njs hold script, a real vLLM CPU server for the second model that the router does not know yet.

A chat completion for the second model is sent through the one URL; it must be held (NGINX's held-request gauge,
`vllm_gateway_held_requests{model=...}` on the rendered hold-metrics port, reads 1 while no answer has come),
then answered by that model once its worker is registered (what pod discovery does when the replica turns
Ready), and the gauge must read 0 again. Without the hold, vllm-router 0.1.17 in IGW mode sends it to the first
model's worker, which answers 404 (docs/gateway.md).

With Prometheus installed (scripts/setup-prometheus), a Prometheus on 127.0.0.1 scrapes NGINX's hold-metrics port
every second, and the scale-to-zero ScaledObject's activation query for the model (config/scale_to_zero.held_query,
the text its `held` trigger carries, pinned by tests/components/test_scale_to_zero.py) is evaluated through it:
above 0 (KEDA's activationThreshold) while the request is held, 0 after.
"""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from e2e.check import Check
from e2e.gateway_client import ANSWER_TIMEOUT_S, STAGE, chat, request
from e2e.metrics import Prometheus, prometheus
from e2e.servers import HOST
from vllm_eks.config.scale_to_zero import HELD_METRIC, held_query

SEEN_HELD_TIMEOUT_S = 20
PROMETHEUS_SEES_S = 15
"""Scrapes every second; the evaluation sees the held request within a few."""
REGISTER_AFTER_S = 3
"""How long the request is left held before its worker is registered: long enough for several re-checks."""


def held(metrics_url: str, model: str) -> float | None:
    status, text = request("GET", metrics_url)
    if status != 200:
        return None
    found = re.search(rf'^{HELD_METRIC}{{model="{re.escape(model)}"}} (\S+)$', text, re.M)
    return float(found.group(1)) if found else None


Evaluate = Callable[[str], float | None]


def _evaluated(evaluate: Evaluate, query: str, wanted: Callable[[float], bool]) -> tuple[bool, float | None, float]:
    started = time.monotonic()
    value = None
    while time.monotonic() - started < PROMETHEUS_SEES_S:
        value = evaluate(query)
        if value is not None and wanted(value):
            return True, value, time.monotonic() - started
        time.sleep(1)
    return False, value, time.monotonic() - started


def held_until_registered(base: str, key: str, model: str, metrics_url: str, register: Callable[[], list[Check]],
                          activation: tuple[str, Evaluate] | None = None) -> list[Check]:
    """Send one completion for `model` (whose worker is not registered), see it held, call `register`, see it answered.
    `activation`: the ScaledObject's activation query and how to evaluate it through Prometheus."""
    outcome: dict[str, Any] = {}

    def send() -> None:
        started = time.monotonic()
        outcome["status"], outcome["text"] = request("POST", f"{base}/chat/completions", key=key,
                                                     body=chat(model, "Say hello.", 8), timeout=ANSWER_TIMEOUT_S + 60)
        outcome["seconds"] = time.monotonic() - started

    started = time.monotonic()
    client = threading.Thread(target=send, daemon=True)
    client.start()
    counted = None
    while time.monotonic() - started < SEEN_HELD_TIMEOUT_S and "status" not in outcome:
        counted = held(metrics_url, model)
        if counted == 1:
            break
        time.sleep(0.5)
    still_waiting = "status" not in outcome
    checks = [Check(STAGE, f"a completion for {model} before its worker is registered is held and counted",
                    counted == 1 and still_waiting,
                    f"{HELD_METRIC}{{model=\"{model}\"}} {counted} after {time.monotonic() - started:.1f}s, no answer yet"
                    if still_waiting else f"answered before its worker existed: HTTP {outcome.get('status')} "
                    f"{str(outcome.get('text'))[:160]}")]
    if activation is not None:
        query, evaluate = activation
        crossed, value, after = _evaluated(evaluate, query, lambda v: v > 0)
        checks.append(Check(STAGE, "the scale-to-zero activation query, through Prometheus, is above 0 while it is held",
                            crossed and "status" not in outcome, f"{query} = {value} ({after:.0f}s after the first try)"))
    time.sleep(max(0.0, REGISTER_AFTER_S - (time.monotonic() - started)))
    registered_at = time.monotonic() - started
    checks += register()
    client.join(timeout=ANSWER_TIMEOUT_S + 90)
    status, text = outcome.get("status", 0), str(outcome.get("text", "no answer"))
    try:
        answer: dict[str, Any] = json.loads(text)
    except ValueError:
        answer = {}
    # Tokens, not content: a reasoning model's short answer may be all reasoning (content null).
    tokens = (answer.get("usage") or {}).get("completion_tokens") or 0
    ok = status == 200 and answer.get("model") == model and tokens > 0
    checks.append(Check(STAGE, f"the held request is answered by {model} once its worker is registered", ok,
                        f"HTTP 200 after {outcome.get('seconds', 0):.1f}s (worker registered at {registered_at:.1f}s), "
                        f"model {answer.get('model')!r}, {tokens} tokens" if ok
                        else f"HTTP {status}: {text[:200]}"))
    after = held(metrics_url, model)
    checks.append(Check(STAGE, f"{HELD_METRIC} for {model} is back to 0 once it is answered", after == 0,
                        f"{HELD_METRIC}{{model=\"{model}\"}} {after}"))
    if activation is not None:
        query, evaluate = activation
        settled, value, waited = _evaluated(evaluate, query, lambda v: v == 0)
        checks.append(Check(STAGE, "the activation query is back to 0 once the request is answered", settled,
                            f"{query} = {value} ({waited:.0f}s)"))
    return checks


@contextmanager
def activation_through_prometheus(model: str, hold_metrics_port: int, work: Path) -> Iterator[tuple[str, Evaluate] | None]:
    """A Prometheus scraping NGINX's hold-metrics port every second, and the model's activation query; None without
    a prometheus binary (the gateway checks then run without it)."""
    if shutil.which("prometheus") is None:
        yield None
        return
    config = {"global": {"evaluation_interval": "15s"}, "scrape_configs": [{
        "job_name": "gateway-hold", "scrape_interval": "1s", "metrics_path": "/metrics",
        "static_configs": [{"targets": [f"{HOST}:{hold_metrics_port}"]}]}]}
    with prometheus(config, {"groups": []}, work) as prom:
        yield held_query(model), partial(_value, prom)


def _value(prom: Prometheus, query: str) -> float | None:
    ok, _error, result = prom.query(query)
    return float(result[0]["value"][1]) if ok and result else None
