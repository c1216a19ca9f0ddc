"""Replay a recorded resource graph as `pulumi up` would run it, with clocks instead of clouds.

The engine starts a resource when every resource it depends on (explicitly, through its inputs, or
through its provider) has finished; a step finishes when its provider's wait is over. AWS steps take
their typical time (aws_timings). Kubernetes steps take one API call plus the await rule of their
kind (await_rules), evaluated against what the rest of the replay says about the cluster: when the
claim's StorageClass and provisioner exist, when the pods of a Deployment get an IP and turn Ready
(model_startup), when a DaemonSet's nodes have joined.

Two scenarios:
- `first up`: a fresh account; every resource is created.
- `models on a running platform`: the platform and the namespaces exist, every VllmModel's objects
  are created (adding a model, or re-creating its objects), which is when a Service meets pods that
  are starting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...config.autoscaling import replica_bounds
from ...config.model import ModelConfig
from ...config.scale_out import KARPENTER_BATCH_SECONDS, NODE_LAUNCH_SECONDS
from ...config.stack import StackConfig
from ..engine import Recording, RegisteredResource
from ..node_match import labels_match, node_labels, tolerated
from . import aws_timings, model_startup
from .await_rules import (
    DEFAULT_PROGRESS_DEADLINE_SECONDS,
    ENDPOINTS_SETTLE_SECONDS,
    INFORMER_RESYNC_SECONDS,
    PROGRESS_DEADLINE_SOURCE,
    AwaitPolicy,
    await_policy,
    claim_ready_phase,
    object_kind,
    service_waits_for_pods,
)

FIRST_UP = "first up"
RUNNING_PLATFORM = "models on a running platform"
MODEL_COMPONENT = "vllm-eks:index:VllmModel"
_PROVISIONING_SECONDS = 5
"""A CSI provisioner creating one volume (an EFS access point) and the PV controller binding it."""
_CSI_ADDONS = {"efs.csi.aws.com": "aws-efs-csi-driver", "ebs.csi.aws.com": "aws-ebs-csi-driver"}


NODE_GROUP_TYPE = "aws:eks/nodeGroup:NodeGroup"


def _is_capacity(resource: RegisteredResource) -> bool:
    """A managed node group, or a Karpenter NodePool (whose nodes start only once pods wait for them)."""
    return resource.type == NODE_GROUP_TYPE or object_kind(resource.inputs) == "karpenter.sh/v1/NodePool"


@dataclass
class Step:
    resource: RegisteredResource
    start: float
    finish: float
    """When `pulumi up` is done with it: ready, or failed at its timeout."""
    ready: float
    """When the object is actually ready (later than `finish` when the await timed out)."""
    cause: str | None = None
    """URN of the step whose finish decided this one's ready time (for the critical path)."""
    policy: AwaitPolicy | None = None
    waited: float = 0.0
    note: str = ""

    @property
    def label(self) -> str:
        return f"{self.resource.type} {self.resource.name}"


@dataclass(frozen=True)
class PredictedTimeout:
    resource: str
    waited_seconds: float
    """How long the wait needs."""
    timeout_seconds: float
    fix: str
    source: str

    def message(self, scenario: str) -> str:
        return (
            f"rehearsal ({scenario}): {self.resource} needs {model_startup.minutes(self.waited_seconds)} "
            f"but its wait ends after {model_startup.minutes(self.timeout_seconds)} ({self.source}); {self.fix}"
        )


@dataclass(frozen=True)
class Endpoint:
    model: str
    first_replica_seconds: float
    all_replicas_seconds: float
    startup: model_startup.ModelStartup


@dataclass
class ScenarioResult:
    name: str
    steps: dict[str, Step] = field(default_factory=dict)
    timeouts: list[PredictedTimeout] = field(default_factory=list)
    endpoints: list[Endpoint] = field(default_factory=list)

    def critical_path(self) -> list[Step]:
        """From the first step to the last one to finish, through the steps that held each up."""
        if not self.steps:
            return []
        last = max(self.steps.values(), key=lambda step: (step.ready, step.label))
        path, seen = [last], {last.resource.urn}
        while path[-1].cause and path[-1].cause in self.steps and path[-1].cause not in seen:
            seen.add(path[-1].cause)
            path.append(self.steps[path[-1].cause])
        return list(reversed(path))

    @property
    def finish_seconds(self) -> float:
        return max((step.finish for step in self.steps.values()), default=0.0)


