"""`promtool test rules` on the rendered alerts: each alert fires on series that show its problem, and stays
quiet on healthy ones. Runs where promtool is installed (scripts/setup-prometheus; CI installs it).

The rules are the builders' output for a model on vLLM 0.10.2 (whose V0 engine exports only
`vllm:gpu_cache_usage_perc`, so the `A or B` form is exercised), a model on 0.26.0, and the fleet's
hardware rules for both accelerator kinds.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from vllm_eks.components import _alert_rules as alert_rules
from vllm_eks.config.accelerators import AcceleratorKind
from vllm_eks.config.model import ModelConfig

PROMTOOL = shutil.which("promtool")
pytestmark = pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed (scripts/setup-prometheus)")

OLD = dict(namespace="team", model_name="old")
NEW = dict(namespace="team", model_name="new")


def _model(name: str, image: str) -> ModelConfig:
    return ModelConfig.model_validate(dict(
        name=name, namespace="team", accelerator="gpu", node_group="gpu", image=image, model="Qwen/Qwen3-8B",
        max_model_len=8192, resources={"cpu": "3", "memory": "24Gi"}))


def _rules() -> dict[str, Any]:
    objects = [alert_rules.model_rule_object(_model("old", "vllm/vllm-openai:v0.10.2")),
               alert_rules.model_rule_object(_model("new", "vllm/vllm-openai:v0.26.0")),
               alert_rules.fleet_rule_object("monitoring", {AcceleratorKind.GPU, AcceleratorKind.NEURON})]
    return {"groups": [group for obj in objects if obj for group in obj["spec"]["groups"]]}


def _series(name: str, labels: dict[str, str], values: str) -> dict[str, str]:
    inner = ", ".join(f'{k}="{v}"' for k, v in labels.items())
    return {"series": f"{name}{{{inner}}}", "values": values}


def _annotations(rules: dict[str, Any], alert: str, model: str | None, labels: dict[str, str], value: str) -> dict[str, str]:
    """The rule's annotations as Prometheus expands them for one alert ({{ $labels.x }}, {{ $value }})."""
    rule = next(r for g in rules["groups"] for r in g["rules"]
                if r["alert"] == alert and r["labels"].get("model") == model)
    def expand(text: str) -> str:
        text = re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels.get(m.group(1), ""), text)
        return text.replace("{{ $value }}", value)
    return {k: expand(v) for k, v in rule["annotations"].items()}


def _case(rules: dict[str, Any], alert: str, model: str | None, at: str, series: list[dict[str, str]],
          labels: dict[str, str], severity: str, value: str = "") -> dict[str, Any]:
    """A test that fires `alert` at `at` with `labels`, and the same series minus one step quiet before it."""
    exp_labels = {**labels, "severity": severity, **({"model": model} if model else {})}
    return {"interval": "1m", "input_series": series, "alert_rule_test": [
        {"eval_time": at, "alertname": alert, "exp_alerts": [
            {"exp_labels": exp_labels, "exp_annotations": _annotations(rules, alert, model, labels, value)}]}]}


def _quiet(alert: str, at: str, series: list[dict[str, str]]) -> dict[str, Any]:
    return {"interval": "1m", "input_series": series,
            "alert_rule_test": [{"eval_time": at, "alertname": alert, "exp_alerts": []}]}


