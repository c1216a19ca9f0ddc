"""Model replicas that follow the queue: the ScaledObject each autoscaled prod model gets, what it scales on,
its windows against the predicted scale-out, and the Deployment it leaves the count to."""

from __future__ import annotations

import math

import pytest

from tests.conftest import PROJECT_DIR, recording_for
from vllm_eks.config.autoscaling import queue_target
from vllm_eks.config.loader import load_stack_file
from vllm_eks.config.scale_out import scale_out
from vllm_eks.config.validation import validate_stack
from vllm_eks.preview.render import manifests


@pytest.fixture(scope="module")
def prod_objects():
    return {(o["kind"], o["metadata"]["name"]): o for o in manifests(recording_for("prod"))}


@pytest.fixture(scope="module")
def prod_placed():
    return {p.model.name: p for p in validate_stack(load_stack_file(PROJECT_DIR / "Pulumi.prod.yaml")).placed}


AUTOSCALED = ["llama-3-1-8b-neuron", "qwen3-8b-fp8-neuron", "qwen3-32b-fp8"]


@pytest.mark.parametrize("name", AUTOSCALED)
def test_the_trigger_reads_the_models_own_queue_from_prometheus(prod_objects, prod_placed, name):
    trigger = prod_objects[("ScaledObject", name)]["spec"]["triggers"][0]
    served = prod_placed[name].model.resolved_served_model_name
    assert trigger["type"] == "prometheus" and trigger["metricType"] == "AverageValue"
    assert trigger["metadata"]["query"] == f'sum(vllm:num_requests_waiting{{model_name="{served}"}})'
    assert trigger["metadata"]["serverAddress"] == "http://prometheus-operated.monitoring.svc:9090"


@pytest.mark.parametrize("name, waiting", [("llama-3-1-8b-neuron", 8), ("qwen3-8b-fp8-neuron", 1), ("qwen3-32b-fp8", 2)])
def test_the_threshold_is_one_batch_per_replica(prod_objects, prod_placed, name, waiting):
    # maxNumSeqs 8 and 1 on Neuron; on the L40S the KV cache holds 2 full 32768-token sequences, fewer than 256.
    assert queue_target(prod_placed[name]).waiting_per_replica == waiting
    assert prod_objects[("ScaledObject", name)]["spec"]["triggers"][0]["metadata"]["threshold"] == str(waiting)


