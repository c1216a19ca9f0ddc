"""Open WebUI (its published PyPI package, in .venv-webui) on loopback, in front of the gateway.

`webui_env` is pure (tested in tests/e2e/ without Open WebUI): the environment the stage starts
`open-webui serve` with. Every variable is read by open-webui 0.12.4 (PyPI wheel, files named):
- OFFLINE_MODE=true: sets HF_HUB_OFFLINE=1 and turns the version check and the embedding, reranking
  and whisper model auto-updates off (open_webui/env.py "OFFLINE_MODE", open_webui/config.py).
- ENABLE_OLLAMA_API=false, ENABLE_OPENAI_API=true, OPENAI_API_BASE_URLS / OPENAI_API_KEYS (';'-separated,
  one key per URL: open_webui/config.py): the one connection is the gateway, with a team key.
- OPENAI_API_CONFIGS (JSON, open_webui/config.py): connection "0" with `model_ids` lists the models
  without asking the connection's /models (open_webui/routers/openai.py get_all_models_responses).
  Set only when the rendered Deployment sets it.
- WEBUI_ADMIN_EMAIL / WEBUI_ADMIN_PASSWORD / WEBUI_ADMIN_NAME: the admin account is created at
  startup when no user exists, and signup is then switched off (open_webui/main.py lifespan,
  open_webui/utils/auth.py create_admin_user).
- ENABLE_SIGNUP=false (open_webui/config.py), WEBUI_SECRET_KEY (open_webui/env.py; without it
  `serve` writes a key file, open_webui/__init__.py), DATA_DIR (its SQLite database, uploads);
  HOME (caches) next to it rather than the pod's /tmp, which this machine shares.
- DEFAULT_MODEL_METADATA comes from the render (components/_open_webui_objects.py): built-in tools off unless
  openWebui.builtinTools. With them on, their schemas (20.9k characters) would also overflow the stand-in model's
  16384-token context, since its 512-token vocabulary (boot/tiny_model.py) spends a token on very few characters.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from e2e.check import Check
from e2e.servers import HOST, ROOT, Server, free_port, http, tail

STAGE = "gateway"
WEBUI_VENV = ROOT / ".venv-webui"
GATEWAY_VENV = ROOT / ".venv-gateway"
ANSWER_TIMEOUT_S = 180   # per answer in the browser: a short completion on the CPU build, 2 shared cores
BROWSER_TIMEOUT_S = 600
BOOT_TIMEOUT_S = 300     # first start: imports (torch, transformers), database migrations; ~60-120 s here
STOP_TIMEOUT_S = 20


def webui_env(*, gateway_url: str, api_key: str, admin_email: str, admin_password: str, secret_key: str,
              data_dir: Path, rendered: dict[str, str] | None = None) -> dict[str, str]:
    """Open WebUI's environment: the rendered Deployment's plain values first (`rendered`), then the
    loopback substitutions (the gateway's URL, the key, the admin credentials, the data folder)."""
    env = dict(rendered or {})
    env.update({
        "OFFLINE_MODE": "true",
        "ENABLE_OLLAMA_API": "false",
        "ENABLE_OPENAI_API": "true",
        "OPENAI_API_BASE_URLS": gateway_url,
        "OPENAI_API_KEYS": api_key,
        "WEBUI_ADMIN_EMAIL": admin_email,
        "WEBUI_ADMIN_PASSWORD": admin_password,
        "WEBUI_ADMIN_NAME": "Admin",
        "ENABLE_SIGNUP": "false",
        "WEBUI_SECRET_KEY": secret_key,
        "DATA_DIR": str(data_dir),
        "HOME": str(data_dir.parent / "home"),
        # No outside traffic: chromadb's telemetry is off in Open WebUI's client already
        # (open_webui/retrieval/vector/dbs/chroma.py anonymized_telemetry False); these are belt and braces.
        "ANONYMIZED_TELEMETRY": "false",
        "DO_NOT_TRACK": "true",
        "SCARF_NO_ANALYTICS": "true",
        "HF_HUB_OFFLINE": "1",
    })
    return env


@dataclass
class WebUi:
    port: int
    env: dict[str, str]
    log: Path
    team: str = ""
    env_source: str = ""
    email: str = ""
    password: str = ""
    proc: subprocess.Popen[bytes] | None = None
    boot_seconds: float | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        Path(self.env["DATA_DIR"]).mkdir(parents=True, exist_ok=True)
        env = {"PATH": f"{WEBUI_VENV / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}", **self.env}
        Path(env["HOME"]).mkdir(parents=True, exist_ok=True)
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([str(WEBUI_VENV / "bin" / "open-webui"), "serve", "--host", HOST,
                                          "--port", str(self.port)], env=env, cwd=self.log.parent, stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)

    def wait_healthy(self, timeout: float = BOOT_TIMEOUT_S) -> str | None:
        """None once /health answers 200; else why not, with the log's tail."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            assert self.proc is not None
            if self.proc.poll() is not None:
                return f"exited {self.proc.returncode}\n{tail(self.log)}"
            if http("GET", self.url + "/health", timeout=5)[0] == 200:
                self.boot_seconds = time.monotonic() - started
                return None
            time.sleep(2)
        return f"/health not answering after {timeout:.0f}s\n{tail(self.log)}"

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=STOP_TIMEOUT_S)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def rendered_env(manifests: list[dict[str, Any]]) -> dict[str, str]:
    """Plain env of the rendered Open WebUI container; its valueFrom entries (the Secret's gateway
    key, admin password and secret key) are supplied by the stage."""
    for obj in manifests:
        if obj.get("kind") != "Deployment":
            continue
        for c in obj["spec"]["template"]["spec"]["containers"]:
            if "open-webui" in c.get("image", ""):
                return {e["name"]: str(e["value"]) for e in c.get("env", []) if "value" in e}
    return {}


def start_webui(manifests: list[dict[str, Any]], gateway_url: str, keys: dict[str, str], team: str,
                work: Path) -> tuple[WebUi | None, str]:
    """Open WebUI started (not yet healthy) with the rendered env and `team`'s key; or why not."""
    if team not in keys:
        return None, f"Open WebUI's team {team!r} has no key; teams: {sorted(keys)}"
    rendered = rendered_env(manifests)
    email = rendered.get("WEBUI_ADMIN_EMAIL", "admin@example.com")
    password = secrets.token_urlsafe(16)
    env = webui_env(gateway_url=gateway_url, api_key=keys[team], admin_email=email, admin_password=password,
                    secret_key=secrets.token_hex(32), data_dir=work / "data", rendered=rendered)
    source = (f"rendered ({len(rendered)} plain values) + the stage's substitutions" if rendered
              else "the stage's own (no Open WebUI Deployment rendered)")
    webui = WebUi(port=free_port(), env=env, log=work / "serve.log", team=team, env_source=source, email=email, password=password)
    webui.start()
    return webui, ""


def finished_requests(server: Server) -> float:
    """vLLM's own count of requests it finished (vllm:request_success_total, every label summed)."""
    status, text = server.get("/metrics")
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("vllm:request_success_total")) if status == 200 else -1.0


