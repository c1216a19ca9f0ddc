"""The gateway stage: the rendered gateway (NGINX + vLLM's router) and Open WebUI in front of the
e2e servers, on loopback, then a client and a headless Chromium going through the one URL.

1. Renders `prod` (the stack that enables the gateway) and a stack `e2e-gateway`: the servers' own
   stack (dev) with prod's gateway and Open WebUI blocks, so the model list and the routes are the
   ones of the models that are actually running. Checks that both renders give NGINX the same
   nginx.conf and the router the same flags: only the model list differs.
2. Runs that gateway as the pod would (e2e/gateway_plan.py lists every substitution): the router
   from the vllm-router wheel, each server registered the way pod discovery would, NGINX (Debian's,
   with njs) with the rendered nginx.conf and hold script, as the pod's user. The last server is
   registered only while a request for its model is held (e2e/gateway_hold.py).
3. Client checks (e2e/gateway_client.py): model list, an answer from each model, a stream, 401s,
   429 over a team's limit.
4. Open WebUI (PyPI) pointed at the gateway with its team's key, and e2e/browser.py in headless
   Chromium: sign in, both models listed, an answer from each; screenshot build/e2e/open-webui-chat.png.
Needs scripts/setup-gateway-e2e (.venv-gateway, .venv-webui, chromium, nginx).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import yaml

from e2e import gateway_client as client
from e2e.check import Check
from e2e.gateway_hold import activation_through_prometheus, held_until_registered
from e2e.gateway_plan import GatewayPlan, PlanError, container, gateway_objects, matches, plan
from e2e.servers import HOST, ROOT, WORK, Server, free_port, http, tail
from e2e.webui import browse, start_webui

STAGE = client.STAGE
GATEWAY_VENV = ROOT / ".venv-gateway"
GATEWAY_STACK = "prod"
OVERLAY_STACK = "e2e-gateway"
# The stack keys that make the gateway and Open WebUI (config/stack.py); copied from GATEWAY_STACK
# onto the servers' stack when that stack does not enable the gateway itself.
GATEWAY_KEYS = ("vllm-eks:gateway", "vllm-eks:gatewayApiKeys", "vllm-eks:openWebui", "vllm-eks:openWebuiSecrets")
SCREENSHOT = WORK / "open-webui-chat.png"
START_TIMEOUT_S = 60


def render(stack: str, project: Path, out: Path) -> list[dict[str, Any]]:
    shutil.rmtree(out, ignore_errors=True)
    result = subprocess.run([str(ROOT / ".venv" / "bin" / "vllm-eks"), "render", "--stack", stack, "--project-dir",
                             str(project), "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise PlanError(f"render --stack {stack} failed ({result.returncode}): {result.stderr.strip()[-600:]}")
    return [yaml.safe_load(p.read_text()) for p in sorted(out.glob("manifests/*/*.yaml"))]


def overlay_project(serving_stack: str, work: Path) -> tuple[Path, list[str]]:
    """A project folder whose stack OVERLAY_STACK is `serving_stack` plus GATEWAY_STACK's gateway keys
    (those the serving stack lacks or leaves disabled); the program and Pulumi.yaml are the repo's."""
    project = work / "project"
    project.mkdir(parents=True, exist_ok=True)
    for name in ("Pulumi.yaml", "__main__.py"):
        link = project / name
        if not link.exists():
            link.symlink_to(ROOT / name)
    serving = yaml.safe_load((ROOT / f"Pulumi.{serving_stack}.yaml").read_text())
    source = yaml.safe_load((ROOT / f"Pulumi.{GATEWAY_STACK}.yaml").read_text())
    config = serving["config"]
    enabled = (config.get("vllm-eks:gateway") or {}).get("enabled", False)
    taken = [] if enabled else [key for key in GATEWAY_KEYS if key in source["config"]]
    for key in taken:
        config[key] = source["config"][key]
    (project / f"Pulumi.{OVERLAY_STACK}.yaml").write_text(yaml.safe_dump(serving, sort_keys=False))
    return project, taken


def _gateway_parts(manifests: list[dict[str, Any]]) -> tuple[str, list[str]]:
    """nginx.conf and the router's argv as rendered (for comparing two renders)."""
    deployment, config_map, _ = gateway_objects(manifests)
    router = container(deployment, command="vllm-router")
    return config_map["data"]["nginx.conf"], [*(router.get("command") or []), *(router.get("args") or [])]


def keys_text(teams: list[str]) -> tuple[str, dict[str, str]]:
    """keys.conf as the cluster's Secret holds it (the builder's own function), fresh keys per team."""
    from vllm_eks.components._gateway_proxy import keys_file
    keys = {team: f"sk-e2e-{team}-{secrets.token_hex(12)}" for team in teams}
    return keys_file(keys), keys


