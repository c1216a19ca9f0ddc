"""CrossGuard policies for vLLM pods, on any stack (ours or not): Deployments, StatefulSets,
DaemonSets, ReplicaSets, Jobs, CronJobs and Pods whose containers run vLLM.

Self-contained (the pack's venv has only pulumi-policy): the accelerator facts are repeated
below and a test in the vllm-eks repository keeps them equal to config/accelerators.py.

Policies, each reporting one violation per offending container with the fix:
- vllm-tolerates-accelerator-taint: a pod requesting an accelerator tolerates the taint its nodes carry.
- vllm-accelerators-match-parallelism: accelerators requested == tensor x pipeline (x data) parallel ranks,
  a whole Neuron device counting the (logical) NeuronCores of its instance family (NEURON_DEVICES).
- vllm-neuron-devices-unchecked (advisory): whole Neuron devices on a family the table does not know.
- vllm-has-probes: readiness and liveness probes, and a startup probe guarding the liveness probe
  (serving workloads: not Jobs and CronJobs, which run to completion).
- vllm-security-baseline: Pod Security Standards "baseline" plus no privilege escalation,
  RuntimeDefault seccomp and all capabilities dropped.
- vllm-no-clear-text-token: tokens and API keys come from a Secret (valueFrom), never a literal.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy


@dataclass(frozen=True)
class Accelerator:
    taint_key: str
    """Taint the accelerator nodes carry (NoSchedule): EKS managed node groups of vllm-eks, and the
    EKS-optimized accelerated AMIs' documented practice."""
    ranks_per_unit: int
    """Parallel ranks one unit of the resource serves; 0: it depends on the instance family (NEURON_DEVICES)."""


NEURON_DEVICE = "aws.amazon.com/neuron"
ACCELERATOR_RESOURCES: dict[str, Accelerator] = {
    "nvidia.com/gpu": Accelerator("nvidia.com/gpu", 1),
    "aws.amazon.com/neuroncore": Accelerator("aws.amazon.com/neuron", 1),
    # A whole Neuron device: how many ranks it serves depends on the instance family (NEURON_DEVICES).
    NEURON_DEVICE: Accelerator("aws.amazon.com/neuron", 0),
}


@dataclass(frozen=True)
class NeuronDevice:
    physical_cores: int
    """NeuronCores on one device."""
    default_lnc: int = 1
    """Physical cores per logical NeuronCore unless NEURON_LOGICAL_NC_CONFIG says otherwise (Trn2 only)."""


# vLLM's Neuron tensor-parallel degree counts (logical) NeuronCores. Inferentia2 and Trainium1 devices hold
# 2 NeuronCore-v2 (AWS Neuron docs, Inferentia2 and Trainium architecture pages). "Every Trainium2 device
# contains eight physical NeuronCore-v3", grouped by the Logical NeuronCore configuration: LNC=2, the
# default, exposes 4 per device, LNC=1 all 8, set by NEURON_LOGICAL_NC_CONFIG (aws-neuron/aws-neuron-sdk
# about-neuron/arch/neuron-features/logical-neuroncore-config.rst @ 732f514). A family not listed here
# (Trn3, whose per-device count this pack does not know) is not refused: vllm-neuron-devices-unchecked says so.
NEURON_DEVICES: dict[str, NeuronDevice] = {
    "inf2": NeuronDevice(2),
    "trn1": NeuronDevice(2),
    "trn1n": NeuronDevice(2),
    "trn2": NeuronDevice(8, default_lnc=2),
}
LNC_VARIABLE = "NEURON_LOGICAL_NC_CONFIG"
# Node labels that name an instance family: this project's, Karpenter's and EKS Auto Mode's.
_FAMILY_LABELS = ("vllm-eks/instance-family", "karpenter.k8s.aws/instance-family", "eks.amazonaws.com/instance-family")
_INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type"

# Pod templates by resource type: the path from the object to its pod spec.
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "kubernetes:core/v1:Pod": ("spec",),
    "kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:ReplicaSet": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}

# Pod Security Standards, baseline profile (https://kubernetes.io/docs/concepts/security/pod-security-standards/,
# "Baseline"): capabilities a container may add.
BASELINE_CAPABILITIES = frozenset({
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
    "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
})

_SECRET_NAME = re.compile(r"(TOKEN|API_KEY|APIKEY|PASSWORD|SECRET)", re.IGNORECASE)
# Hugging Face user access tokens start with `hf_` (https://huggingface.co/docs/hub/security-tokens).
_HF_TOKEN = re.compile(r"\bhf_[A-Za-z0-9]{20,}\b")
_SECRET_FLAGS = ("--api-key", "--hf-token")


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


