"""Which metric series the dashboards and alerts read, resolved per vLLM version from config/vllm_facts.

A logical series ("KV-cache use") lists the metric names vLLM has registered for it, newest first.
For one model, `resolve` keeps the names its vLLM version registers (the generated table, read from
that version's wheel), so a model on `vllm/vllm-openai:v0.10.2` and one on a current image each get
names their server exports. Where a version registers several (0.10.2 registers both
`vllm:kv_cache_usage_perc` and the deprecated `vllm:gpu_cache_usage_perc`, and its V0 engine only
the latter), the query takes `A or B`, so it returns data whichever engine the image falls back to.

Metrics from outside vLLM (kube-state-metrics, the DCGM exporter, neuron-monitor) are listed in
EXTERNAL with the source that names them; the e2e metrics stage checks every name a rendered query
uses against one of the two.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import ModelConfig
from .sizing.vllm_memory import NEWEST_KNOWN
from .vllm_facts import VllmFacts, facts_for, known_versions, nearest_facts
from .vllm_facts.checks import image_facts

NEWEST_KNOWN_TEXT = str(NEWEST_KNOWN)


@dataclass(frozen=True)
class Series:
    """One logical series, by the names vLLM registered it under over time."""

    title: str
    candidates: tuple[str, ...]
    """Registered names (as `facts.metrics` keys them), newest first."""
    note: str = ""


SERIES: dict[str, Series] = {
    "requests_running": Series("Requests running", ("vllm:num_requests_running",)),
    "requests_waiting": Series("Requests waiting", ("vllm:num_requests_waiting",)),
    "time_to_first_token": Series("Time to first token", ("vllm:time_to_first_token_seconds",)),
    "inter_token_latency": Series(
        "Inter-token latency", ("vllm:inter_token_latency_seconds", "vllm:time_per_output_token_seconds"),
        "renamed in 0.11; 0.10.2 registers both (vllm/v1/metrics/loggers.py: 'Deprecated in 0.11')"),
    "e2e_latency": Series("End-to-end request latency", ("vllm:e2e_request_latency_seconds",)),
    "generation_tokens": Series(
        "Generated tokens", ("vllm:generation_tokens", "vllm:generation_tokens_total"),
        "V1 registers the counter without _total, V0 with it; both are exposed as vllm:generation_tokens_total"),
    "prompt_tokens": Series("Prompt tokens", ("vllm:prompt_tokens", "vllm:prompt_tokens_total")),
    "kv_cache_usage": Series(
        "KV-cache use", ("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"),
        "gpu_cache_usage_perc is gone from 0.11 (vllm-project/vllm#27133); a fraction 0-1 in both"),
    "preemptions": Series("Preemptions", ("vllm:num_preemptions", "vllm:num_preemptions_total")),
    "prefix_cache_hits": Series("Prefix-cache hits", ("vllm:prefix_cache_hits", "vllm:gpu_prefix_cache_hits")),
    "prefix_cache_queries": Series("Prefix-cache queries", ("vllm:prefix_cache_queries", "vllm:gpu_prefix_cache_queries")),
}


@dataclass(frozen=True)
class ExternalMetric:
    name: str
    source: str


_KSM = "kube-state-metrics (kube-prometheus-stack's), docs/metrics/workload/{deployment,pod}-metrics.md"
_DCGM = "NVIDIA/dcgm-exporter etc/default-counters.csv (collected by default)"
_NEURON = ("neuron-monitor-prometheus.py (aws-neuronx-tools, /opt/aws/neuron/bin/): process_neuroncore_counters, "
           "process_execution_stats, process_neuron_hw_counters; the fields they read: aws-neuron/aws-neuron-sdk "
           "neuron-guide/neuron-tools/neuron-monitor-user-guide.rst @ 55c0567e (inference_stats error_summary "
           "'hardware': 'hardware errors such as uncorrectable ECC issues'; hw_counters)")
EXTERNAL: dict[str, ExternalMetric] = {m.name: m for m in (
    ExternalMetric("kube_deployment_status_replicas_available", _KSM),
    ExternalMetric("kube_deployment_spec_replicas", _KSM),
    ExternalMetric("kube_pod_container_status_waiting_reason", _KSM),
    ExternalMetric("kube_pod_container_status_restarts_total", _KSM),
    ExternalMetric("DCGM_FI_DEV_XID_ERRORS", _DCGM + ": gauge, 'Value of the last XID error encountered'"),
    ExternalMetric("DCGM_FI_DEV_GPU_UTIL", _DCGM + ": gauge, 'GPU utilization (in %)'"),
    ExternalMetric("neuroncore_utilization_ratio", _NEURON),
    ExternalMetric("hardware_ecc_events_total", _NEURON + " (event_type mem_ecc_corrected, mem_ecc_uncorrected, "
                                                          "sram_ecc_corrected, sram_ecc_uncorrected)"),
    ExternalMetric("execution_errors_total", _NEURON + " (error_type from neuron-monitor's error_summary)"),
)}

# Which logical series each dashboard panel and alert needs: the e2e stage and the tests read it to
# say what a version without some series loses.
NEEDS: dict[str, tuple[str, ...]] = {
    "panel:requests": ("requests_running", "requests_waiting"),
    "panel:time_to_first_token": ("time_to_first_token",),
    "panel:inter_token_latency": ("inter_token_latency",),
    "panel:e2e_latency": ("e2e_latency",),
    "panel:tokens_per_second": ("generation_tokens", "prompt_tokens"),
    "panel:kv_cache_usage": ("kv_cache_usage",),
    "panel:preemptions": ("preemptions",),
    "panel:prefix_cache_hit_rate": ("prefix_cache_hits", "prefix_cache_queries"),
    "alert:VllmKvCacheNearlyFull": ("kv_cache_usage",),
    "alert:VllmPreemptionsRising": ("preemptions",),
    "alert:VllmQueueGrowingAtMaxReplicas": ("requests_waiting",),
}


@dataclass(frozen=True)
class MetricsVersion:
    """The vLLM version whose metric names a model's queries use, and why that one."""

    facts: VllmFacts
    reason: str