def _tests(rules: dict[str, Any]) -> list[dict[str, Any]]:
    deploy = dict(namespace="team", deployment="old")
    pod = dict(namespace="team", pod="old-5d8f7c9b4-x2x7q", container="vllm", reason="CrashLoopBackOff")
    xid = dict(Hostname="ip-10-0-1-7", gpu="0")
    ecc = dict(instance_id="i-0abc", neuron_device_index="0", event_type="mem_ecc_uncorrected")
    return [
        # 0.10.2 falling back to V0 exports only the deprecated gauge: the `or` must still fire.
        _case(rules, "VllmKvCacheNearlyFull", "old", "12m",
              [_series("vllm:gpu_cache_usage_perc", OLD, "0.95x15")], OLD, "warning"),
        _quiet("VllmKvCacheNearlyFull", "12m", [_series("vllm:gpu_cache_usage_perc", OLD, "0.5x15")]),
        _quiet("VllmKvCacheNearlyFull", "8m", [_series("vllm:kv_cache_usage_perc", NEW, "0.95x15")]),  # not yet 10 minutes
        _case(rules, "VllmKvCacheNearlyFull", "new", "12m",
              [_series("vllm:kv_cache_usage_perc", {**NEW, "engine": "0"}, "0.95x15")], NEW, "warning"),
        _case(rules, "VllmPreemptionsRising", "old", "12m",
              [_series("vllm:num_preemptions_total", OLD, "0+2x20")], OLD, "warning"),
        _quiet("VllmPreemptionsRising", "12m", [_series("vllm:num_preemptions_total", OLD, "5x20")]),
        _case(rules, "VllmQueueGrowingAtMaxReplicas", "old", "25m",
              [_series("vllm:num_requests_waiting", OLD, "0+1x30"),
               _series("kube_deployment_status_replicas_available", deploy, "1x30")], OLD, "warning"),
        _quiet("VllmQueueGrowingAtMaxReplicas", "25m",  # a steady queue is not a growing one
               [_series("vllm:num_requests_waiting", OLD, "3x30"),
                _series("kube_deployment_status_replicas_available", deploy, "1x30")]),
        _case(rules, "VllmNoReadyReplica", "old", "35m",
              [_series("kube_deployment_status_replicas_available", deploy, "0x40"),
               _series("kube_deployment_spec_replicas", deploy, "1x40")], {}, "critical"),
        _quiet("VllmNoReadyReplica", "20m",  # still within the 1800 s startup budget
               [_series("kube_deployment_status_replicas_available", deploy, "0x40"),
                _series("kube_deployment_spec_replicas", deploy, "1x40")]),
        _case(rules, "VllmCrashLooping", "old", "20m",
              [_series("kube_pod_container_status_waiting_reason", pod, "1x30")], pod, "critical"),
        _quiet("VllmCrashLooping", "20m",  # another Deployment's pod whose name starts the same
               [_series("kube_pod_container_status_waiting_reason", {**pod, "pod": "old-two-5d8f7c9b4-x2x7q-extra"}, "1x30")]),
        _case(rules, "GpuXidError", None, "3m", [_series("DCGM_FI_DEV_XID_ERRORS", xid, "0 0 79 79")], xid, "critical", "79"),
        _quiet("GpuXidError", "3m", [_series("DCGM_FI_DEV_XID_ERRORS", xid, "0x5")]),
        _case(rules, "NeuronHardwareError", None, "4m", [_series("hardware_ecc_events_total", ecc, "0 0 1 1 1")],
              {"instance_id": "i-0abc", "neuron_device_index": "0"}, "critical"),
        _quiet("NeuronHardwareError", "4m",  # corrected errors are not alerted on
               [_series("hardware_ecc_events_total", {**ecc, "event_type": "mem_ecc_corrected"}, "0 0 1 1 1")]),
        _case(rules, "NeuronExecutionErrors", None, "4m",
              [_series("execution_errors_total", {"instance_id": "i-0abc", "error_type": "hardware"}, "0 0 2 2 2")],
              {"instance_id": "i-0abc"}, "critical"),
        _quiet("NeuronExecutionErrors", "4m",
               [_series("execution_errors_total", {"instance_id": "i-0abc", "error_type": "model"}, "0 0 2 2 2")]),
    ]


def test_every_alert_has_a_firing_case_and_promtool_passes_them_all(tmp_path: Path):
    rules = _rules()
    tests = _tests(rules)
    fired = {t["alert_rule_test"][0]["alertname"] for t in tests if t["alert_rule_test"][0]["exp_alerts"]}
    assert fired == {r["alert"] for g in rules["groups"] for r in g["rules"]}
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rules, sort_keys=False))
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump({"rule_files": ["rules.yaml"], "evaluation_interval": "1m",
                                                        "tests": tests}, sort_keys=False))
    checked = subprocess.run([PROMTOOL, "check", "rules", "rules.yaml"], cwd=tmp_path, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    result = subprocess.run([PROMTOOL, "test", "rules", "tests.yaml"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_fails_a_case_that_expects_the_wrong_alert(tmp_path: Path):
    # Guards the test above: a wrong expectation must make promtool fail.
    rules = _rules()
    wrong = _quiet("VllmKvCacheNearlyFull", "12m", [_series("vllm:gpu_cache_usage_perc", OLD, "0.95x15")])
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rules))
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump({"rule_files": ["rules.yaml"], "tests": [wrong]}))
    result = subprocess.run([PROMTOOL, "test", "rules", "tests.yaml"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode != 0
