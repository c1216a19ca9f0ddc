"""pulumi-kubernetes' await rules: what `pulumi up` waits for after it creates an object, and how long.

Every rule here is read from pulumi/pulumi-kubernetes at v4.32.0 (commit 94977969d, the newest
release in the stored source; the installed Python SDK is 4.34.2), files under provider/pkg/:

- await/await.go `Creation`/`Update`: the operation's timeout is `customTimeouts` (create/update),
  else the `pulumi.com/timeoutSeconds` annotation (metadata/overrides.go `TimeoutDuration`), else
  10 minutes; `pulumi.com/skipAwait: "true"` makes every kind ready at once (metadata/overrides.go
  `ReadyCondition`, await.go `newLegacyReadyCondition`). A kind missing from the `awaiters` map
  (await/awaiters.go), such as Namespace, NetworkPolicy, PodDisruptionBudget or a CRD's kind, is
  ready as soon as the API server accepts it (unless PULUMI_K8S_AWAIT_ALL=true).
- await/awaiters.go `untilCoreV1PersistentVolumeClaimReady`: a claim is ready when `Bound`, or,
  when its StorageClass is found and binds `WaitForFirstConsumer`, when `Pending` (#3130, v4.16.0).
  The watch is a fixed `5*time.Minute` and blocks on the provider's own context, so neither
  customTimeouts nor `pulumi.com/timeoutSeconds` changes it ("Timeout occurred polling for ...").
- await/service.go: a Service with a selector (not headless, not ExternalName) is ready when its
  Endpoints have settled (10 s after their last change) with no not-ready address; a LoadBalancer
  also needs an ingress address. `DefaultServiceTimeoutMins = 10`. A Service created before its pods
  have IPs settles empty and passes; one created while they start waits for them to be Ready.
- await/deployment.go: ready when the Deployment is `Available` and its new ReplicaSet has every
  replica ready (and every PVC it mounts is Bound); `DefaultDeploymentTimeoutMins = 10`.
- await/daemonset.go: ready when kstatus computes `Current` (every desired pod updated and ready;
  a DaemonSet whose selector matches no node yet is current at once); `_defaultDaemonSetTimeout = 10m`.
- await/job.go: ready when the Job's `Complete` condition is True; a `Failed` condition (backoffLimit
  reached, or `activeDeadlineSeconds` passed: reason DeadlineExceeded) fails the step at once;
  `DefaultJobTimeoutMins = 10`. Unlike the Deployment's one timer, the Job's is `time.After(timeout)`
  inside the event loop, so it restarts on every Job or pod event; and the informers it subscribes to
  resync every minute (await/informers/factory.go `resyncInterval := 1 * time.Minute`), re-delivering the
  Job as an update, so a timeout above a minute never fires while the Job runs: the hard stop is the
  Job's own `activeDeadlineSeconds`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SKIP_AWAIT = "pulumi.com/skipAwait"
TIMEOUT_SECONDS = "pulumi.com/timeoutSeconds"
DEFAULT_TIMEOUT_SECONDS = 600
"""await.go Creation/Update: `timeout := 10 * time.Minute` unless overridden."""
DEFAULT_PROGRESS_DEADLINE_SECONDS = 600
"""A Deployment's spec.progressDeadlineSeconds when unset (kubernetes pkg/apis/apps/v1/defaults.go)."""
PROGRESS_DEADLINE_SOURCE = (
    "kubernetes pkg/controller/deployment/util/deployment_util.go (DeploymentProgressing: only new, ready or "
    "available replicas count as progress; DeploymentTimedOut past progressDeadlineSeconds), kubectl "
    "pkg/polymorphichelpers/rollout_status.go (\"exceeded its progress deadline\" fails rollout status); "
    "pulumi-kubernetes await/deployment.go only logs the ProgressDeadlineExceeded condition as a warning"
)
INFORMER_RESYNC_SECONDS = 60
"""await/informers/factory.go `resyncInterval := 1 * time.Minute`: every subscribed object comes again as an update."""
ENDPOINTS_SETTLE_SECONDS = 10
"""service.go processEndpointEvent: `time.Sleep(10 * time.Second)` before endpoints count as settled."""
_SOURCE = "pulumi/pulumi-kubernetes v4.32.0 provider/pkg/"


@dataclass(frozen=True)
class AwaitRule:
    kind: str
    """`apiVersion/kind` as the provider keys its awaiters (`v1/Service`)."""
    ready_when: str
    default_timeout_seconds: int | None
    """None for kinds the provider does not wait on."""
    timeout_overridable: bool
    """customTimeouts / pulumi.com/timeoutSeconds set the wait (False: a fixed watch ignores them)."""
    source: str
    restarts_on_events: bool = False
    """The timeout counts from the last event of the object or its pods, not from creation (job.go)."""


