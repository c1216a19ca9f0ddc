"""Pure builders for the alerts: one PrometheusRule per model and one for the fleet's hardware.

kube-prometheus-stack's Prometheus selects every PrometheusRule in every namespace
(`ruleSelectorNilUsesHelmValues: false`, set by the monitoring stack). Each alert says what is wrong
in words a person on call understands (`summary`) and what to do about it (`description`). Model alerts use the
metric names the model's vLLM version exports (components/_promql.py); one the version cannot express
is left out, and `skipped_alerts` says which and why. `promtool test rules` cases live in
tests/promtool/ and fire each alert at least once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..config.accelerators import ACCELERATORS, AcceleratorKind
from ..config.autoscaling import replica_bounds, replicas_key
from ..config.model import ModelConfig
from ..config.monitoring_series import MetricsVersion
from ._labels import recommended_labels
from ._promql import RATE_WINDOW, model_queries

Object = dict[str, Any]

KV_CACHE_THRESHOLD = 0.9
"""Both KV-cache gauges are fractions 0-1 (vllm/v1/metrics/loggers.py: kv_cache_usage_perc '1 means 100 percent')."""


@dataclass(frozen=True)
class Alert:
    name: str
    expr: str | None
    duration: str
    severity: str
    summary: str
    fix: str

    model: str | None = None
    """The model's name, as a rule label: it tells one model's alert from another's in routing and silences."""

    def rule(self) -> Object:
        labels = {"severity": self.severity, **({"model": self.model} if self.model else {})}
        return {"alert": self.name, "expr": self.expr, "for": self.duration, "labels": labels,
                # `summary` and `description`: the annotation names of Prometheus's alerting-rule example
                # (prometheus.io/docs/prometheus/latest/configuration/alerting_rules/), which notification
                # templates conventionally show; the fix goes in the description so it reaches the pager.
                "annotations": {"summary": self.summary, "description": f"What to do: {self.fix}"}}


def _grouped(expr: str | None) -> str | None:
    """`A or B` in parentheses, so a comparison after it applies to both (`or` binds loosest in PromQL)."""
    return f"({expr})" if expr and " or " in expr else expr


def _deployment(model: ModelConfig) -> str:
    return f'namespace="{model.namespace}", deployment="{model.name}"'


def model_alerts(model: ModelConfig, max_replicas: int | None = None, version: MetricsVersion | None = None) -> list[Alert]:
    """Every alert for one model; `expr` is None where its vLLM version exports no series for it.
    `max_replicas` is the most replicas the model may run (its fixed `replicas`, or `autoscaling.maxReplicas`, by default)."""
    q = model_queries(model, version)
    where = f"{model.namespace}/{model.name}"
    top = replica_bounds(model)[1] if max_replicas is None else max_replicas
    kv = _grouped(q.gauge("kv_cache_usage", "max", "namespace, model_name"))
    preempted = _grouped(q.rate("preemptions", "namespace, model_name"))
    waiting = _grouped(q.gauge("requests_waiting", "sum", "namespace, model_name"))
    pods = f'namespace="{model.namespace}", pod=~"{model.name}-[a-z0-9]+-[a-z0-9]+", container="vllm"'
    alerts = [
        Alert("VllmKvCacheNearlyFull", f"{kv} > {KV_CACHE_THRESHOLD}" if kv else None, "10m", "warning",
              f"{where}: the KV cache has been over 90% full for 10 minutes; new requests wait and running ones "
              f"get preempted.",
              "Add replicas, lower maxNumSeqs, lower maxModelLen if requests never need it, or raise "
              "gpuMemoryUtilization if the accelerator has memory to spare (vllm-eks preview shows the budget)."),
        Alert("VllmPreemptionsRising", f"{preempted} > 0" if preempted else None, "5m", "warning",
              f"{where}: vLLM has been preempting requests for 5 minutes: the KV cache cannot hold every running "
              f"request, so some are paused and recomputed, and latency rises.",
              "Lower maxNumSeqs or maxNumBatchedTokens, or add replicas; the KV-cache panel of the model's "
              "dashboard shows how full the cache runs."),
        Alert("VllmQueueGrowingAtMaxReplicas",
              (f"({waiting} > 0) and on() (deriv(({waiting})[10m:1m]) > 0) and on() "
               f"(sum(kube_deployment_status_replicas_available{{{_deployment(model)}}}) >= {top})") if waiting else None,
              "10m", "warning",
              f"{where}: requests have been piling up for 10 minutes while the model already runs its maximum of "
              f"{top} replica(s); callers wait longer and longer.",
              f"Raise the model's {replicas_key(model)} and the node group's maxSize, or move traffic elsewhere; "
              f"check the queue-depth panel of the fleet dashboard."),
        Alert("VllmNoReadyReplica",
              (f"(sum(kube_deployment_status_replicas_available{{{_deployment(model)}}}) == 0) and on() "
               f"(sum(kube_deployment_spec_replicas{{{_deployment(model)}}}) > 0)"),
              f"{model.startup_timeout_seconds}s", "critical",
              f"{where}: no replica has been ready for longer than the model's startup budget "
              f"({model.startup_timeout_seconds}s); every request to it fails.",
              f"kubectl -n {model.namespace} describe deployment {model.name} and the pods' events: an unschedulable "
              f"pod (no free accelerator or node), a failing image pull, or a crash-looping vLLM (see that alert)."),
        Alert("VllmCrashLooping",
              f'max_over_time(kube_pod_container_status_waiting_reason{{{pods}, reason="CrashLoopBackOff"}}[5m]) >= 1',
              "15m", "critical",
              f"{where}: a vLLM container has been restarting over and over for 15 minutes.",
              f"kubectl -n {model.namespace} logs deploy/{model.name} --previous: usually the model does not fit "
              f"(KV cache or max model length), a flag the image's vLLM refuses, or out of memory (raise the "
              f"memory request); vllm-eks preview checks the first two before deploying."),
    ]
    return [Alert(a.name, a.expr, a.duration, a.severity, a.summary, a.fix, model.name) for a in alerts]


