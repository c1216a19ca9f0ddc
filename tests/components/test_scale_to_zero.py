"""Scale to zero behind the gateway: prod with one model at minReplicas 0 renders a ScaledObject that wakes on the
gateway's held-request gauge, stays awake while the model serves, and cools down no sooner than a replica starts;
without the gateway's hold the same stack is refused (the corpus case pins the message)."""

from __future__ import annotations

import pytest

from tests.conftest import PROJECT_DIR
from vllm_eks.components import _gateway_hold as hold
from vllm_eks.config.autoscaling import QUEUE_METRIC, SCALE_TO_ZERO_REFUSAL
from vllm_eks.config.errors import ConfigError
from vllm_eks.config.gateway_hold import hold_time
from vllm_eks.config.loader import load_stack_file, read_stack_file, validate_stack_config
from vllm_eks.config.scale_out import scale_out
from vllm_eks.config.scale_to_zero import HELD_LABEL, HELD_METRIC, RUNNING_METRIC, running_metric_issue
from vllm_eks.config.startup import minutes
from vllm_eks.config.validation import validate_stack
from vllm_eks.preview.render import manifests
from vllm_eks.preview.runner import run_stack

MODEL = "qwen3-32b-fp8"


def _prod(**gateway: object):
    stack_file = read_stack_file(PROJECT_DIR / "Pulumi.prod.yaml")
    for model in stack_file.values["models"]:
        if model["name"] == MODEL:
            model["autoscaling"]["minReplicas"] = 0
    stack_file.values["gateway"] = {**stack_file.values["gateway"], **gateway}
    return stack_file


@pytest.fixture(scope="module")
def scaled():
    recording = run_stack(PROJECT_DIR, "prod", config=_prod())
    assert recording.error is None, recording.error
    return next(o for o in manifests(recording) if o["kind"] == "ScaledObject" and o["metadata"]["name"] == MODEL)


def test_a_model_behind_the_gateway_may_scale_to_zero_and_wakes_on_the_requests_the_gateway_holds(scaled):
    spec = scaled["spec"]
    assert spec["minReplicaCount"] == 0
    held = next(t for t in spec["triggers"] if t["name"] == "held")
    assert held["metadata"]["query"] == f'sum({HELD_METRIC}{{{HELD_LABEL}="{MODEL}"}})'
    assert held["metadata"]["activationThreshold"] == "0" and held["metadata"]["ignoreNullValues"] == "true"
    # The gauge the trigger reads is the one the gateway's njs script writes, under the same label.
    assert f"'{HELD_METRIC}{{{HELD_LABEL}=\"' + label(model)" in hold.SCRIPT


def test_it_stays_awake_while_requests_run_with_none_waiting(scaled):
    activity = next(t for t in scaled["spec"]["triggers"] if t["name"] == "activity")
    selector = f'{{model_name="{MODEL}"}}'
    assert activity["metadata"]["query"] == f"sum({RUNNING_METRIC}{selector}) + sum({QUEUE_METRIC}{selector})"
    assert activity["metadata"]["activationThreshold"] == "0"
    queue = next(t for t in scaled["spec"]["triggers"] if t["name"] == "queue")
    assert int(activity["metadata"]["threshold"]) > int(queue["metadata"]["threshold"])


def test_its_cooldown_is_no_shorter_than_the_predicted_scale_out(scaled):
    placed = next(p for p in validate_stack(load_stack_file(PROJECT_DIR / "Pulumi.prod.yaml")).placed
                  if p.model.name == MODEL)
    assert scaled["spec"]["cooldownPeriod"] >= scale_out(placed.model, placed.group, 15).serve_seconds


def test_the_scale_to_zero_scaled_object_is_valid_against_kedas_crd(scaled):
    from tests.crd_schemas import crd_schema, missing_reason, validation_errors
    schema = crd_schema("ScaledObject", "v1alpha1")
    if schema is None:
        pytest.skip(missing_reason("ScaledObject"))
    assert validation_errors(scaled, schema) == []


def test_with_holding_off_minreplicas_0_is_refused_with_the_reason():
    with pytest.raises(ConfigError) as refused:
        validate_stack_config(_prod(maxHoldSeconds=0).values)
    assert [(i.path, i.message) for i in refused.value.issues] == [
        (f"models[{_index()}].autoscaling.minReplicas", SCALE_TO_ZERO_REFUSAL)]


def test_models_that_keep_a_replica_get_no_wake_triggers(scaled):
    recording = run_stack(PROJECT_DIR, "prod")
    for obj in manifests(recording):
        if obj["kind"] == "ScaledObject":
            assert "cooldownPeriod" not in obj["spec"] and [t["name"] for t in obj["spec"]["triggers"]] == ["queue"]


def test_every_covered_vllm_version_has_the_running_gauge_labelled_with_the_served_name():
    from vllm_eks.config.model import ModelConfig
    for tag in ("v0.9.1", "v0.10.2", "v0.26.0", "v0.32.0", "v0.34.0"):
        model = ModelConfig(name="m", accelerator="gpu", node_group="g", image=f"vllm/vllm-openai:{tag}",
                            model="Qwen/Qwen3-8B", autoscaling={"minReplicas": 0, "maxReplicas": 2})
        assert running_metric_issue(model) is None, tag


def _index() -> int:
    return [m["name"] for m in read_stack_file(PROJECT_DIR / "Pulumi.prod.yaml").values["models"]].index(MODEL)


def test_a_model_at_zero_that_wakes_slower_than_the_gateway_holds_gets_a_warning_with_the_numbers():
    # prod's qwen3-32b-fp8 wakes onto a new Karpenter node: over 12 minutes, past the 600 s hold.
    validated = validate_stack_config(_prod().values)
    index = _index()
    placed = validated.placed[index]
    assert placed.model.name == MODEL
    expected = hold_time(placed, validated.stack.gateway, 15)
    assert expected.capped and expected.hold_seconds == 600
    [warning] = [w for w in validated.warnings if w.startswith(f"models[{index}].autoscaling.minReplicas")]
    assert warning == (
        f"models[{index}].autoscaling.minReplicas: 0, but waking {MODEL!r} from zero is predicted to take "
        f"{minutes(expected.predicted_seconds)} (its scale-out, with KEDA's 30 s poll), longer than the gateway holds a "
        f"request (10m00s, gateway.maxHoldSeconds): the first request after an idle spell gets 503 with "
        f"Retry-After {expected.retry_after_seconds}s instead of an answer; set minReplicas: 1, or accept it in acceptedWarnings")


def test_a_model_at_zero_that_wakes_within_the_hold_gets_no_warning():
    validated = validate_stack_config(_prod(maxHoldSeconds=3600, requestTimeoutSeconds=3600).values)
    assert not [w for w in validated.warnings if ".autoscaling.minReplicas" in w]