def browse(webui: WebUi, servers: list[Server], screenshot: Path) -> list[Check]:
    """e2e/browser.py in .venv-gateway against the running Open WebUI: one check per browser step, then
    each model's server must have finished requests meanwhile (vLLM's own counter)."""
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    spec = {"url": webui.url, "email": webui.email, "password": webui.password, "models": [s.served_name for s in servers],
            "prompt": "Say hello in one short sentence.", "screenshot": str(screenshot), "timeout": ANSWER_TIMEOUT_S}
    started = time.monotonic()
    before = [finished_requests(s) for s in servers]
    try:
        result = subprocess.run([str(GATEWAY_VENV / "bin" / "python"), "-m", "e2e.browser", json.dumps(spec)],
                                cwd=ROOT, capture_output=True, text=True, timeout=BROWSER_TIMEOUT_S,
                                env={**os.environ, "SE_OFFLINE": "true"})
        output, errors = result.stdout, result.stderr
    except subprocess.TimeoutExpired as error:
        output = error.stdout.decode() if isinstance(error.stdout, bytes) else (error.stdout or "")
        errors = f"timed out after {BROWSER_TIMEOUT_S}s"
    steps = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    checks = [Check(STAGE, f"browser: {step['step']}", bool(step["ok"]), step.get("detail", "")) for step in steps]
    if not steps or steps[-1]["step"] != "screenshot":
        checks.append(Check(STAGE, "browser: session ran to the screenshot", False, errors.strip()[-400:]))
    else:
        checks[-1].detail += f" ({time.monotonic() - started:.0f}s in the browser)"
    after = [finished_requests(s) for s in servers]
    for server, old, new in zip(servers, before, after, strict=True):
        checks.append(Check(STAGE, f"{server.served_name}'s vLLM finished the browser's requests", new > old >= 0,
                            f"vllm:request_success_total {old:.0f} -> {new:.0f}"))
    return checks