def metrics_version(model: ModelConfig) -> MetricsVersion:
    """The generated table of the model's image's vLLM (config/vllm_facts/checks.py image_facts: the Neuron
    catalog's version, else the tag's, else the nearest older table)."""
    facts, how = image_facts(model)
    if facts is None:  # image_facts always finds a table today; kept total for its declared type
        facts, how = nearest_facts(NEWEST_KNOWN_TEXT), f"no table for {model.image}"
    return MetricsVersion(facts, how or f"vLLM {facts.version} (image {model.image})")


def resolve(key: str, facts: VllmFacts) -> tuple[str, ...]:
    """The exposed base names (a counter with `_total`, a histogram without its suffixes) the version
    registers for a logical series, newest first, without repeats; empty when it has none."""
    names: list[str] = []
    for candidate in SERIES[key].candidates:
        metric = facts.metric_facts.get(candidate)
        if metric is None:
            continue
        base = candidate + "_total" if metric.type == "counter" and not candidate.endswith("_total") else candidate
        if base not in names:
            names.append(base)
    return tuple(names)


def available(need: str, facts: VllmFacts) -> bool:
    """Whether every series a panel or alert needs exists in the version."""
    return all(resolve(key, facts) for key in NEEDS[need])


def reference() -> str:
    """docs/metrics.md: every metric name the dashboards and alerts use, per vLLM version, with its source."""
    versions = [facts_for(v) for v in known_versions()]
    lines = [
        "# Metric names the dashboards and alerts use",
        "",
        "Generated by `python -m vllm_eks.config.monitoring_series > docs/metrics.md` from config/monitoring_series.py",
        "and the per-version tables in config/vllm_facts/data/ (read from each version's wheel by",
        "scripts/generate_vllm_facts.py). A cell lists the exposed series a model on that version is queried with",
        "(several: `A or B`); `-` means the version registers none, and the panel or alert is left out for it.",
        "",
        "| series | " + " | ".join(f"{f.distribution} {f.version}" for f in versions) + " |",
        "|---|" + "---|" * len(versions),
    ]
    for key, series in SERIES.items():
        cells = [", ".join(f"`{n}`" for n in resolve(key, f)) or "-" for f in versions]
        lines.append(f"| {series.title} | " + " | ".join(cells) + " |")
    lines += ["", "Notes: " + "; ".join(f"{s.title}: {s.note}" for s in SERIES.values() if s.note) + ".", "",
              "## Metrics from outside vLLM", "", "| metric | source |", "|---|---|"]
    lines += [f"| `{m.name}` | {m.source} |" for m in EXTERNAL.values()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(reference(), end="")
