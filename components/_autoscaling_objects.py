"""Pure builders for model autoscaling: a KEDA ScaledObject per autoscaled model, and the KEDA chart's values.

ScaledObject fields: keda.sh/v1alpha1 as the CRD of chart keda 2.20.2 defines them (kedacore/charts
keda/templates/crds/crd-scaledobjects.yaml; checked in tests/components/test_autoscaling.py); the Prometheus
trigger's metadata as keda.sh/docs/scalers/prometheus documents it.
"""

from __future__ import annotations

from typing import Any

from ..config.autoscaling import QueueTarget, kv_cache_query, queue_query, replica_bounds
from ..config.charts import KEDA_CHART
from ..config.model import ModelConfig
from ..config.platform.node_groups import NODE_GROUP_LABEL, SYSTEM_NODE_GROUP_NAME
from ..config.scale_out import Windows
from ..config.scale_to_zero import WakeSignals
from ._deployment_objects import model_labels

Object = dict[str, Any]
QUEUE_TRIGGER = "queue"
KV_CACHE_TRIGGER = "kv-cache"
HELD_TRIGGER = "held"
ACTIVITY_TRIGGER = "activity"


def scaled_object(model: ModelConfig, target: QueueTarget, windows: Windows, prometheus_url: str,
                  wake: WakeSignals | None = None) -> Object:
    """Replicas = ceil(queue / waiting_per_replica) (metricType AverageValue: the HPA divides the query's value by
    the replica count), between the model's bounds; scale-down held back by the scale-out time (config/scale_out.py).
    Scale-up keeps the HPA's default (no stabilization): the desired count follows the queue, so pods still
    starting do not make it overshoot. `wake` (minReplicas 0): the triggers and cooldown of scale to zero."""
    low, high = replica_bounds(model)
    assert model.autoscaling is not None, "only autoscaled models get a ScaledObject"
    body: Object = {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": model.name, "namespace": model.namespace, "labels": model_labels(model)},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": model.name},
            "minReplicaCount": low,
            "maxReplicaCount": high,
            "advanced": {"horizontalPodAutoscalerConfig": {"name": model.name, "behavior": {"scaleDown": {
                "stabilizationWindowSeconds": windows.scale_down_stabilization_seconds,
                "policies": [{"type": "Pods", "value": 1, "periodSeconds": windows.scale_down_period_seconds}],
            }}}},
            "triggers": [_trigger(QUEUE_TRIGGER, "AverageValue", queue_query(model), str(target.waiting_per_replica),
                                  prometheus_url), *_kv_cache_triggers(model, prometheus_url)],
        },
    }
    if wake is not None:
        body["spec"]["cooldownPeriod"] = wake.cooldown_seconds
        body["spec"]["triggers"] += _wake_triggers(wake, target, prometheus_url)
    return body


def _wake_triggers(wake: WakeSignals, target: QueueTarget, prometheus_url: str) -> list[Object]:
    """Scale to zero (config/scale_to_zero.py): the gateway's held requests wake the model (active above 0, the only
    signal that exists with no replica), and its running + waiting requests keep it awake while it serves with an
    empty queue. activationThreshold 0 is KEDA's default, stated. As HPA metrics (1 replica and up), held requests
    count like queued ones, and running + waiting per replica is held at a batch plus a queue's worth."""
    held = _trigger(HELD_TRIGGER, "AverageValue", wake.held_query, str(target.waiting_per_replica), prometheus_url)
    activity = _trigger(ACTIVITY_TRIGGER, "AverageValue", wake.activity_query, str(wake.activity_per_replica), prometheus_url)
    for trigger in (held, activity):
        trigger["metadata"]["activationThreshold"] = "0"
    return [held, activity]


def _trigger(name: str, metric_type: str, query: str, threshold: str, prometheus_url: str) -> Object:
    return {
        "type": "prometheus",
        "name": name,
        "metricType": metric_type,
        "metadata": {
            "serverAddress": prometheus_url,
            "query": query,
            "threshold": threshold,
            # An empty result (no replica scraped yet) counts as 0 rather than an error: KEDA's default, stated.
            "ignoreNullValues": "true",
        },
    }


def _kv_cache_triggers(model: ModelConfig, prometheus_url: str) -> list[Object]:
    """With `autoscaling.kvCacheUsageTarget`: the replicas' average KV-cache use against the target. metricType Value:
    the HPA wants ceil(replicas x average / target) (the HPA algorithm for a Value target), so the average is held
    near the target whatever the replica count; the HPA takes the larger of the two triggers' counts. KEDA's
    Prometheus threshold may be a float (keda.sh/docs/scalers/prometheus)."""
    assert model.autoscaling is not None
    target = model.autoscaling.kv_cache_usage_target
    if target is None:
        return []
    return [_trigger(KV_CACHE_TRIGGER, "Value", kv_cache_query(model), f"{target:g}", prometheus_url)]


def keda_chart_args() -> Object:
    return {"chart": KEDA_CHART.chart, "version": KEDA_CHART.version, "namespace": KEDA_CHART.namespace,
            "repository_opts": {"repo": KEDA_CHART.repository}}


def keda_chart_values() -> Object:
    """KEDA's operator, metrics server and webhooks on the system nodes (top-level `nodeSelector` of the chart's
    values.yaml at 2.20.2 applies to all three)."""
    return {"nodeSelector": {"kubernetes.io/os": "linux", NODE_GROUP_LABEL: SYSTEM_NODE_GROUP_NAME}}