_XID = Alert(
    "GpuXidError", "max by (Hostname, gpu) (DCGM_FI_DEV_XID_ERRORS) > 0", "0m", "critical",
    "GPU {{ $labels.gpu }} on {{ $labels.Hostname }} reported XID error {{ $value }}; the driver saw a GPU fault "
    "and the model on it may be returning errors or hanging.",
    "Look the XID code up in NVIDIA's XID catalogue (docs.nvidia.com/deploy/xid-errors); for hardware XIDs "
    "(48, 63, 64, 74, 79, 94, 95) cordon and drain the node and let the node group replace it.")
_NEURON_ECC = Alert(
    "NeuronHardwareError",
    'sum by (instance_id, neuron_device_index) (increase(hardware_ecc_events_total'
    f'{{event_type=~"mem_ecc_uncorrected|sram_ecc_uncorrected"}}[{RATE_WINDOW}])) > 0',
    "0m", "critical",
    "Neuron device {{ $labels.neuron_device_index }} on {{ $labels.instance_id }} reported uncorrectable memory "
    "errors; the model on it may return wrong results or fail.",
    "Cordon and drain the node and let the node group replace the instance; if it recurs on new instances, open "
    "an AWS support case with the instance id.")
_NEURON_EXECUTION = Alert(
    "NeuronExecutionErrors",
    f'sum by (instance_id) (increase(execution_errors_total{{error_type="hardware"}}[{RATE_WINDOW}])) > 0',
    "0m", "critical",
    "The Neuron runtime on {{ $labels.instance_id }} reported hardware execution errors.",
    "Cordon and drain the node and let the node group replace the instance.")

HARDWARE_ALERTS: dict[str, tuple[Alert, ...]] = {
    "nvidia.com/gpu": (_XID,),                                          # the DCGM exporter's metrics
    "aws.amazon.com/neuroncore": (_NEURON_ECC, _NEURON_EXECUTION),      # neuron-monitor's Prometheus exporter
}
"""The hardware alerts per accelerator, by the resource its pods request (config/accelerators.py `resource_name`),
over the metrics of that accelerator's exporter (config/monitoring_series.py EXTERNAL)."""


def fleet_alerts(kinds: Iterable[AcceleratorKind]) -> list[Alert]:
    """The hardware alerts of the accelerators the models run on."""
    present = {ACCELERATORS[kind].resource_name for kind in kinds}
    return [alert for resource, alerts in HARDWARE_ALERTS.items() if resource in present for alert in alerts]


def rule_object(name: str, namespace: str, instance: str, alerts: Sequence[Alert]) -> Object:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": name, "namespace": namespace, "labels": recommended_labels(instance, "alerts")},
        "spec": {"groups": [{"name": name, "rules": [a.rule() for a in alerts if a.expr is not None]}]},
    }


def model_rule_object(model: ModelConfig, max_replicas: int | None = None, version: MetricsVersion | None = None) -> Object:
    return rule_object(f"{model.name}-alerts", model.namespace, model.name, model_alerts(model, max_replicas, version))


def skipped_alerts(model: ModelConfig) -> list[str]:
    version = model_queries(model).version.facts.version
    return [f"{a.name}: vLLM {version} exports no series for it" for a in model_alerts(model) if a.expr is None]


def fleet_rule_object(namespace: str, kinds: Iterable[AcceleratorKind]) -> Object | None:
    alerts = fleet_alerts(kinds)
    return rule_object("vllm-fleet-hardware-alerts", namespace, "fleet", alerts) if alerts else None


def rule_expressions(rule: Object) -> list[str]:
    return [r["expr"] for group in rule["spec"]["groups"] for r in group["rules"]]
