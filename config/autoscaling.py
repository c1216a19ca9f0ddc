"""Model replicas that follow demand: the `autoscaling` block of a model, the rules around it, and the
queue threshold KEDA scales on.

What scales on what: KEDA (config/charts.py) turns each autoscaled model's ScaledObject into an HPA
whose metric is the model's queue, `sum(vllm:num_requests_waiting{model_name="<served name>"})`, read
from Prometheus; the HPA keeps ceil(queue / target) replicas between minReplicas and maxReplicas.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import Field, ValidationInfo, field_validator

from ._base import ConfigModel
from .accelerators import ACCELERATORS
from .errors import ConfigIssue, Fix, FixableError
from .sizing.vllm_memory import image_vllm_version
from .vllm_facts import VllmFacts, nearest_facts

if TYPE_CHECKING:
    from .model import ModelConfig
    from .placement.records import PlacedModel

QUEUE_METRIC = "vllm:num_requests_waiting"
"""A gauge of requests waiting for a place in the running batch (vllm 0.32.0 vllm/v1/metrics/loggers.py,
PrometheusStatLogger: `name="vllm:num_requests_waiting"`), the metric production-stack scales on."""
SERVED_NAME_LABEL = "model_name"
"""The label vLLM puts the served model name in (same file: `labelnames = ["model_name", "engine"]`,
value `vllm_config.model_config.served_model_name`)."""
KV_CACHE_METRICS = ("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc")
"""The KV-cache use gauge, newest name first: a fraction, "1 means 100 percent usage" (vllm 0.10.2
vllm/v1/metrics/loggers.py registers both, `vllm:gpu_cache_usage_perc` "Deprecated in 0.9 - Renamed as
vllm:kv_cache_usage_perc"; 0.9.1 and 0.7.2 have only the old name, 0.26.0 on only the new: config/vllm_facts)."""
HPA_TOLERANCE = 0.1
"""The HPA acts only when current / target leaves [1 - 0.1, 1 + 0.1] (kube-controller-manager
--horizontal-pod-autoscaler-tolerance, default 0.1: kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/)."""
MAX_KV_CACHE_TARGET = 0.9
"""A usage target above 1 / (1 + HPA_TOLERANCE) = 0.909 could never be exceeded enough to add a replica (usage is at most 1)."""
PROMETHEUS_OPERATED_PORT = 9090
SCALE_TO_ZERO_REFUSAL = (
    "minReplicas 0 leaves no replica to queue requests on: the first request after an idle spell must wait for one to "
    "start (production-stack#1003: scale-to-zero fails whenever the cooldown is shorter than the cold start), and only "
    "the gateway holds requests meanwhile and tells KEDA to wake the model (docs/gateway.md, \"Holding a request while "
    "its model starts\"); turn it on (gateway.enabled, gateway.maxHoldSeconds above 0), or set minReplicas to 1 or more"
)


class AutoscalingConfig(ConfigModel):
    """Replicas that follow the model's queue (a KEDA ScaledObject); the Deployment then has no fixed `replicas`."""

    min_replicas: int = Field(1, ge=0)
    """Fewest replicas, kept even when idle. 0 (scale to zero) only behind the gateway, which holds a request while a
    replica starts and whose count of held requests wakes the model (config/scale_to_zero.py)."""
    max_replicas: int = Field(ge=1)
    """Most replicas; their pods must fit the node group's maxSize (checked), which bounds the cost at peak."""
    kv_cache_usage_target: float | None = None
    """Optional second trigger: the fraction of the KV cache (0 to 0.9) the replicas' average use is held at, so a
    model whose running requests fill its cache scales out before they queue. Off when unset; not on Neuron."""

    @field_validator("kv_cache_usage_target")
    @classmethod
    def _target_can_be_reached(cls, value: float | None) -> float | None:
        if value is None:
            return value
        if value > MAX_KV_CACHE_TARGET:
            raise FixableError(
                f"kvCacheUsageTarget {value:g} can never be exceeded by enough to add a replica: the HPA acts only when the "
                f"use passes the target by its tolerance of {HPA_TOLERANCE:g} (x{1 + HPA_TOLERANCE:g}), and the use is at "
                f"most 1; set it to {MAX_KV_CACHE_TARGET:g} or less", Fix("", MAX_KV_CACHE_TARGET))
        if value <= 0:
            raise FixableError(
                f"kvCacheUsageTarget {value:g} is a fraction of the KV cache in use, above 0 (0.8 holds the replicas' "
                f"average at 80%); set it above 0 and at most {MAX_KV_CACHE_TARGET:g}, or remove it", Fix("", remove=True))
        return value

    @field_validator("max_replicas")
    @classmethod
    def _bounds_are_ordered(cls, value: int, info: ValidationInfo) -> int:
        minimum = info.data.get("min_replicas")
        if minimum is not None and value < minimum:
            raise FixableError(f"maxReplicas {value} is below minReplicas {minimum}; raise maxReplicas to at least {minimum}",
                               Fix("", minimum))
        return value


def replica_bounds(model: ModelConfig) -> tuple[int, int]:
    """(fewest, most) replicas: the autoscaling bounds, or `replicas` twice for a fixed model."""
    if model.autoscaling is None:
        return model.replicas, model.replicas
    return model.autoscaling.min_replicas, model.autoscaling.max_replicas


def replicas_key(model: ModelConfig) -> str:
    """The key that sets the most replicas, for messages."""
    return "replicas" if model.autoscaling is None else "autoscaling.maxReplicas"


def autoscaling_issues(index: int, model: ModelConfig, scraped: bool = True,
                       front_door_holds_requests: bool = False, monitoring: dict[str, Any] | None = None) -> list[ConfigIssue]:
    """`replicas` beside `autoscaling` (two owners of one count), a queue no Prometheus scrapes, and scale to zero
    without a front door."""
    if model.autoscaling is None:
        return []
    path = f"models[{index}]"
    issues = []
    if "replicas" in model.model_fields_set:
        issues.append(ConfigIssue(f"{path}.replicas", (
            f"replicas {model.replicas} and autoscaling both set the replica count, and the autoscaler would undo "
            f"every `pulumi up`; remove replicas and set autoscaling.minReplicas instead"), (Fix(f"{path}.replicas", remove=True),)))
    if not scraped:
        issues.append(ConfigIssue(f"{path}.autoscaling", (
            "KEDA reads the model's queue from Prometheus, which scrapes it only through a ServiceMonitor; "
            "set monitoring.serviceMonitors: true (and run the Prometheus Operator), or remove autoscaling"),
            (Fix("monitoring", {**(monitoring or {}), "serviceMonitors": True}),)))
    metric = queue_metric_issue(model)
    if metric:
        issues.append(ConfigIssue(f"{path}.autoscaling", metric))
    if model.autoscaling.kv_cache_usage_target is not None:
        kv_issue = kv_cache_issue(model)
        if kv_issue:
            issues.append(ConfigIssue(f"{path}.autoscaling.kvCacheUsageTarget", kv_issue,
                                      (Fix(f"{path}.autoscaling.kvCacheUsageTarget", remove=True),)))
    if model.autoscaling.min_replicas == 0 and not front_door_holds_requests:
        issues.append(ConfigIssue(f"{path}.autoscaling.minReplicas", SCALE_TO_ZERO_REFUSAL,
                                  (Fix(f"{path}.autoscaling.minReplicas", 1),)))
    return issues


def queue_metric_issue(model: ModelConfig) -> str | None:
    """The queue gauge and its served-name label, as the image's vLLM version registers them (config/vllm_facts,
    generated from each version's wheel; an image tag without a version takes the nearest covered one)."""
    return served_gauge_issue(model, QUEUE_METRIC, "the gauge KEDA scales on", "remove autoscaling")


def served_gauge_issue(model: ModelConfig, metric: str, role: str, fix: str) -> str | None:
    """`metric` missing from the image's vLLM version, or not labelled with the served name (so a query cannot
    tell this model's series from another's), said with the gauge's `role` and the `fix`."""
    version = image_vllm_version(model.image)
    facts = nearest_facts(str(version.version))
    if metric not in facts.metrics:
        return f"vLLM {facts.version} ({version.describe()}) registers no {metric}, {role}; use an image of a vLLM that has it, or {fix}"
    found = facts.metric(metric)
    if found.labels_complete and SERVED_NAME_LABEL not in found.labels:
        return (f"vLLM {facts.version} labels {metric} with {', '.join(found.labels) or 'nothing'}, not "
                f"{SERVED_NAME_LABEL}, so the query cannot tell this model's series from another's; {fix}")
    return None


def kv_cache_metric(facts: VllmFacts) -> str | None:
    """The KV-cache use gauge this vLLM version registers with the served-name label (newest name first), or None."""
    for name in KV_CACHE_METRICS:
        if name in facts.metrics and SERVED_NAME_LABEL in facts.metric(name).labels:
            return name
    return None


def kv_cache_issue(model: ModelConfig) -> str | None:
    """Why the model cannot scale on KV-cache use: a backend that reserves every sequence's cache up front, or a
    vLLM version without the gauge."""
    traits = ACCELERATORS[model.accelerator]
    if traits.reserves_kv_for_all_sequences:
        # vllm 0.9.1 vllm/worker/neuron_worker.py determine_num_available_blocks: "num_gpu_blocks =
        # self.scheduler_config.max_num_seqs + 1", one block per sequence, "equivalent to schedule without PagedAttention".
        return (f"on {traits.backend_name} the KV cache is reserved up front for maxNumSeqs full-length sequences, so vLLM's "
                f"KV-cache use only counts running sequences, which the queue trigger already follows; remove kvCacheUsageTarget")
    version = image_vllm_version(model.image)
    facts = nearest_facts(str(version.version))
    if kv_cache_metric(facts) is None:
        return (f"vLLM {facts.version} ({version.describe()}) registers no KV-cache use gauge labelled {SERVED_NAME_LABEL} "
                f"({' or '.join(KV_CACHE_METRICS)}); use an image of a vLLM that has one, or remove kvCacheUsageTarget")
    return None


def kv_cache_query(model: ModelConfig) -> str:
    """The replicas' average KV-cache use (a fraction), with the gauge name of the model's vLLM version."""
    return kv_cache_query_for(model.resolved_served_model_name, nearest_facts(str(image_vllm_version(model.image).version)))


def kv_cache_query_for(served_name: str, facts: VllmFacts) -> str:
    """The same query for a served name on a given vLLM version (the end-to-end stage's CPU build)."""
    metric = kv_cache_metric(facts)
    assert metric is not None, "kv_cache_issue refuses a version without the gauge"
    return f'avg({metric}{{{SERVED_NAME_LABEL}="{served_name}"}})'


@dataclass(frozen=True)
class QueueTarget:
    waiting_per_replica: int
    rule: str


def queue_target(placed: PlacedModel) -> QueueTarget:
    """Waiting requests per replica that add a replica: one more batch than a replica runs at once.

    A replica runs at most maxNumSeqs sequences (vLLM's default for this hardware when unset); on a backend
    that pages its KV cache, fewer when the cache holds fewer full-length sequences. A queue of one such batch
    per replica means a whole replica's worth of work is waiting, which one more replica would absorb.
    """
    sizing = placed.sizing
    seqs = sizing.max_num_seqs or 1
    if sizing.sized and not sizing.reserves_all_sequences and 0 < sizing.full_sequences < seqs:
        return QueueTarget(sizing.full_sequences, (
            f"the {sizing.full_sequences} full-length ({sizing.max_model_len}-token) sequences its KV cache holds, "
            f"fewer than maxNumSeqs {seqs}"))
    origin = "vLLM's default " if sizing.max_num_seqs_is_default else ""
    return QueueTarget(seqs, f"{origin}maxNumSeqs {seqs}")


def queue_query(model: ModelConfig) -> str:
    """The PromQL KEDA evaluates: the model's queue summed over its replicas."""
    return f'sum({QUEUE_METRIC}{{{SERVED_NAME_LABEL}="{model.resolved_served_model_name}"}})'


def prometheus_query_url(prometheus_namespace: str) -> str:
    """In-cluster URL of the Prometheus the Prometheus Operator runs: its governing Service `prometheus-operated`
    (prometheus-operator pkg/prometheus/statefulset.go `governingServiceName = "prometheus-operated"`), web port 9090."""
    return f"http://prometheus-operated.{prometheus_namespace}.svc:{PROMETHEUS_OPERATED_PORT}"

