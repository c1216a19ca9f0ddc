"""Scale to zero: when a model may run no replica, and what wakes it and keeps it awake (its ScaledObject's extra
triggers, components/_autoscaling_objects.py).

KEDA 2.20.2 semantics this relies on (kedacore/keda v2.20.2):
- With minReplicaCount 0, KEDA itself scales the Deployment from 0 to 1 when any trigger is active, and back to 0
  only when none has been active for `cooldownPeriod` (pkg/scaling/executor/scale_scaledobjects.go: `currentReplicas
  == 0` and active -> scaleFromZeroOrIdle; inactive and minReplicas 0 -> scaleToZeroOrIdle, "scaled down to 0 only if
  it's passed its cooldown period"; default 300 s, pkg/scaling/executor/scale_executor.go defaultCooldownPeriod).
  Between 1 and max the HPA scales, on every trigger (the largest count wins); its minReplicas is then 1
  (apis/keda/v1alpha1/scaledobject_types.go GetHPAMinReplicas).
- A Prometheus trigger is active when its query's value is above `activationThreshold` (pkg/scalers/prometheus_scaler.go:
  `val > s.metadata.ActivationThreshold`, default 0); an empty result counts as 0 with ignoreNullValues (default true).
What exists while there is no replica: not vLLM's gauges (no pod exports them), but the gateway's count of requests
it holds for the model (components/_gateway_hold.py), scraped from every gateway pod. Hence scale to zero only
behind the gateway, with holding on (config/gateway.holds_requests_from_zero).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .autoscaling import QUEUE_METRIC, SERVED_NAME_LABEL, queue_target, served_gauge_issue
from .errors import ConfigIssue, Fix
from .gateway import GatewayConfig
from .gateway_hold import KEDA_POLLING_SECONDS, hold_time
from .model import ModelConfig
from .placement.records import PlacedModel
from .scale_out import ScaleOut
from .startup import minutes

HELD_METRIC = "vllm_gateway_held_requests"
"""The gateway's gauge of requests it holds per model (components/_gateway_hold.py writes it)."""
HELD_LABEL = "model"
"""Its label with the served model name."""
RUNNING_METRIC = "vllm:num_requests_running"
"""A gauge of requests in the running batch (vllm 0.32.0 vllm/v1/metrics/loggers.py PrometheusStatLogger:
`name="vllm:num_requests_running"`, labels model_name and engine; config/vllm_facts has it for every covered version)."""
KEDA_DEFAULT_COOLDOWN_SECONDS = 300
"""KEDA's default cooldownPeriod (scale_executor.go defaultCooldownPeriod = 5 * 60)."""


@dataclass(frozen=True)
class WakeSignals:
    """The extra triggers of a model whose minReplicas is 0, and its cooldown."""

    held_query: str
    """Requests the gateway holds for the model: above 0 (activationThreshold 0) wakes it from zero."""
    activity_query: str
    """Requests running or waiting on its replicas: above 0 keeps it awake while it serves with nothing queued."""
    activity_per_replica: int
    """Target of the activity trigger for the HPA: a full batch and a queue's worth per replica (maxNumSeqs plus the
    queue target), so it adds a replica when the queue trigger would, and keeps replicas that are busy."""
    cooldown_seconds: int
    """Idle time before 1 -> 0: no shorter than the predicted scale-out (production-stack#1003: scale to zero fails
    whenever the cooldown is shorter than the cold start), nor than KEDA's default."""


def held_query(served_name: str) -> str:
    """Summed over the gateway's pods (each holds and counts its own requests)."""
    return f'sum({HELD_METRIC}{{{HELD_LABEL}="{served_name}"}})'


def activity_query(model: ModelConfig) -> str:
    selector = f'{{{SERVED_NAME_LABEL}="{model.resolved_served_model_name}"}}'
    return f"sum({RUNNING_METRIC}{selector}) + sum({QUEUE_METRIC}{selector})"


def wake_signals(placed: PlacedModel, outlook: ScaleOut) -> WakeSignals | None:
    """None unless the model may scale to zero."""
    model = placed.model
    if model.autoscaling is None or model.autoscaling.min_replicas > 0:
        return None
    seqs = placed.sizing.max_num_seqs or 1
    return WakeSignals(held_query(model.resolved_served_model_name), activity_query(model), seqs + queue_target(placed).waiting_per_replica,
                       max(KEDA_DEFAULT_COOLDOWN_SECONDS, math.ceil(outlook.serve_seconds)))


def running_metric_issue(model: ModelConfig) -> str | None:
    """The running gauge, as the image's vLLM version registers it (config/vllm_facts)."""
    return served_gauge_issue(model, RUNNING_METRIC, "which keeps a model that scales to zero awake while it serves",
                              "set minReplicas to 1 or more")


def scale_to_zero_issues(index: int, model: ModelConfig, front_door_holds_requests: bool) -> list[ConfigIssue]:
    """A model that may scale to zero behind the gateway needs the running gauge that keeps it awake (without the
    gateway, autoscaling_issues refuses minReplicas 0 already)."""
    if model.autoscaling is None or model.autoscaling.min_replicas > 0 or not front_door_holds_requests:
        return []
    problem = running_metric_issue(model)
    path = f"models[{index}].autoscaling.minReplicas"
    return [ConfigIssue(path, problem, (Fix(path, 1),))] if problem else []


def scale_to_zero_warnings(placed: list[PlacedModel], gateway: GatewayConfig, scrape_interval_seconds: int) -> list[str]:
    """A model at zero whose predicted wake-up is longer than the gateway holds a request: the first request after
    an idle spell is answered 503 (with Retry-After) instead of served. Allowed, since a client that retries is
    served, but said, because that request fails."""
    warnings = []
    for index, record in enumerate(placed):
        model = record.model
        if model.autoscaling is None or model.autoscaling.min_replicas > 0:
            continue
        hold = hold_time(record, gateway, scrape_interval_seconds)
        if not hold.capped:
            continue
        bound = "gateway.maxHoldSeconds" if hold.hold_seconds == gateway.max_hold_seconds else "gateway.requestTimeoutSeconds"
        warnings.append(
            f"models[{index}].autoscaling.minReplicas: 0, but waking {model.name!r} from zero is predicted to take "
            f"{minutes(hold.predicted_seconds)} (its scale-out, with KEDA's {KEDA_POLLING_SECONDS} s poll), longer than the gateway holds a "
            f"request ({minutes(hold.hold_seconds)}, {bound}): the first request after an idle spell gets 503 with "
            f"Retry-After {hold.retry_after_seconds}s instead of an answer; set minReplicas: 1, or accept it in acceptedWarnings")
    return warnings