@dataclass(frozen=True)
class VllmContainer:
    pod: Mapping[str, Any]
    container: Mapping[str, Any]

    @property
    def name(self) -> str:
        return str(self.container.get("name", "?"))

    @property
    def words(self) -> list[str]:
        return [str(word) for word in [*(self.container.get("command") or []), *(self.container.get("args") or [])]]


def is_vllm(container: Mapping[str, Any]) -> bool:
    """Runs vLLM: `vllm serve`, the OpenAI server module, or an image of a vllm repository."""
    words = " ".join(str(w) for w in [*(container.get("command") or []), *(container.get("args") or [])])
    repository = str(container.get("image") or "").split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0]
    return "vllm serve" in words or "vllm.entrypoints" in words or "vllm" in repository


def vllm_containers(resource_type: str, props: Mapping[str, Any]) -> Iterator[VllmContainer]:
    path = POD_SPEC_PATHS.get(resource_type)
    pod = _get(props, *path) if path else None
    if not isinstance(pod, Mapping):
        return
    for container in pod.get("containers") or []:
        if isinstance(container, Mapping) and is_vllm(container):
            yield VllmContainer(pod, container)


def _label(args: ResourceValidationArgs, container: VllmContainer) -> str:
    return f"{args.resource_type.rsplit(':', 1)[-1]} {args.name!r}, container {container.name!r}"


def _accelerators(container: Mapping[str, Any]) -> dict[str, int]:
    resources = container.get("resources") or {}
    found: dict[str, int] = {}
    for section in ("limits", "requests"):
        for key, value in (resources.get(section) or {}).items():
            if key in ACCELERATOR_RESOURCES:
                try:
                    found[key] = max(found.get(key, 0), int(str(value)))
                except ValueError:
                    continue
    return found


def _tolerates(tolerations: list, taint_key: str) -> bool:
    """Kubernetes' toleration matching (core/v1 Toleration): same key, or no key with Exists;
    effect NoSchedule or empty. A value under Equal cannot be checked without the node, so it counts."""
    for toleration in tolerations or []:
        key, operator = toleration.get("key"), toleration.get("operator") or "Equal"
        effect = toleration.get("effect")
        key_matches = key == taint_key or (not key and operator == "Exists")
        if key_matches and effect in (None, "", "NoSchedule"):
            return True
    return False


