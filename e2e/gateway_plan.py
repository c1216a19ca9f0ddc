"""The rendered gateway, turned into processes on loopback: pure (tests/e2e/test_gateway_plan.py).

The cluster runs one pod with two containers (components/_gateway_objects.py): NGINX with the
ConfigMap's nginx.conf and models.json and the Secret's keys.conf, and vllm-router on the pod's
loopback, finding model pods through the Kubernetes API. Here the same texts and flags run as two
host processes, and every substitution is listed in `GatewayPlan.substitutions`:

| rendered | on this machine |
|---|---|
| volume mount paths in nginx.conf (config, keys, /tmp emptyDir) | folders under build/e2e/gateway/ |
| `listen <containerPort>` (the http port, and NGINX's held-request metrics port) | `listen 127.0.0.1:<free port>` (loopback only) |
| the router's `--port` (and nginx.conf's `upstream router { server 127.0.0.1:<port> }`) | a free port, the same in both |
| `--prometheus-host 0.0.0.0 --prometheus-port P` | 127.0.0.1 and a free port |
| `--service-discovery --selector ... --service-discovery-port --service-discovery-namespace` | dropped (no Kubernetes API here); see below |
| keys.conf (`[secret]` in the render) | the same builder's text (components/_gateway_proxy.keys_file) with a fresh key per team |
| `vllm-router` (the image's) | the PyPI wheel's console script, same release (.venv-gateway) |

Discovery adds every Running, Ready pod whose labels include the selector (in the namespace, when
given) as `http://<pod IP>:<port>` through the router's add_worker (vllm-project/router
src/service_discovery.rs: PodInfo::matches_selector, is_healthy, handle_pod_event). Here each e2e
server whose rendered pod template labels and namespace pass the same test (`matches`) is added by
the router's own API for that, `POST /workers {"url": ...}`, which in IGW mode reads the worker's
model id from its /v1/models.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

GATEWAY_COMPONENT = "gateway"
HOLD_METRICS_PORT_NAME = "hold-metrics"
DISCOVERY_FLAGS_WITH_VALUE = ("--service-discovery-port", "--service-discovery-namespace")


class PlanError(ValueError):
    """The render does not have the shape this harness knows how to run; says what is missing."""


@dataclass
class Team:
    name: str
    rate: str                      # NGINX limit_req_zone rate, e.g. "600r/m"
    burst: int                     # limit_req burst (nodelay): requests admitted at once above the rate
    max_connections: int | None  # limit_conn


@dataclass
class GatewayPlan:
    router_argv: list[str]
    router_port: int
    metrics_port: int
    proxy_argv: list[str]
    proxy_port: int
    hold_metrics_port: int | None  # NGINX's held-request gauge (components/_gateway_hold.py), when rendered
    proxy_user: tuple[int, int] | None
    nginx_conf: str
    files: dict[str, str]          # path -> text to write before NGINX starts (models.json, ...)
    keys_path: Path
    teams: list[Team]
    selector: dict[str, str]
    discovery_namespace: str | None
    discovery_port: int | None
    substitutions: list[str] = field(default_factory=list)


def _labels(obj: dict[str, Any]) -> dict[str, str]:
    return dict(obj.get("metadata", {}).get("labels") or {})


def gateway_objects(manifests: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
    """The gateway Deployment, the ConfigMap and the Secret its pod mounts."""
    deployments = [o for o in manifests if o.get("kind") == "Deployment"
                   and _labels(o).get("app.kubernetes.io/component") == GATEWAY_COMPONENT]
    if len(deployments) != 1:
        raise PlanError(f"expected one Deployment labelled app.kubernetes.io/component={GATEWAY_COMPONENT}, "
                        f"found {len(deployments)}: is the gateway enabled in the stack?")
    deployment = deployments[0]
    namespace = deployment["metadata"]["namespace"]
    volumes = deployment["spec"]["template"]["spec"].get("volumes", [])

    def mounted(kind: str, key: str) -> list[dict[str, Any]]:
        names = {v[key].get("name") or v[key].get("secretName") for v in volumes if key in v}
        return [o for o in manifests if o.get("kind") == kind and o["metadata"].get("namespace") == namespace
                and o["metadata"]["name"] in names]

    config_maps = mounted("ConfigMap", "configMap")
    if len(config_maps) != 1:
        raise PlanError(f"the gateway pod should mount one ConfigMap (nginx.conf), found {len(config_maps)}")
    secrets = mounted("Secret", "secret")
    return deployment, config_maps[0], secrets[0] if secrets else None


def container(deployment: dict[str, Any], *, command: str) -> dict[str, Any]:
    """The container whose command (or first arg) is `command`."""
    for c in deployment["spec"]["template"]["spec"]["containers"]:
        argv = [*(c.get("command") or []), *(c.get("args") or [])]
        if argv and Path(argv[0]).name == command:
            return c
    raise PlanError(f"no container of Deployment {deployment['metadata']['name']} runs {command!r}")


def _flag_values(argv: list[str], flag: str) -> list[str]:
    """Values after `flag` up to the next `--` flag (argparse nargs='+'), or after `flag=`."""
    for i, token in enumerate(argv):
        if token == flag:
            values = []
            for value in argv[i + 1:]:
                if value.startswith("--"):
                    break
                values.append(value)
            return values
        if token.startswith(flag + "="):
            return [token.split("=", 1)[1]]
    return []


def _replace_value(argv: list[str], flag: str, value: str) -> list[str]:
    out, i = [], 0
    found = False
    while i < len(argv):
        if argv[i] == flag:
            out += [flag, value]
            i += 2
            found = True
            continue
        if argv[i].startswith(flag + "="):
            out.append(f"{flag}={value}")
            found = True
        else:
            out.append(argv[i])
        i += 1
    return out if found else [*out, flag, value]


def _drop(argv: list[str], flag: str, *, values: bool) -> list[str]:
    out, i = [], 0
    while i < len(argv):
        token = argv[i]
        if token == flag:
            i += 1
            while values and i < len(argv) and not argv[i].startswith("--"):
                i += 1
            continue
        if not token.startswith(flag + "="):
            out.append(token)
        i += 1
    return out


def router_argv(rendered: list[str], *, executable: str, port: int, metrics_port: int) -> tuple[list[str], list[str]]:
    """The router container's argv for loopback, and what was substituted (one line each)."""
    notes = []
    argv = [executable, *rendered[1:]]
    notes.append(f"router: {rendered[0]!r} -> {executable}")
    host = (_flag_values(argv, "--host") or ["127.0.0.1"])[0]
    if host != "127.0.0.1":
        argv = _replace_value(argv, "--host", "127.0.0.1")
        notes.append(f"router: --host {host} -> 127.0.0.1")
    old = (_flag_values(argv, "--port") or ["30000"])[0]
    argv = _replace_value(argv, "--port", str(port))
    notes.append(f"router: --port {old} -> {port}")
    if "--service-discovery" in argv:
        dropped = [t for t in argv if t.startswith("--service-discovery") or t == "--selector"]
        argv = _drop(argv, "--service-discovery", values=False)
        argv = _drop(argv, "--selector", values=True)
        for flag in DISCOVERY_FLAGS_WITH_VALUE:
            argv = _drop(argv, flag, values=True)
        notes.append(f"router: {' '.join(dropped)} dropped (no Kubernetes API): workers registered by POST /workers")
    old_host = (_flag_values(argv, "--prometheus-host") or ["(default)"])[0]
    old_port = (_flag_values(argv, "--prometheus-port") or ["(default)"])[0]
    argv = _replace_value(_replace_value(argv, "--prometheus-host", "127.0.0.1"), "--prometheus-port", str(metrics_port))
    notes.append(f"router: --prometheus-host {old_host} --prometheus-port {old_port} -> 127.0.0.1:{metrics_port}")
    return argv, notes


