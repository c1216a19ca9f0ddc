"""The e2e stage: one set of real vLLM CPU servers on loopback, shared by every stage in STAGES.

    .venv/bin/python -m e2e.run [--stage NAME ...] [--keep-going]

Renders the dev stack with the project's own renderer, starts its two Deployments as vLLM CPU
servers on 127.0.0.1 (e2e/servers.py), waits for /health, then runs each stage module in STAGES
(`e2e/<stage>.py` exposes `run(servers) -> list[Check]`) against the same servers. One line per
check, then `N passed, M failed`; every process started here is stopped, even on failure.
Needs the boot venv (scripts/setup-boot); a stage needing more (Prometheus) has its own setup
script that .ci/run calls first.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import time
import traceback
from pathlib import Path

from boot.pod import plan_deployments
from boot.run import home_for_uid, host_fp8_kv, render, template_source, tiny_model
from e2e.check import Check
from e2e.servers import BOOT_VENV, STACK, WORK, Server, plan_servers, started

# Stage modules, run in this order against the same servers. Add yours with one line.
STAGES: list[str] = [
    "serving",
    "metrics",
    "gateway",
    "autoscaling",
]


def _templates(plans: list) -> dict[str, Path]:
    names = {Path(t).name for p in plans for t in [_flag(p.argv, "--chat-template")] if t and not t.lstrip().startswith("{")}
    return {name: template_source(name) for name in names}


def _flag(argv: list[str], flag: str) -> str | None:
    for token in argv:
        if token.startswith(flag + "="):
            return token.split("=", 1)[1]
    return None


def _short(flag: str) -> str:
    return flag if len(flag) <= 40 else flag[:37] + "..."


def run_stage(name: str, servers: list[Server]) -> list[Check]:
    started_at = time.monotonic()
    try:
        module = importlib.import_module(f"e2e.{name}")
        checks: list[Check] = module.run(servers)
    except Exception:  # a broken stage is a failed check, and the other stages still run
        checks = [Check(name, "stage ran", False, traceback.format_exc(limit=5).strip())]
    if not checks:
        checks = [Check(name, "stage ran", False, "the stage returned no checks")]
    print(f"# stage {name}: {len(checks)} checks in {time.monotonic() - started_at:.0f}s", flush=True)
    return checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", action="append", choices=STAGES, help="run only these stages (default: all)")
    args = parser.parse_args(argv)
    # A TERM (CI's timeout, a parent's kill) unwinds through the finally block that stops the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if not (BOOT_VENV / "bin" / "vllm").exists():
        print("e2e: no .venv-boot; run scripts/setup-boot", file=sys.stderr)
        return 2
    total = time.monotonic()
    WORK.mkdir(parents=True, exist_ok=True)
    manifests = render(STACK)
    plans, _skipped = plan_deployments(STACK, manifests, home_for_uid=home_for_uid, host_fp8_kv=host_fp8_kv())
    servers = plan_servers(STACK, manifests, plans, model_dir=tiny_model(), templates=_templates(plans), work=WORK / "servers")
    checks: list[Check] = []
    with started(servers) as failures:
        for server in servers:
            dropped = ", ".join(_short(d.split(" (")[0]) for d in server.dropped) or "none"
            ok = server.boot_seconds is not None
            checks.append(Check("boot", f"{server.deployment} as {server.served_name!r} on :{server.port}", ok,
                                f"{server.boot_seconds:.0f}s, dropped: {dropped}" if ok else "did not answer /health"))
            print(checks[-1].line(), flush=True)
        for failure in failures:
            print("    " + failure.replace("\n", "\n    "), flush=True)
        if not failures:
            for stage in args.stage or STAGES:
                for check in run_stage(stage, servers):
                    checks.append(check)
                    print(check.line(), flush=True)
                    for detail_line in check.details:
                        print("    " + detail_line, flush=True)
    passed = sum(c.ok for c in checks)
    print(f"e2e stage: {time.monotonic() - total:.0f}s")
    print(f"{passed} passed, {len(checks) - passed} failed")
    return 0 if checks and passed == len(checks) else 1


if __name__ == "__main__":
    sys.exit(main())
