"""The autoscaling stage: the ScaledObject this project renders for an autoscaled model, its query evaluated by a
real Prometheus scraping the real vLLM servers through the rendered ServiceMonitor: at or below its threshold when
idle, above it under a bounded burst of concurrent requests, and back at or below it after.

The objects come from the project's own program: the dev stack with every model given `autoscaling` (1 to 2
replicas), scraping on (every 5 s, the least `monitoring.scrapeIntervalSeconds` allows) and its node group on
Karpenter, rendered under the mock engine. Only the trigger's `serverAddress` is this stage's Prometheus on
127.0.0.1 instead of the in-cluster one. The HPA KEDA creates wants ceil(value / threshold) replicas
(metricType AverageValue), so with one replica running the check that adds one is value > threshold.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from e2e.check import Check
from e2e.metrics import Prometheus, cpu_build_version, prometheus, scrape_config
from e2e.servers import WORK, Server
from vllm_eks.config.autoscaling import kv_cache_query_for
from vllm_eks.config.loader import read_stack_file
from vllm_eks.preview.render import manifests
from vllm_eks.preview.runner import run_stack

STAGE = "autoscale"
PROJECT_DIR = Path(__file__).resolve().parents[1]
SCRAPE_SECONDS = 5
BURST_PER_WAITING = 24
"""Concurrent chat completions per server per request of the threshold: enough that the burst outlasts a few scrapes
(a 24-request burst at maxNumSeqs 4 was over in 4 s, inside one 5 s scrape: measured here)."""
MAX_TOKENS = 256
REQUEST_TIMEOUT_S = 240
"""Each request's bound; the burst is over by then."""
FIRST_SCRAPE_TIMEOUT_S = 60
SETTLE_TIMEOUT_S = 60


def rendered_objects() -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """ScaledObjects by served model name, and the ServiceMonitors, from the dev stack made to autoscale."""
    stack_file = read_stack_file(PROJECT_DIR / "Pulumi.dev.yaml")
    values = stack_file.values
    values["monitoring"] = {**values.get("monitoring", {}), "serviceMonitors": True, "scrapeIntervalSeconds": SCRAPE_SECONDS}
    for group in values["nodeGroups"]:
        for key in ("minSize", "desiredSize"):
            group.pop(key, None)
        group.update({"capacity": "karpenter", "maxSize": 4})
    for model in values["models"]:
        model.pop("replicas", None)
        model["autoscaling"] = {"minReplicas": 1, "maxReplicas": 2}
    recording = run_stack(PROJECT_DIR, "dev", config=stack_file)
    if recording.error is not None:
        raise recording.error
    objects = manifests(recording)
    scaled = {}
    for obj in objects:
        if obj["kind"] == "ScaledObject":
            served = obj["spec"]["triggers"][0]["metadata"]["query"].split('model_name="', 1)[1].split('"', 1)[0]
            scaled[served] = obj
    return scaled, [obj for obj in objects if obj["kind"] == "ServiceMonitor"]


def value(prom: Prometheus, promql: str) -> float | None:
    """The query's single value; None when it selects no series (KEDA's ignoreNullValues reads that as 0)."""
    ok, error, result = prom.query(promql)
    if not ok:
        raise RuntimeError(f"{promql}: {error}")
    return float(result[0]["value"][1]) if result else None


def _burst(server: Server, requests: int) -> list[int]:
    body = {"model": server.served_name, "max_tokens": MAX_TOKENS, "ignore_eos": True,
            "messages": [{"role": "user", "content": "count slowly"}]}
    with ThreadPoolExecutor(requests) as pool:
        futures = [pool.submit(server.post, "/v1/chat/completions", body, REQUEST_TIMEOUT_S) for _ in range(requests)]
        return [future.result()[0] for future in futures]


def _server_checks(server: Server, scaled: dict[str, Any], prom: Prometheus) -> list[Check]:
    """The queue trigger's checks; the optional KV-cache trigger's query (autoscaling.kvCacheUsageTarget) is read in
    the same burst. The dev models are Neuron, where that trigger is refused, so its query is built by the same
    function for the CPU build's vLLM version and this server's served name instead of read from the render."""
    trigger = scaled["spec"]["triggers"][0]["metadata"]
    kv_promql = kv_cache_query_for(server.served_name, cpu_build_version().facts)
    promql, threshold = trigger["query"], float(trigger["threshold"])
    name = server.deployment
    deadline = time.monotonic() + FIRST_SCRAPE_TIMEOUT_S
    idle = value(prom, promql)
    while idle is None and time.monotonic() < deadline:
        time.sleep(1)
        idle = value(prom, promql)
    checks = [Check(STAGE, f"{name}: the rendered query selects the server's queue, at or below the threshold when idle",
                    idle is not None and idle <= threshold, f"{promql} = {idle}, threshold {threshold:g}")]
    kv_idle = value(prom, kv_promql)
    peak, kv_peak, started = 0.0, 0.0, time.monotonic()
    requests = BURST_PER_WAITING * max(1, int(threshold))
    with ThreadPoolExecutor(1) as runner:
        burst = runner.submit(_burst, server, requests)
        while not burst.done():
            peak = max(peak, value(prom, promql) or 0.0)
            kv_peak = max(kv_peak, value(prom, kv_promql) or 0.0)
            time.sleep(1)
        statuses = burst.result()
    answered = sum(status == 200 for status in statuses)
    wanted = max(1, -(-int(peak) // max(1, int(threshold))))
    checks.append(Check(STAGE, f"{name}: {requests} concurrent requests push the query over the threshold",
                        peak > threshold and answered == requests,
                        f"peak {peak:g} > {threshold:g}: the HPA wants {wanted} replicas; {answered}/{requests} "
                        f"answered in {time.monotonic() - started:.0f}s"))
    checks.append(Check(STAGE, f"{name}: the KV-cache query selects the server's gauge and rises under the burst",
                        kv_idle is not None and 0.0 <= kv_idle < kv_peak <= 1.0,
                        f"{kv_promql}: idle {kv_idle}, peak {kv_peak:g} (fraction of the KV cache in use)"))
    deadline, after = time.monotonic() + SETTLE_TIMEOUT_S, None
    while time.monotonic() < deadline:
        after = value(prom, promql)
        if after is not None and after <= threshold:
            break
        time.sleep(1)
    checks.append(Check(STAGE, f"{name}: after the burst the query is back at or below the threshold",
                        after is not None and after <= threshold, f"{promql} = {after}"))
    return checks


def run(servers: list[Server]) -> list[Check]:
    scaled, monitors = rendered_objects()
    checks = [Check(STAGE, "the dev stack made to autoscale renders a ScaledObject per server",
                    all(server.served_name in scaled for server in servers), f"for {sorted(scaled)}")]
    jobs = [job for monitor in monitors for job in scrape_config(monitor, servers)["scrape_configs"]]
    config = {"global": {"evaluation_interval": f"{SCRAPE_SECONDS}s"}, "scrape_configs": jobs}
    with prometheus(config, {"groups": []}, WORK / "autoscaling-prometheus") as prom:
        for server in servers:
            if server.served_name in scaled:
                checks += _server_checks(server, scaled[server.served_name], prom)
    return checks