AWAIT_RULES: dict[str, AwaitRule] = {
    rule.kind: rule
    for rule in (
        AwaitRule(
            "v1/PersistentVolumeClaim",
            "Bound (or Pending, when its StorageClass exists and binds WaitForFirstConsumer)",
            300, False, _SOURCE + "await/awaiters.go untilCoreV1PersistentVolumeClaimReady (WatchUntil 5*time.Minute)",
        ),
        AwaitRule(
            "v1/Service",
            "endpoints settled 10 s with no not-ready address (LoadBalancer: and an ingress address)",
            600, True, _SOURCE + "await/service.go (DefaultServiceTimeoutMins = 10)",
        ),
        AwaitRule(
            "apps/v1/Deployment",
            "Available, and every replica of the new ReplicaSet ready, and its PVCs Bound",
            600, True, _SOURCE + "await/deployment.go (DefaultDeploymentTimeoutMins = 10)",
        ),
        AwaitRule(
            "apps/v1/DaemonSet",
            "kstatus Current: every desired pod updated and ready (no matching node: at once)",
            600, True, _SOURCE + "await/daemonset.go (_defaultDaemonSetTimeout = 10 * time.Minute)",
        ),
        AwaitRule(
            "batch/v1/Job",
            "Complete (Failed, e.g. DeadlineExceeded past activeDeadlineSeconds, fails at once)",
            600, True, _SOURCE + "await/job.go (DefaultJobTimeoutMins = 10; the timer restarts on each event)",
            restarts_on_events=True,
        ),
    )
}
_NO_AWAIT = AwaitRule(
    "*", "accepted by the API server (no awaiter for this kind)", None, True,
    _SOURCE + "await/awaiters.go awaiters map, metadata/overrides.go ReadyCondition",
)


@dataclass(frozen=True)
class AwaitPolicy:
    """How `pulumi up` treats one registered object."""

    rule: AwaitRule
    skipped: bool
    """`pulumi.com/skipAwait: "true"`: ready as soon as accepted."""
    timeout_seconds: int | None
    """The wait that applies, None when the provider does not wait."""
    timeout_from: str
    """Where the timeout comes from: `default`, `customTimeouts`, the annotation, or `fixed`."""

    @property
    def waits(self) -> bool:
        return not self.skipped and self.rule.default_timeout_seconds is not None


def object_kind(inputs: dict[str, Any]) -> str:
    return f"{inputs.get('apiVersion', '')}/{inputs.get('kind', '')}"


def await_policy(inputs: dict[str, Any], custom_timeouts: dict[str, str], operation: str = "create") -> AwaitPolicy:
    """The await rule, skipAwait and the timeout that apply to an object with these inputs and options."""
    rule = AWAIT_RULES.get(object_kind(inputs), _NO_AWAIT)
    annotations = (inputs.get("metadata") or {}).get("annotations") or {}
    skipped = annotations.get(SKIP_AWAIT) == "true"
    if skipped or rule.default_timeout_seconds is None:
        return AwaitPolicy(rule, skipped, None, "skipAwait" if skipped else "no awaiter")
    if not rule.timeout_overridable:
        return AwaitPolicy(rule, False, rule.default_timeout_seconds, "fixed")
    custom = custom_timeouts.get(operation)
    if custom:
        return AwaitPolicy(rule, False, parse_duration_seconds(custom), f"customTimeouts.{operation}")
    annotated = annotations.get(TIMEOUT_SECONDS)
    if annotated is not None and str(annotated).isdigit():
        return AwaitPolicy(rule, False, int(annotated), TIMEOUT_SECONDS)
    return AwaitPolicy(rule, False, rule.default_timeout_seconds, "default")


def parse_duration_seconds(text: str) -> int:
    """A Pulumi custom timeout string (`40m`, `1h30m`, `90s`) in seconds."""
    total, number = 0, ""
    units = {"h": 3600, "m": 60, "s": 1}
    for char in text.strip():
        if char.isdigit():
            number += char
        elif char in units and number:
            total, number = total + int(number) * units[char], ""
        else:
            raise ValueError(f"{text!r} is not a duration such as '40m' or '1h30m'")
    if number:
        raise ValueError(f"{text!r} has a number without a unit; write it like '40m'")
    return total


def service_waits_for_pods(inputs: dict[str, Any]) -> bool:
    """service.go shouldWaitForPods: not ExternalName, not headless, and with a selector."""
    spec = inputs.get("spec") or {}
    return spec.get("type") != "ExternalName" and spec.get("clusterIP") != "None" and bool(spec.get("selector"))


def claim_ready_phase(binding_mode: str | None) -> str:
    """awaiters.go pvcReady: Pending counts only when the class was found and waits for a consumer."""
    return "Pending" if binding_mode == "WaitForFirstConsumer" else "Bound"