@pytest.mark.parametrize("name", AUTOSCALED)
def test_scale_down_waits_at_least_the_predicted_time_to_serve_a_new_replica(prod_objects, prod_placed, name):
    placed = prod_placed[name]
    serve = scale_out(placed.model, placed.group).serve_seconds
    behavior = prod_objects[("ScaledObject", name)]["spec"]["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
    assert behavior["scaleDown"]["stabilizationWindowSeconds"] >= min(math.floor(serve), 3600)
    assert behavior["scaleDown"]["policies"] == [{"type": "Pods", "value": 1, "periodSeconds": min(round(serve), 1800)}]


@pytest.mark.parametrize("name", AUTOSCALED)
def test_the_scaled_object_bounds_are_the_configs_and_the_deployment_leaves_the_count_to_it(prod_objects, prod_placed, name):
    spec = prod_objects[("ScaledObject", name)]["spec"]
    bounds = prod_placed[name].model.autoscaling
    assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (bounds.min_replicas, bounds.max_replicas)
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
    assert "replicas" not in prod_objects[("Deployment", name)]["spec"]


def test_a_fixed_model_keeps_its_replicas_and_gets_no_scaled_object(prod_objects):
    assert prod_objects[("Deployment", "llama-3-3-70b")]["spec"]["replicas"] == 1
    assert ("ScaledObject", "llama-3-3-70b") not in prod_objects


def test_each_scaled_object_waits_for_keda_which_installs_its_crd():
    recording = recording_for("prod")
    chart = next(r for r in recording.resources if r.type == "kubernetes:helm.sh/v4:Chart" and "keda" in r.name)
    assert (chart.inputs["chart"], chart.inputs["version"]) == ("keda", "2.20.2")
    for scaled in (r for r in recording.resources if r.inputs.get("kind") == "ScaledObject"):
        assert chart.urn in scaled.dependencies


def test_dev_has_no_autoscaler_at_all():
    types = {r.type for r in recording_for("dev").resources}
    assert "kubernetes:helm.sh/v4:Chart" not in types
    assert not any(o["kind"] in ("ScaledObject", "NodePool") for o in manifests(recording_for("dev")))


def test_every_covered_vllm_version_has_the_queue_gauge_labelled_with_the_served_name():
    from vllm_eks.config.autoscaling import QUEUE_METRIC, SERVED_NAME_LABEL
    from vllm_eks.config.vllm_facts import facts_for, known_versions
    for version in known_versions():
        metric = facts_for(version).metric(QUEUE_METRIC)
        assert metric.type == "gauge" and SERVED_NAME_LABEL in metric.labels, version


def test_an_image_whose_vllm_has_no_queue_gauge_cannot_autoscale(monkeypatch):
    from vllm_eks.config import autoscaling
    from vllm_eks.config.model import ModelConfig
    model = ModelConfig(name="m", accelerator="gpu", node_group="g", image="vllm/vllm-openai:v0.10.2",
                        model="Qwen/Qwen3-8B", autoscaling={"maxReplicas": 2})
    monkeypatch.setattr(autoscaling, "QUEUE_METRIC", "vllm:no_such_gauge")
    assert "registers no vllm:no_such_gauge" in autoscaling.queue_metric_issue(model)


def _kv_model(image: str, target: float = 0.8):
    from vllm_eks.config.model import ModelConfig
    return ModelConfig(name="m", accelerator="gpu", node_group="g", image=image, model="Qwen/Qwen3-8B",
                       autoscaling={"maxReplicas": 3, "kvCacheUsageTarget": target})


def _kv_scaled_object(model):
    from vllm_eks.components._autoscaling_objects import scaled_object
    from vllm_eks.config.autoscaling import QueueTarget
    from vllm_eks.config.scale_out import Windows
    return scaled_object(model, QueueTarget(4, "test"), Windows(600, 300, "test"), "http://prometheus:9090")


@pytest.mark.parametrize("image, metric", [
    # 0.9.1 registers only the old name; 0.10.2 both (the old one deprecated); 0.26.0 on only the new (config/vllm_facts).
    ("vllm/vllm-openai:v0.9.1", "vllm:gpu_cache_usage_perc"),
    ("vllm/vllm-openai:v0.10.2", "vllm:kv_cache_usage_perc"),
    ("vllm/vllm-openai:v0.26.0", "vllm:kv_cache_usage_perc"),
])
def test_a_kv_cache_target_adds_a_second_trigger_on_the_gauge_its_vllm_version_registers(image, metric):
    model = _kv_model(image)
    queue, kv = _kv_scaled_object(model)["spec"]["triggers"]
    assert queue["name"] == "queue" and queue["metricType"] == "AverageValue"
    assert kv["name"] == "kv-cache" and kv["type"] == "prometheus" and kv["metricType"] == "Value"
    assert kv["metadata"]["query"] == f'avg({metric}{{model_name="{model.resolved_served_model_name}"}})'
    assert kv["metadata"]["threshold"] == "0.8"


def test_without_a_kv_cache_target_the_queue_is_the_only_trigger(prod_objects):
    for name in AUTOSCALED:
        assert [t["name"] for t in prod_objects[("ScaledObject", name)]["spec"]["triggers"]] == ["queue"]


def test_a_scaled_object_with_the_kv_cache_trigger_is_valid_against_kedas_crd():
    from tests.crd_schemas import crd_schema, missing_reason, validation_errors
    schema = crd_schema("ScaledObject", "v1alpha1")
    if schema is None:
        pytest.skip(missing_reason("ScaledObject"))
    assert validation_errors(_kv_scaled_object(_kv_model("vllm/vllm-openai:v0.10.2", 0.75)), schema) == []


def test_every_covered_vllm_version_has_a_kv_cache_gauge_labelled_with_the_served_name():
    from vllm_eks.config.autoscaling import kv_cache_metric
    from vllm_eks.config.vllm_facts import facts_for, known_versions
    for version in known_versions():
        metric = kv_cache_metric(facts_for(version))
        assert metric is not None and facts_for(version).metrics[metric] == "gauge", version


def test_an_image_whose_vllm_has_no_kv_cache_gauge_cannot_scale_on_it(monkeypatch):
    from vllm_eks.config import autoscaling
    monkeypatch.setattr(autoscaling, "KV_CACHE_METRICS", ("vllm:no_such_gauge",))
    [issue] = autoscaling.autoscaling_issues(0, _kv_model("vllm/vllm-openai:v0.10.2"))
    assert issue.path == "models[0].autoscaling.kvCacheUsageTarget"
    assert issue.message == ("vLLM 0.10.2 (0.10.2 (image tag 'v0.10.2')) registers no KV-cache use gauge labelled model_name "
                             "(vllm:no_such_gauge); use an image of a vLLM that has one, or remove kvCacheUsageTarget")
    assert [fix.remove for fix in issue.fixes] == [True]