def teams(conf: str) -> list[Team]:
    """Each team of nginx.conf (`map $gateway_team $team_<zone> { "<name>" ... }`) with its limits."""
    found = []
    for zone, name in re.findall(r'map \$gateway_team \$team_(\w+) \{ "([^"]+)"', conf):
        rate = re.search(rf"limit_req_zone \$team_{zone} zone=rate_{zone}:\S+ rate=(\S+);", conf)
        burst = re.search(rf"limit_req zone=rate_{zone} burst=(\d+)", conf)
        conn = re.search(rf"limit_conn conn_{zone} (\d+);", conf)
        if rate is None or burst is None:
            raise PlanError(f"nginx.conf has team {name!r} without its limit_req_zone/limit_req lines")
        found.append(Team(name, rate.group(1), int(burst.group(1)), int(conn.group(1)) if conn else None))
    if not found:
        raise PlanError("nginx.conf maps no team ($gateway_team): nothing to authenticate with")
    return found


def _sub(text: str, old: str, new: str, what: str) -> str:
    if old not in text:
        raise PlanError(f"nginx.conf has no {old!r} ({what}); the harness must learn the new shape")
    return text.replace(old, new)


def plan(manifests: list[dict[str, Any]], *, work: Path, ports: dict[str, int], router_executable: str,
         keys_text: Callable[[list[str]], str]) -> GatewayPlan:
    """Everything needed to run the rendered gateway on loopback. `ports` has "proxy", "router" and
    "metrics" (and "hold_metrics" when the render has NGINX's held-request port); `keys_text(team names)` makes
    keys.conf's text."""
    deployment, config_map, _secret = gateway_objects(manifests)
    proxy = container(deployment, command="nginx")
    router = container(deployment, command="vllm-router")
    notes: list[str] = []

    rendered_router = [*(router.get("command") or []), *(router.get("args") or [])]
    argv, router_notes = router_argv(rendered_router, executable=router_executable, port=ports["router"],
                                     metrics_port=ports["metrics"])
    rendered_port = (_flag_values(rendered_router, "--port") or ["30000"])[0]
    selector = dict(item.split("=", 1) for item in _flag_values(rendered_router, "--selector"))
    namespace = (_flag_values(rendered_router, "--service-discovery-namespace") or [None])[0]
    discovery_port = (_flag_values(rendered_router, "--service-discovery-port") or [None])[0]

    conf = config_map["data"]["nginx.conf"]
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"].get("volumes", [])}
    files: dict[str, str] = {}
    keys_path: Path | None = None
    # Longest mount path first, so /etc/gateway/keys is not rewritten through a shorter prefix; through
    # placeholders, so a local path that itself contains a mount path (a clone under /tmp) stays intact.
    mounts = sorted(proxy.get("volumeMounts", []), key=lambda m: -len(m["mountPath"]))
    for i, mount in enumerate(mounts):
        conf = conf.replace(mount["mountPath"].rstrip("/") + "/", f"\0mount{i}\0/")
    for i, mount in enumerate(mounts):
        local = work / mount["name"]
        volume = volumes[mount["name"]]
        conf = conf.replace(f"\0mount{i}\0/", str(local) + "/")
        notes.append(f"proxy: mount {mount['mountPath']} ({_volume_kind(volume)}) -> {local}")
        if "configMap" in volume:
            files.update({str(local / key): text for key, text in config_map["data"].items()})
        if "secret" in volume:
            keys_path = local
    if keys_path is None:
        raise PlanError("the proxy container mounts no Secret: where would its keys come from?")
    port_spec = next((p for p in proxy.get("ports", []) if p.get("name") == "http"), (proxy.get("ports") or [{}])[0])
    listen = port_spec.get("containerPort")
    conf = _sub(conf, f"listen {listen};", f"listen 127.0.0.1:{ports['proxy']};", "the proxy's listen port")
    notes.append(f"proxy: listen {listen} -> 127.0.0.1:{ports['proxy']}")
    held_spec = next((p for p in proxy.get("ports", []) if p.get("name") == HOLD_METRICS_PORT_NAME), None)
    hold_metrics_port = None
    if held_spec is not None:
        hold_metrics_port = ports["hold_metrics"]
        conf = _sub(conf, f"listen {held_spec['containerPort']};", f"listen 127.0.0.1:{hold_metrics_port};",
                    "NGINX's held-request metrics port")
        notes.append(f"proxy: listen {held_spec['containerPort']} ({HOLD_METRICS_PORT_NAME}) -> 127.0.0.1:{hold_metrics_port}")
    conf = _sub(conf, f"127.0.0.1:{rendered_port};", f"127.0.0.1:{ports['router']};", "the router upstream")
    notes.append(f"proxy: upstream 127.0.0.1:{rendered_port} -> 127.0.0.1:{ports['router']}")
    team_list = teams(conf)
    files[str(keys_path / "keys.conf")] = keys_text([t.name for t in team_list])
    notes.append(f"proxy: keys.conf ([secret] in the render) -> the builder's text with a fresh key for {[t.name for t in team_list]}")

    proxy_argv = [*(proxy.get("command") or []), *(proxy.get("args") or [])]
    proxy_argv = [_local_config(a, proxy, work) for a in proxy_argv]
    context = proxy.get("securityContext") or {}
    user = (int(context["runAsUser"]), int(context.get("runAsGroup", context["runAsUser"]))) if "runAsUser" in context else None
    files[str(work / "config" / "nginx.conf")] = conf  # the rewritten text replaces the ConfigMap's copy
    return GatewayPlan(router_argv=argv, router_port=ports["router"], metrics_port=ports["metrics"],
                       proxy_argv=proxy_argv, proxy_port=ports["proxy"], hold_metrics_port=hold_metrics_port, proxy_user=user, nginx_conf=conf,
                       files=files, keys_path=keys_path / "keys.conf", teams=team_list, selector=selector,
                       discovery_namespace=namespace, discovery_port=int(discovery_port) if discovery_port else None,
                       substitutions=router_notes + notes)


def _volume_kind(volume: dict[str, Any]) -> str:
    for kind in ("configMap", "secret", "emptyDir"):
        if kind in volume:
            return kind
    return "volume"


def _local_config(arg: str, proxy: dict[str, Any], work: Path) -> str:
    for mount in proxy.get("volumeMounts", []):
        prefix = mount["mountPath"].rstrip("/") + "/"
        if arg.startswith(prefix):
            return str(work / mount["name"] / arg[len(prefix):])
    return arg


def matches(selector: dict[str, str], namespace: str | None, pod_labels: dict[str, str], pod_namespace: str) -> bool:
    """Whether discovery with `selector` (and `namespace`, None = all) would pick a pod with these labels."""
    return (namespace is None or namespace == pod_namespace) and all(pod_labels.get(k) == v for k, v in selector.items())