class _Replay:
    def __init__(self, recording: Recording, stack: StackConfig, scenario: str):
        self.scenario = scenario
        self.stack = stack
        self.result = ScenarioResult(scenario)
        # Sorted, so ties (and the critical path through them) do not depend on registration order.
        self.resources = sorted(
            (r for r in recording.resources if r.custom or r.type in aws_timings.AWS_TIMINGS), key=lambda r: (r.type, r.name, r.urn),
        )
        self.by_urn = {r.urn: r for r in self.resources}
        self.all_by_urn = {r.urn: r for r in recording.resources}
        self.children: dict[str, list[RegisteredResource]] = {}
        for resource in recording.resources:
            if resource.parent:
                self.children.setdefault(resource.parent, []).append(resource)
        self._in_progress: set[str] = set()
        # A program whose VllmModels checked themselves (library mode) and that creates no node group deploys onto
        # an existing cluster's nodes and storage classes: its pods schedule and its claims bind once created.
        self.existing_cluster = bool(recording.library_checks) and not any(
            r.type == "aws:eks/nodeGroup:NodeGroup" for r in recording.resources)
        self._pods: dict[str, tuple[list[tuple[float, float]], str | None]] = {}

    # --- graph -------------------------------------------------------------------------
    def existing(self, resource: RegisteredResource) -> bool:
        if self.scenario == FIRST_UP:
            return False
        parent = resource.parent
        while parent:
            owner = self.all_by_urn.get(parent)
            if owner is None:
                break
            if owner.type == MODEL_COMPONENT:
                return False
            parent = owner.parent
        return True

    def _simulated(self, urn: str) -> list[str]:
        if urn in self.by_urn:
            return [urn]
        found = []
        for child in self.children.get(urn, []):
            found += self._simulated(child.urn)
        return found

    def dependencies(self, resource: RegisteredResource) -> list[str]:
        urns = list(resource.dependencies)
        if resource.provider:
            urns.append(resource.provider.rsplit("::", 1)[0])
        expanded: list[str] = []
        for urn in urns:
            expanded += [u for u in self._simulated(urn) if u != resource.urn]
        return sorted(set(expanded))

    def find(self, predicate: Callable[[RegisteredResource], bool]) -> list[RegisteredResource]:
        return [r for r in self.resources if predicate(r)]

    # --- steps -------------------------------------------------------------------------
    def step(self, urn: str) -> Step:
        if urn in self.result.steps:
            return self.result.steps[urn]
        if urn in self._in_progress:
            raise RuntimeError(f"dependency cycle through {urn}")
        self._in_progress.add(urn)
        resource = self.by_urn[urn]
        start, cause = 0.0, None
        for dep in self.dependencies(resource):
            finished = self.step(dep).finish
            if finished > start:
                start, cause = finished, dep
        if self.existing(resource):
            step = Step(resource, 0.0, 0.0, 0.0, note="exists")
        elif resource.type.startswith("kubernetes:"):
            step = self.kubernetes_step(resource, start, cause)
        elif resource.is_provider:
            step = Step(resource, start, start, start, cause)
        else:
            step = self.aws_step(resource, start, cause)
        self._in_progress.discard(urn)
        self.result.steps[urn] = step
        return step

    def aws_step(self, resource: RegisteredResource, start: float, cause: str | None) -> Step:
        timing = aws_timings.aws_timing(resource.type)
        seconds = timing.typical_seconds
        if resource.type == "aws:eks/nodeGroup:NodeGroup" and str(resource.inputs.get("amiType", "")).endswith(("NEURON", "NVIDIA", "GPU")):
            seconds = aws_timings.ACCELERATED_NODE_GROUP_SECONDS
        if resource.type == "aws:eks/addon:Addon" and resource.inputs.get("addonName") in aws_timings.ADDONS_WITH_PODS:
            seconds = aws_timings.ADDON_WITH_PODS_SECONDS
        return Step(resource, start, start + seconds, start + seconds, cause, note=timing.source)

    def kubernetes_step(self, resource: RegisteredResource, start: float, cause: str | None) -> Step:
        created = start + aws_timings.KUBERNETES_API_CALL_SECONDS
        policy = await_policy(resource.inputs, resource.custom_timeouts)
        ready, ready_cause, note = created, cause, policy.rule.ready_when
        kind = object_kind(resource.inputs)
        if kind == "v1/PersistentVolumeClaim":
            ready, ready_cause, note = self.claim_ready(resource, created)
        elif kind == "apps/v1/Deployment":
            ready, ready_cause, note = self.deployment_ready(resource, created)
        elif kind == "v1/Service" and policy.waits and service_waits_for_pods(resource.inputs):
            ready, ready_cause, note = self.service_ready(resource, created)
        elif kind == "apps/v1/DaemonSet":
            ready, ready_cause, note = self.daemonset_ready(resource, created)
        elif kind == "batch/v1/Job":
            ready, ready_cause, note = self.job_ready(resource, created)
        if not policy.waits:
            return Step(resource, start, created, ready, (ready_cause or cause) if ready > created else cause, policy,
                        note=f"{policy.timeout_from}; {note}")
        waited = ready - created
        finish = ready
        limit = self.wait_limit(resource, policy)
        if limit is not None and waited > limit[0]:
            finish = created + limit[0]
            self.result.timeouts.append(PredictedTimeout(
                limit[2], waited, limit[0], self.fix_for(resource, kind), limit[1],
            ))
        decided_by = (ready_cause or cause) if ready > created else cause
        return Step(resource, start, finish, ready, decided_by, policy, waited, note)

    def wait_limit(self, resource: RegisteredResource, policy: AwaitPolicy) -> tuple[float, str, str] | None:
        """(seconds, source, what) that ends the wait before the object is ready; None: nothing does."""
        label = f"{resource.type} {resource.name}"
        assert policy.timeout_seconds is not None
        if not policy.rule.restarts_on_events:
            return policy.timeout_seconds, f"{policy.timeout_from}; {policy.rule.source}", label
        # A Job: the await's timer restarts on every event, and the informers resync every minute, so a
        # timeout of a minute or more never fires; the Job's own deadline fails it (and with it the step).
        if policy.timeout_seconds < INFORMER_RESYNC_SECONDS:
            return policy.timeout_seconds, f"{policy.timeout_from}; {policy.rule.source}", label
        deadline = (resource.inputs.get("spec") or {}).get("activeDeadlineSeconds")
        if deadline is None:
            return None
        return float(deadline), (
            "the Job controller fails a Job past spec.activeDeadlineSeconds (DeadlineExceeded), and "
            f"{policy.rule.source} fails the step on Failed; its own timeout restarts on every event"
        ), f"activeDeadlineSeconds of {label}"

    # --- what each await waits for -------------------------------------------------------
    def job_ready(self, job: RegisteredResource, created: float) -> tuple[float, str | None, str]:
        """A run-to-completion pod: scheduled like a replica, done when the container exits 0 (for the
        compile Job: once the server it started has compiled, loaded and answered /health)."""
        pods, cause = self.pods(job, created)
        if not pods:
            return created, None, "no pods"
        return max(ready for _, ready in pods), cause, "Complete"

    def after_compile_job(self, deployment: RegisteredResource) -> bool:
        """Whether a compile Job ran before this Deployment (it depends on one): its pods find the caches filled."""
        return any(object_kind(self.by_urn[urn].inputs) == "batch/v1/Job" for urn in self.dependencies(deployment))

    def claim_ready(self, claim: RegisteredResource, created: float) -> tuple[float, str | None, str]:
        class_name = (claim.inputs.get("spec") or {}).get("storageClassName")
        classes = self.find(lambda r: object_kind(r.inputs) == "storage.k8s.io/v1/StorageClass"
                            and (r.inputs.get("metadata") or {}).get("name") == class_name)
        if not classes and self.existing_cluster:
            return created + _PROVISIONING_SECONDS, None, f"Bound by the cluster's own StorageClass {class_name!r}"
        if not classes:
            return float("inf"), None, f"no StorageClass {class_name!r} is registered: never binds"
        storage_class = classes[0]
        class_step = self.step(storage_class.urn)
        mode = storage_class.inputs.get("volumeBindingMode") or "Immediate"
        ready, cause = max(created, class_step.finish), storage_class.urn
        if claim_ready_phase(mode) == "Pending":
            return ready, cause, "Pending once its WaitForFirstConsumer class exists"
        addon_name = _CSI_ADDONS.get(storage_class.inputs.get("provisioner", ""))
        for addon in self.find(lambda r: r.type == "aws:eks/addon:Addon" and r.inputs.get("addonName") == addon_name):
            addon_step = self.step(addon.urn)
            if addon_step.finish > ready:
                ready, cause = addon_step.finish, addon.urn
        return ready + _PROVISIONING_SECONDS, cause, f"Bound once StorageClass {class_name!r} and its provisioner run"

    def model_for(self, obj: dict[str, Any]) -> tuple[int, ModelConfig] | None:
        """The model a Deployment (by name) or its compile Job (by its `app.kubernetes.io/instance` label) serves."""
        metadata = obj.get("metadata") or {}
        name = metadata.get("name")
        if obj.get("kind") == "Job":
            name = (metadata.get("labels") or {}).get("app.kubernetes.io/instance")
        for index, model in enumerate(self.stack.models):
            if model.name == name and model.namespace == metadata.get("namespace"):
                return index, model
        return None

    def pods(self, deployment: RegisteredResource, created: float) -> tuple[list[tuple[float, float]], str | None]:
        """(IP time, Ready time) per replica, and the URN that held the pods up longest."""
        if deployment.urn in self._pods:
            return self._pods[deployment.urn]
        spec = deployment.inputs.get("spec") or {}
        pod = (spec.get("template") or {}).get("spec") or {}
        selector = pod.get("nodeSelector") or {}
        tolerations = pod.get("tolerations") or []
        # The pods run on the first node group that matches their selector and whose taints they
        # tolerate, once its nodes have joined and (for accelerators) the device plugin advertises them.
        placements: list[tuple[float, str | None]] = []
        for group in self.find(_is_capacity):
            labels = node_labels(group.inputs)
            if not labels_match(selector, labels) or not tolerated(group.inputs, tolerations):
                continue
            group_step = self.step(group.urn)
            ready_at, held_by = group_step.finish, group.urn
            pool = group.type != NODE_GROUP_TYPE
            if pool:
                # Karpenter launches a node once the pods wait for one (config/scale_out.py), whether or not the pool existed.
                ready_at = max(group_step.finish, created) + KARPENTER_BATCH_SECONDS + NODE_LAUNCH_SECONDS
                group_step = Step(group, group_step.start, ready_at, ready_at, group_step.cause)
            for plugin in self.find(lambda r: object_kind(r.inputs) == "apps/v1/DaemonSet"
                                    and labels_match(self._pod_selector(r), labels)):  # noqa: B023 (find() runs it now)
                plugin_step = self.step(plugin.urn)
                running = not pool and self.existing(group) and self.existing(plugin)
                advertised = max(group_step.finish, plugin_step.finish) + (0 if running else model_startup.DEVICE_PLUGIN_READY_SECONDS)
                if advertised > ready_at:
                    # The later of the two held the pods up: the nodes, or the plugin's own creation.
                    ready_at, held_by = advertised, plugin.urn if plugin_step.finish > group_step.finish else group.urn
            placements.append((ready_at, held_by))
        schedulable, cause = created, None
        if not placements and not self.existing_cluster:
            schedulable, cause = float("inf"), None  # no node group can run these pods: they stay Pending
        elif not placements:
            pass  # the existing cluster's own nodes
        else:
            earliest, earliest_holder = min(placements, key=lambda p: (p[0], p[1] or ""))
            if earliest > schedulable:
                schedulable, cause = earliest, earliest_holder
        namespace = (deployment.inputs.get("metadata") or {}).get("namespace")
        for volume in pod.get("volumes") or []:
            claim_name = (volume.get("persistentVolumeClaim") or {}).get("claimName")
            for claim in self.find(lambda r: object_kind(r.inputs) == "v1/PersistentVolumeClaim"
                                   and (r.inputs.get("metadata") or {}).get("name") == claim_name  # noqa: B023 (find() runs it now)
                                   and (r.inputs.get("metadata") or {}).get("namespace") == namespace):
                claim_step = self.step(claim.urn)
                if claim_step.ready > schedulable:
                    schedulable, cause = claim_step.ready, claim.urn
        found = self.model_for(deployment.inputs)
        startup = model_startup.model_startup(found[1], cache_filled=self.after_compile_job(deployment)) if found else None
        ip = schedulable + model_startup.POD_IP_SECONDS
        ready = ip + (startup.total_seconds if startup else 60.0)
        replicas = int(spec.get("replicas", 1) or 0)
        if "replicas" not in spec and found:  # autoscaled: the HPA raises the Deployment's 1 to minReplicas
            replicas = replica_bounds(found[1])[0]
        result = ([(ip, ready)] * replicas, cause)
        self._pods[deployment.urn] = result
        return result

    @staticmethod
    def _pod_selector(daemonset: RegisteredResource) -> dict[str, str]:
        template = ((daemonset.inputs.get("spec") or {}).get("template") or {}).get("spec") or {}
        return template.get("nodeSelector") or {}

    def deployment_ready(self, deployment: RegisteredResource, created: float) -> tuple[float, str | None, str]:
        pods, cause = self.pods(deployment, created)
        if not pods:
            return created, None, "no replicas"
        found = self.model_for(deployment.inputs)
        self.check_progress_deadline(deployment, created, min(r for _, r in pods), found)
        if found:
            index, model = found
            startup = model_startup.model_startup(model, cache_filled=self.after_compile_job(deployment))
            self.result.endpoints.append(Endpoint(model.name, min(r for _, r in pods), max(r for _, r in pods), startup))
            if startup.after_pull_seconds > model.startup_timeout_seconds:
                self.result.timeouts.append(PredictedTimeout(
                    f"startup probe of {deployment.type} {deployment.name}", startup.after_pull_seconds,
                    model.startup_timeout_seconds,
                    f"raise models[{index}].startupTimeoutSeconds to at least {int(startup.after_pull_seconds * 1.5)}",
                    "kubelet restarts a container whose startupProbe fails failureThreshold x periodSeconds",
                ))
        return max(r for _, r in pods), cause, "every replica Ready"

    def check_progress_deadline(self, deployment: RegisteredResource, created: float, first_ready: float,
                                found: tuple[int, ModelConfig] | None) -> None:
        """The rollout makes no progress from creating the pods until the first turns Ready; past
        spec.progressDeadlineSeconds the controller marks it ProgressDeadlineExceeded, and `kubectl rollout
        status` fails (Pulumi only warns): await_rules.DEFAULT_PROGRESS_DEADLINE_SECONDS."""
        deadline = (deployment.inputs.get("spec") or {}).get("progressDeadlineSeconds") or DEFAULT_PROGRESS_DEADLINE_SECONDS
        if first_ready - created <= deadline:
            return
        fix = (f"components/_deployment_objects.py sets it from models[{found[0]}].startupTimeoutSeconds; raise that"
               if found else "set spec.progressDeadlineSeconds above the time its pods take to turn Ready")
        self.result.timeouts.append(PredictedTimeout(
            f"progress deadline of {deployment.type} {deployment.name}", first_ready - created, float(deadline), fix,
            PROGRESS_DEADLINE_SOURCE,
        ))

    def service_ready(self, service: RegisteredResource, created: float) -> tuple[float, str | None, str]:
        spec = service.inputs.get("spec") or {}
        namespace = (service.inputs.get("metadata") or {}).get("namespace")
        selector = spec.get("selector") or {}
        targets = self.find(lambda r: object_kind(r.inputs) == "apps/v1/Deployment"
                            and (r.inputs.get("metadata") or {}).get("namespace") == namespace
                            and labels_match(selector, (((r.inputs.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {}))
        settled = created + ENDPOINTS_SETTLE_SECONDS
        pods: list[tuple[float, float]] = []
        target_urn = None
        for deployment in targets:
            deployment_step = self.step(deployment.urn)
            found, _ = self.pods(deployment, deployment_step.start + aws_timings.KUBERNETES_API_CALL_SECONDS)
            pods += found
            target_urn = deployment.urn
        starting = [(ip, ready) for ip, ready in pods if ip <= settled and ready > settled]
        if not starting:
            return settled, None, "endpoints settle before any pod has an IP"
        return max(ready for _, ready in starting) + ENDPOINTS_SETTLE_SECONDS, target_urn, "waits for pods that are starting to turn Ready"

    def daemonset_ready(self, daemonset: RegisteredResource, created: float) -> tuple[float, str | None, str]:
        selector = self._pod_selector(daemonset)
        joined = [g for g in self.find(lambda r: r.type == "aws:eks/nodeGroup:NodeGroup" and labels_match(selector, r.inputs.get("labels") or {}))
                  if self.step(g.urn).finish <= created]
        if not joined:
            return created, None, "no matching node has joined yet: current at once"
        return created + model_startup.DEVICE_PLUGIN_READY_SECONDS, None, "one pod per joined node Ready"

    def fix_for(self, resource: RegisteredResource, kind: str) -> str:
        if kind == "v1/PersistentVolumeClaim":
            return ("order the claim after its StorageClass and CSI driver (ModelNamespaceArgs.claims_depend_on; "
                    "customTimeouts cannot extend this wait)")
        if kind == "v1/Service":
            return "set `pulumi.com/skipAwait: \"true\"` on the Service (components/_deployment_objects.py service_object)"
        if kind == "apps/v1/Deployment":
            found = self.model_for(resource.inputs)
            if found:
                index, _ = found
                return (f"raise models[{index}].startupTimeoutSeconds (the Deployment waits startupTimeoutSeconds x "
                        f"replicas + 10 minutes) or set models[{index}].waitForReady: false")
        return "set customTimeouts or `pulumi.com/timeoutSeconds` on it"


def replay(recording: Recording, stack: StackConfig, scenario: str) -> ScenarioResult:
    run = _Replay(recording, stack, scenario)
    for resource in run.resources:
        run.step(resource.urn)
    return run.result