class Process:
    """One background process in its own session, logged to a file, stopped with its whole group."""

    def __init__(self, name: str, argv: list[str], log: Path, env: dict[str, str] | None = None,
                 user: tuple[int, int] | None = None, cwd: Path | None = None):
        self.name, self.argv, self.log = name, argv, log
        log.parent.mkdir(parents=True, exist_ok=True)

        def drop() -> None:
            if user is not None:
                os.setgroups([])
                os.setgid(user[1])
                os.setuid(user[0])

        with open(log, "wb") as out:
            if user is not None:
                # NGINX reopens /dev/stdout (access_log): the pod's user must own what its stdout is.
                os.chown(log, *user)
            self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         env=env, cwd=cwd, start_new_session=True, preexec_fn=drop)

    def wait_for(self, url: str, timeout: float = START_TIMEOUT_S) -> str | None:
        """None once `url` answers 200, else why not."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return f"{self.name} exited {self.proc.returncode}:\n{tail(self.log)}"
            if http("GET", url, timeout=3)[0] == 200:
                return None
            time.sleep(0.5)
        return f"{self.name}: {url} not answering after {timeout:.0f}s:\n{tail(self.log)}"

    def stop(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
                self.proc.wait(timeout=15)
                return
            except subprocess.TimeoutExpired:
                continue
            except ProcessLookupError:
                return


def pod_files(files: dict[str, str], owner: tuple[int, int] | None, root: Path) -> None:
    """Write the pod's mounted files under `root` (a private folder made for the run), owned by the
    pod's user as its volumes would be readable by it; keys.conf readable by that user alone. Under
    /tmp rather than the clone, so the user can reach them whatever the clone's folders allow."""
    for path, text in files.items():
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text)
        os.chmod(path, 0o600 if path.endswith("keys.conf") else 0o644)
    (root / "tmp").mkdir(exist_ok=True)
    if owner is not None:
        for folder, _dirs, names in os.walk(root):
            os.chown(folder, *owner)
            for name in names:
                os.chown(Path(folder) / name, *owner)


def register_worker(gateway: GatewayPlan, server: Server) -> Check:
    """What pod discovery would do when the server's pod turns Ready: if its rendered pod labels and namespace
    match the router's selector, it is added with POST /workers."""
    router = f"http://{HOST}:{gateway.router_port}"
    labels = server.deployment_object["spec"]["template"]["metadata"].get("labels", {})
    picked = matches(gateway.selector, gateway.discovery_namespace, labels, server.namespace)
    status, text = http("POST", f"{router}/workers", {"url": server.base_url}) if picked else (0, "not selected")
    return Check(STAGE, f"discovery selector picks {server.deployment} ({server.namespace}); registered", picked and status == 200,
                 f"selector {gateway.selector} in {gateway.discovery_namespace or 'all namespaces'}, "
                 f"pod port {gateway.discovery_port} -> {server.base_url}, POST /workers HTTP {status}"
                 + ("" if status == 200 else f": {text[:160]}"))


def router_knows(gateway: GatewayPlan, servers: list[Server]) -> Check:
    """The router lists every registered server's model (IGW reads each worker's /v1/models)."""
    router = f"http://{HOST}:{gateway.router_port}"
    wanted = sorted(s.served_name for s in servers)
    deadline = time.monotonic() + START_TIMEOUT_S
    known: list[str] = []
    while time.monotonic() < deadline:
        status, text = http("GET", f"{router}/v1/models")
        known = sorted(json.loads(text).get("models", [])) if status == 200 and text.startswith("{") else []
        if known == wanted:
            break
        time.sleep(1)
    return Check(STAGE, "the router knows each worker's model (IGW reads its /v1/models)", known == wanted,
                 f"router /v1/models: {known}")


def webui_team(work: Path) -> str:
    """The team whose key Open WebUI's Secret holds: openWebui.team (config/gateway.py, default open-webui)."""
    config = yaml.safe_load((work / "project" / f"Pulumi.{OVERLAY_STACK}.yaml").read_text())["config"]
    return str((config.get("vllm-eks:openWebui") or {}).get("team", "open-webui"))