def check_tolerations(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for container in vllm_containers(args.resource_type, args.props):
        for resource in _accelerators(container.container):
            taint = ACCELERATOR_RESOURCES[resource].taint_key
            if not _tolerates(container.pod.get("tolerations") or [], taint):
                report(f"{_label(args, container)} requests {resource} but the pod does not tolerate the "
                       f"{taint}:NoSchedule taint of the accelerator nodes, so it stays Pending; add the toleration "
                       f"{{key: {taint}, operator: Exists, effect: NoSchedule}}")


def _flag_values(words: list[str]) -> dict[str, str]:
    """`--flag=value` and `--flag value` forms, last one wins (as argparse does)."""
    values: dict[str, str] = {}
    for index, word in enumerate(words):
        if word.startswith("-") and "=" in word:
            flag, value = word.split("=", 1)
            values[flag] = value
        elif word.startswith("-") and index + 1 < len(words) and not words[index + 1].startswith("-"):
            values[word] = words[index + 1]
    return values


def parallel_degree(words: list[str]) -> tuple[int, dict[str, int]]:
    """Ranks one vLLM server runs: tensor x pipeline x data parallel (the local share when
    `--data-parallel-size-local` is given), from its flags; each defaults to 1 (vLLM's engine args)."""
    values = _flag_values(words)

    def size(*flags: str) -> int:
        for flag in flags:
            if values.get(flag, "").isdigit():
                return int(values[flag])
        return 1

    sizes = {
        "tensor": size("--tensor-parallel-size", "-tp"),
        "pipeline": size("--pipeline-parallel-size", "-pp"),
        "data": size("--data-parallel-size-local", "--data-parallel-size", "-dp"),
    }
    return sizes["tensor"] * sizes["pipeline"] * sizes["data"], sizes


def _node_values(pod: Mapping[str, Any], key: str) -> set[str]:
    """What the pod requires of a node label: its nodeSelector, or a required node affinity `In` term."""
    values = {str(pod["nodeSelector"][key])} if key in (pod.get("nodeSelector") or {}) else set()
    terms = _get(pod, "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms") or []
    for term in terms:
        for expression in (term.get("matchExpressions") or []) if isinstance(term, Mapping) else []:
            if expression.get("key") == key and expression.get("operator") == "In":
                values |= {str(value) for value in expression.get("values") or []}
    return values


def instance_family(pod: Mapping[str, Any]) -> str | None:
    """The one EC2 instance family the pod's nodes can be, from its node selector or affinity; None if not one."""
    families = {value.split(".", 1)[0] for value in _node_values(pod, _INSTANCE_TYPE_LABEL)}
    for label in _FAMILY_LABELS:
        families |= _node_values(pod, label)
    return families.pop() if len(families) == 1 else None


def neuron_ranks_per_device(container: VllmContainer) -> int | None:
    """Logical NeuronCores one aws.amazon.com/neuron device gives this container; None for an unknown family."""
    device = NEURON_DEVICES.get(instance_family(container.pod) or "")
    if device is None:
        return None
    lnc = device.default_lnc
    for variable in container.container.get("env") or []:
        if isinstance(variable, Mapping) and variable.get("name") == LNC_VARIABLE and str(variable.get("value")) in ("1", "2"):
            lnc = int(str(variable["value"])) if device.default_lnc > 1 else 1  # LNC applies to Trn2 only
    return device.physical_cores // lnc


def check_accelerator_count(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for container in vllm_containers(args.resource_type, args.props):
        requested = _accelerators(container.container)
        ranks, sizes = parallel_degree(container.words)
        if not requested:
            if ranks > 1:
                report(f"{_label(args, container)} runs {ranks} parallel ranks but requests no accelerator; "
                       f"request {ranks} of {' or '.join(sorted(ACCELERATOR_RESOURCES))} in resources.limits")
            continue
        for resource, count in requested.items():
            per_unit = ACCELERATOR_RESOURCES[resource].ranks_per_unit or neuron_ranks_per_device(container)
            if per_unit is None:
                pass  # a device of an unknown family: vllm-neuron-devices-unchecked (advisory) reports it
            elif count * per_unit != ranks:
                shown = " x ".join(f"{kind} {size}" for kind, size in sizes.items() if size > 1) or "1 rank"
                needed = -(-ranks // per_unit)
                # No device count gives exactly `ranks` when it is not a multiple of the device's cores.
                fix = (f"set {resource} to {needed} or the parallel sizes to match" if needed * per_unit == ranks else
                       f"set the parallel sizes to a multiple of {per_unit} (each {resource} holds {per_unit} ranks)")
                report(f"{_label(args, container)} requests {count} {resource} ({count * per_unit} ranks) but vLLM runs "
                       f"{ranks} ({shown}); {fix}")
            limits = (container.container.get("resources") or {}).get("limits") or {}
            requests = (container.container.get("resources") or {}).get("requests") or {}
            if resource in requests and str(limits.get(resource)) != str(requests[resource]):
                report(f"{_label(args, container)}: {resource} limit {limits.get(resource)} differs from its request "
                       f"{requests[resource]}; extended resources need limit == request")


def check_neuron_family_known(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for container in vllm_containers(args.resource_type, args.props):
        if NEURON_DEVICE in _accelerators(container.container) and neuron_ranks_per_device(container) is None:
            family = instance_family(container.pod)
            what = f"instance family {family!r} is not in this pack's table" if family else "the pod names no single instance family"
            report(f"{_label(args, container)} requests {NEURON_DEVICE} devices, but {what}, so how many NeuronCores "
                   f"(parallel ranks) one device holds is not checked; select {_INSTANCE_TYPE_LABEL} or request "
                   f"aws.amazon.com/neuroncore, which counts cores")


# Workloads that run to completion: no Service routes to them and a liveness restart would only
# start the work again, so the probe rule is for serving workloads (vllm-eks's Neuron compile Job
# runs `vllm serve` until /health answers, then stops, and carries no probes on purpose).
RUN_TO_COMPLETION = frozenset({"kubernetes:batch/v1:Job", "kubernetes:batch/v1:CronJob"})


def check_probes(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type in RUN_TO_COMPLETION:
        return
    for container in vllm_containers(args.resource_type, args.props):
        missing = [probe for probe in ("readinessProbe", "livenessProbe") if not container.container.get(probe)]
        if missing:
            report(f"{_label(args, container)} has no {' or '.join(missing)}; probe vLLM's GET /health so traffic "
                   "waits for a loaded model and a hung server restarts")
        if container.container.get("livenessProbe") and not container.container.get("startupProbe"):
            report(f"{_label(args, container)} has a livenessProbe but no startupProbe: loading weights (and compiling "
                   "Neuron graphs) takes many minutes, so the liveness probe kills the server before it serves; add a "
                   "startupProbe on GET /health with failureThreshold x periodSeconds above the load time")


def check_security(args: ResourceValidationArgs, report: ReportViolation) -> None:
    seen_pods: set[int] = set()
    for container in vllm_containers(args.resource_type, args.props):
        pod, context = container.pod, container.container.get("securityContext") or {}
        label = _label(args, container)
        if id(pod) not in seen_pods:
            seen_pods.add(id(pod))
            shared = [key for key in ("hostNetwork", "hostPID", "hostIPC") if pod.get(key)]
            if shared:
                report(f"{args.resource_type.rsplit(':', 1)[-1]} {args.name!r} sets {', '.join(shared)}: the pod shares the "
                       "node's namespaces (Pod Security baseline forbids it); tensor-parallel workers need only a "
                       "memory-backed emptyDir at /dev/shm")
            host_paths = [v.get("name") for v in pod.get("volumes") or [] if isinstance(v, Mapping) and v.get("hostPath")]
            if host_paths:
                report(f"{args.resource_type.rsplit(':', 1)[-1]} {args.name!r} mounts hostPath volumes {host_paths} "
                       "(Pod Security baseline forbids them); use a PersistentVolumeClaim for caches")
        if context.get("privileged"):
            report(f"{label} is privileged (Pod Security baseline forbids it); the device plugin exposes accelerators "
                   "without privilege, so set securityContext.privileged: false")
        if context.get("allowPrivilegeEscalation") is not False:
            report(f"{label} may escalate privileges; set securityContext.allowPrivilegeEscalation: false")
        added = set((context.get("capabilities") or {}).get("add") or []) - BASELINE_CAPABILITIES
        if added:
            report(f"{label} adds capabilities {sorted(added)} beyond the Pod Security baseline; remove them")
        if "ALL" not in ((context.get("capabilities") or {}).get("drop") or []):
            report(f"{label} keeps the default capabilities (NET_RAW among them); set securityContext.capabilities.drop: [ALL]")
        seccomp = _get(context, "seccompProfile", "type") or _get(pod, "securityContext", "seccompProfile", "type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            report(f"{label} runs without a seccomp profile; set securityContext.seccompProfile.type: RuntimeDefault")
        for port in container.container.get("ports") or []:
            if isinstance(port, Mapping) and port.get("hostPort"):
                report(f"{label} binds hostPort {port['hostPort']} (Pod Security baseline restricts it); reach vLLM through a Service")


def check_tokens(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for container in vllm_containers(args.resource_type, args.props):
        label = _label(args, container)
        for variable in container.container.get("env") or []:
            if not isinstance(variable, Mapping) or "value" not in variable:
                continue
            name, value = str(variable.get("name", "")), str(variable.get("value") or "")
            if (_SECRET_NAME.search(name) and value) or _HF_TOKEN.search(value):
                report(f"{label}: env {name} holds a token in clear text (in the manifest and the Pulumi state); "
                       f"put it in a Secret and use env[].valueFrom.secretKeyRef")
        words = container.words
        for index, word in enumerate(words):
            flag = word.split("=", 1)[0]
            literal = flag in _SECRET_FLAGS and ("=" in word or index + 1 < len(words))
            if literal or _HF_TOKEN.search(word):
                report(f"{label}: {flag if literal else 'an argument'} passes a token on the command line in clear "
                       "text; read it from an environment variable set from a Secret (vLLM reads VLLM_API_KEY, "
                       "huggingface_hub reads HF_TOKEN)")


def _policy(name: str, description: str, validate: Callable[[ResourceValidationArgs, ReportViolation], None]) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(name=name, description=description, validate=validate,
                                    enforcement_level=EnforcementLevel.MANDATORY)


POLICIES = [
    _policy("vllm-tolerates-accelerator-taint",
            "vLLM pods that request an accelerator tolerate the NoSchedule taint of its nodes.", check_tolerations),
    _policy("vllm-accelerators-match-parallelism",
            "vLLM pods request as many accelerators as their tensor x pipeline x data parallel ranks.", check_accelerator_count),
    ResourceValidationPolicy(
        name="vllm-neuron-devices-unchecked",
        description="vLLM pods that request whole Neuron devices name an instance family whose NeuronCores per device is known.",
        validate=check_neuron_family_known, enforcement_level=EnforcementLevel.ADVISORY,
    ),
    _policy("vllm-has-probes",
            "vLLM containers have readiness and liveness probes, and a startup probe for the model load.", check_probes),
    _policy("vllm-security-baseline",
            "vLLM pods meet the Pod Security baseline, drop all capabilities, use RuntimeDefault seccomp "
            "and cannot escalate privileges.", check_security),
    _policy("vllm-no-clear-text-token",
            "vLLM pods take tokens and API keys from Secrets, never as literal values.", check_tokens),
]
