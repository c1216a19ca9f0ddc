"""How long one more replica takes to serve, on a node that is already up and on a node Karpenter launches
for it: the rehearsal's third scenario, and the floor of the autoscaler's windows.

Each term is a constant with its source; estimates say so.
- Noticing: vLLM's gauge is scraped every `monitoring.scrapeIntervalSeconds` (15 s by default), and the HPA
  controller re-reads its metric every 15 s (kube-controller-manager `--horizontal-pod-autoscaler-sync-period`,
  default 15s, kubernetes.io/docs/reference/command-line-tools-reference/kube-controller-manager/; EKS does
  not expose the flag).
- Karpenter batches pending pods for up to 10 s before it launches (settings.md BATCH_MAX_DURATION, default 10s,
  aws/karpenter-provider-aws v1.14.1), then the instance boots and joins: 6 minutes for the Neuron and NVIDIA
  AL2023 AMIs, the rehearsal's estimate for an accelerated managed node (preview/rehearsal/aws_timings.py).
- On the new node the device plugin registers its resource, then the image is pulled (config/startup.py rates).
- Every replica after the first loads from the shared caches: hub weights are already on EFS, Neuron graphs
  already compiled (the compile Job, or the image's own), so a scale-out never downloads or compiles; and on GPUs
  what vLLM rebuilds on a cold start (torch.compile, model-class inspection, Triton kernels: config/cold_start.py)
  is in the model's keyed directory on the namespace's claim, so the new replica starts warm
  (config/startup.py `warm_caches`). The new node changes nothing there: the caches are on EFS, not the node.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import ModelConfig
from .platform.node_groups import NodeGroupConfig
from .startup import DEVICE_PLUGIN_READY_SECONDS, POD_IP_SECONDS, cache_note, minutes, model_startup

HPA_SYNC_SECONDS = 15
KARPENTER_BATCH_SECONDS = 10
NODE_LAUNCH_SECONDS = 6 * 60
"""EC2 launch, accelerated AL2023 boot and kubelet join (estimate, as for an accelerated managed node group)."""
HPA_MAX_PERIOD_SECONDS = 1800
"""HPAScalingPolicy.periodSeconds: "must be greater than zero and less than or equal to 1800 (30 min)"
(k8s.io/api autoscaling/v2 types.go)."""
HPA_MAX_STABILIZATION_SECONDS = 3600
"""HPAScalingRules.stabilizationWindowSeconds: "must be greater than or equal to zero and less than or equal to
3600 (one hour)" (same file)."""


@dataclass(frozen=True)
class ScaleOut:
    model: str
    detect_seconds: float
    warm_node_seconds: float
    """Queue noticed to the new replica Ready, on a node with room and the image."""
    new_node_seconds: float | None
    """The same when Karpenter must launch a node first; None for a managed group, which adds no nodes."""
    load_seconds: float
    pull_seconds: float
    cache_note: str = ""
    """How the persisted caches shorten the load (config/startup.py cache_note), empty where nothing persists."""

    @property
    def serve_seconds(self) -> float:
        """What the autoscaler's windows are sized to: the slower path this group can take."""
        return self.new_node_seconds if self.new_node_seconds is not None else self.warm_node_seconds

    def describe(self) -> str:
        new = "no new nodes (managed group)" if self.new_node_seconds is None else (
            f"new node {minutes(self.new_node_seconds)} (+ batch {KARPENTER_BATCH_SECONDS}s, launch "
            f"{minutes(NODE_LAUNCH_SECONDS)}, device plugin {DEVICE_PLUGIN_READY_SECONDS}s, pull {minutes(self.pull_seconds)})")
        return (f"warm node {minutes(self.warm_node_seconds)} (notice {minutes(self.detect_seconds)}, "
                f"load {minutes(self.load_seconds)}{self.cache_note}); {new}")


def scale_out(model: ModelConfig, group: NodeGroupConfig, scrape_interval_seconds: int = 15) -> ScaleOut:
    startup = model_startup(model, warm_caches=True)
    detect = scrape_interval_seconds + HPA_SYNC_SECONDS
    warm = detect + POD_IP_SECONDS + startup.load_seconds
    new = None
    if group.is_karpenter:
        new = warm + KARPENTER_BATCH_SECONDS + NODE_LAUNCH_SECONDS + DEVICE_PLUGIN_READY_SECONDS + startup.pull_seconds
    return ScaleOut(model.name, detect, warm, new, startup.load_seconds, startup.pull_seconds, cache_note(startup))


@dataclass(frozen=True)
class Windows:
    scale_down_stabilization_seconds: int
    scale_down_period_seconds: int
    note: str


def windows(outlook: ScaleOut) -> Windows:
    """Remove a replica only after the queue stayed low for as long as a new one takes to serve, one at a time per
    that period: a replica removed sooner is one the next burst waits the whole scale-out for. Capped at the HPA
    API's maxima, which a long Neuron start can exceed (said in the note)."""
    serve = int(round(outlook.serve_seconds))
    stabilization = min(serve, HPA_MAX_STABILIZATION_SECONDS)
    period = min(serve, HPA_MAX_PERIOD_SECONDS)
    capped = [name for name, value, cap in (("stabilization", serve, HPA_MAX_STABILIZATION_SECONDS),
                                            ("period", serve, HPA_MAX_PERIOD_SECONDS)) if value > cap]
    note = f"from the predicted scale-out of {minutes(serve)}"
    if capped:
        note += f" ({' and '.join(capped)} capped at the HPA API's maximum)"
    return Windows(stabilization, period, note)