def run(servers: list[Server]) -> list[Check]:
    checks: list[Check] = []
    work = WORK / "gateway"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    models = [s.served_name for s in servers]
    stack = servers[0].stack if servers else "dev"

    project, taken = overlay_project(stack, work)
    prod = render(GATEWAY_STACK, ROOT, work / "render" / GATEWAY_STACK)
    manifests = render(OVERLAY_STACK, project, work / "render" / OVERLAY_STACK)
    same = _gateway_parts(prod) == _gateway_parts(manifests)
    laid = ", ".join(k.split(":")[1] for k in taken) or "nothing (it enables the gateway)"
    checks.append(Check(STAGE, f"{GATEWAY_STACK}'s gateway and {stack} + {GATEWAY_STACK}'s {laid} render the same nginx.conf and router flags", same,
                        "nginx.conf and router flags identical; only the model list differs" if same
                        else "nginx.conf or the router flags differ between the two renders"))

    ports = {"proxy": free_port(), "router": free_port(), "metrics": free_port(), "hold_metrics": free_port()}
    text_and_keys: dict[str, dict[str, str]] = {}

    def make_keys(teams: list[str]) -> str:
        text, keys = keys_text(teams)
        text_and_keys["keys"] = keys
        return text

    mounts = Path(tempfile.mkdtemp(prefix="e2e-gateway-"))   # mode 0700: the keys stay private
    gateway = plan(manifests, work=mounts, ports=ports, router_executable=str(GATEWAY_VENV / "bin" / "vllm-router"),
                   keys_text=make_keys)
    keys = text_and_keys["keys"]
    (work / "substitutions.txt").write_text("\n".join(gateway.substitutions) + "\n")
    (work / "nginx.conf").write_text(gateway.nginx_conf)   # as run, for the record (keys.conf is not copied)
    base = f"http://{HOST}:{gateway.proxy_port}/v1"

    with ExitStack() as running:
        running.callback(shutil.rmtree, mounts, ignore_errors=True)
        pod_files(gateway.files, gateway.proxy_user, mounts)
        router = Process("router", gateway.router_argv, work / "router.log", cwd=work)
        running.callback(router.stop)
        failure = router.wait_for(f"http://{HOST}:{gateway.router_port}/liveness")
        checks.append(Check(STAGE, "vllm-router starts with the rendered flags", failure is None,
                            " ".join(gateway.router_argv[1:]) if failure is None else failure))
        if failure is not None:
            return checks
        # The first server's worker is registered now; the last one's only once a request for its model is held
        # (e2e/gateway_hold.py): a replica that turns Ready while the gateway holds a request for it.
        first, later = servers[:1], servers[1:]
        checks += [register_worker(gateway, server) for server in first]
        proxy = Process("nginx", gateway.proxy_argv, work / "nginx.log", user=gateway.proxy_user, cwd=mounts)
        running.callback(proxy.stop)
        failure = proxy.wait_for(f"http://{HOST}:{gateway.proxy_port}/healthz")
        checks.append(Check(STAGE, f"NGINX starts with the rendered nginx.conf as uid {gateway.proxy_user[0] if gateway.proxy_user else 'root'}",
                            failure is None, f"{_nginx_version()}, one URL {base}" if failure is None else failure))
        if failure is not None:
            return checks

        # Open WebUI boots (about a minute) while the client checks run.
        webui, problem = start_webui(manifests, base, keys, webui_team(work), work / "open-webui")
        if webui is not None:
            running.callback(webui.stop)
        platform, *rest = gateway.teams
        if later and gateway.hold_metrics_port is not None:
            with activation_through_prometheus(later[-1].served_name, gateway.hold_metrics_port, work / "prometheus") as activation:
                checks += held_until_registered(base, keys[platform.name], later[-1].served_name,
                                                f"http://{HOST}:{gateway.hold_metrics_port}/metrics",
                                                lambda: [register_worker(gateway, server) for server in later], activation)
        else:
            checks += [register_worker(gateway, server) for server in later]
        checks.append(router_knows(gateway, servers))
        checks.append(client.model_list(base, keys[platform.name], models))
        checks += client.answers(base, keys[platform.name], models)
        checks.append(client.stream(base, keys[platform.name], models[0]))
        checks += client.refusals(base, keys[platform.name], models[0])
        other = rest[0] if rest else None
        checks += client.over_limit(base, platform.name, keys[platform.name], platform.burst, platform.rate, models[-1],
                                    keys[other.name] if other else None, other.name if other else "")
        status, text = http("GET", f"http://{HOST}:{gateway.metrics_port}/metrics")
        checks.append(Check(STAGE, "the router's Prometheus metrics are served", status == 200 and "vllm_router_" in text,
                            f"HTTP {status}, {sum(1 for line in text.splitlines() if line.startswith('vllm_router_'))} vllm_router_* samples"))
        if webui is None:
            checks.append(Check(STAGE, "Open WebUI has a gateway key", False, problem))
            return checks
        failure = webui.wait_healthy()
        checks.append(Check(STAGE, f"Open WebUI starts offline in front of the gateway (team {webui.team!r})", failure is None,
                            f"{webui.boot_seconds:.0f}s after start, env {webui.env_source}" if failure is None else failure))
        if failure is not None:
            return checks
        checks += browse(webui, servers, SCREENSHOT)
    return checks


def _nginx_version() -> str:
    result = subprocess.run(["nginx", "-v"], capture_output=True, text=True)
    return (result.stderr or result.stdout).strip().removeprefix("nginx version: ")
