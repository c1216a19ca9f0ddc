"""The deploy rehearsal replays the recorded graph and catches the awaits a real `pulumi up` would fail."""

from __future__ import annotations

import json

import pulumi
import pytest

from tests.conftest import PROJECT_DIR, recording_for
from vllm_eks.components import _deployment_objects as objects
from vllm_eks.components.model_namespace import ModelNamespace, ModelNamespaceArgs
from vllm_eks.components.platform import build_platform, model_dependencies, storage_dependencies
from vllm_eks.components.vllm_model import VllmModel, VllmModelArgs
from vllm_eks.config.loader import load_stack_file, validate_stack_file
from vllm_eks.preview import cli
from vllm_eks.preview.cli import main
from vllm_eks.preview.engine import Recording, RegisteredResource, run_program
from vllm_eks.preview.rehearsal import rehearse
from vllm_eks.preview.rehearsal.simulate import FIRST_UP, RUNNING_PLATFORM, replay

DEV = load_stack_file(PROJECT_DIR / "Pulumi.dev.yaml")
PROD = load_stack_file(PROJECT_DIR / "Pulumi.prod.yaml")
PROD_VALIDATED = validate_stack_file(PROJECT_DIR / "Pulumi.prod.yaml")


def _program(validated, claims_after_storage: bool):
    """__main__.py's wiring, optionally as it was before issue 10 (claims after their namespace only)."""
    stack = validated.stack

    def program():
        platform = build_platform(validated)
        on_cluster = pulumi.ResourceOptions(provider=platform.provider)
        namespaces = {
            name: ModelNamespace(name, ModelNamespaceArgs(
                name=name, neuron_cache=any(m.has_compile_cache for m in models), cache_volumes=stack.cache_volumes,
                claims_depend_on=storage_dependencies(platform) if claims_after_storage else (),
            ), on_cluster)
            for name, models in stack.namespaces().items()
        }
        for placed in validated.placed:
            VllmModel(placed.model.name, VllmModelArgs(
                model=placed.model, node_group=placed.group, namespace=namespaces[placed.model.namespace],
                depends_on=model_dependencies(platform, placed.model), placement=placed,
            ), on_cluster)
    return program


def _timeouts(rehearsal, scenario: str) -> list[str]:
    found = next(s for s in rehearsal.scenarios if s.name == scenario)
    return sorted(t.resource for t in found.timeouts)


def _rehearsal_before_issue_10(monkeypatch):
    """prod as it was: claims after their namespace only, Services without skipAwait."""
    original = objects.service_object

    def service_without_skip_await(model):
        service = original(model)
        service["metadata"].pop("annotations")
        return service

    monkeypatch.setattr(objects, "service_object", service_without_skip_await)
    return rehearse(run_program(_program(PROD_VALIDATED, claims_after_storage=False), stack="prod"), PROD)


def test_the_rehearsal_catches_todays_two_failures_claims_before_their_class_and_services_that_await_pods(monkeypatch):
    rehearsal = _rehearsal_before_issue_10(monkeypatch)
    assert _timeouts(rehearsal, FIRST_UP) == [
        "kubernetes:core/v1:PersistentVolumeClaim vllm-huggingface-cache",
        "kubernetes:core/v1:PersistentVolumeClaim vllm-neuron-cache",
    ]
    # The models that take over 10 minutes to serve; the pre-compiled Qwen image serves in about 7. The hub
    # Llama's replicas start only after its compile Job completes, long after its Service settled empty.
    # The models on Karpenter nodes have no pod IP before their Service's endpoints settle (their node launches
    # first), so those Services do not wait either.
    assert _timeouts(rehearsal, RUNNING_PLATFORM) == [
        "kubernetes:core/v1:Service llama-3-3-70b-service",
    ]
    claim = next(t for t in rehearsal.scenarios[0].timeouts if t.resource.endswith("vllm-huggingface-cache"))
    assert claim.timeout_seconds == 300
    assert claim.waited_seconds > 300
    assert rehearsal.warnings()[0] == (
        "rehearsal (first up): kubernetes:core/v1:PersistentVolumeClaim vllm-huggingface-cache needs 7m04s but its "
        "wait ends after 5m00s (fixed; pulumi/pulumi-kubernetes v4.32.0 provider/pkg/await/awaiters.go "
        "untilCoreV1PersistentVolumeClaimReady (WatchUntil 5*time.Minute)); order the claim after its StorageClass "
        "and CSI driver (ModelNamespaceArgs.claims_depend_on; customTimeouts cannot extend this wait)"
    )
    service = next(s for s in rehearsal.scenarios[1].timeouts if s.resource.endswith("llama-3-3-70b-service"))
    assert (service.timeout_seconds, service.fix) == (
        600, 'set `pulumi.com/skipAwait: "true"` on the Service (components/_deployment_objects.py service_object)',
    )


def test_with_claims_after_the_storage_class_and_services_skipping_their_await_nothing_in_prod_times_out():
    rehearsal = rehearse(run_program(_program(PROD_VALIDATED, claims_after_storage=True), stack="prod"), PROD)
    assert rehearsal.warnings() == []


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_committed_stacks_rehearse_without_a_predicted_timeout_and_with_a_time_to_serve_per_model(stack):
    config = load_stack_file(PROJECT_DIR / f"Pulumi.{stack}.yaml")
    rehearsal = rehearse(recording_for(stack), config)
    assert rehearsal.warnings() == []
    for scenario in rehearsal.scenarios:
        assert sorted(e.model for e in scenario.endpoints) == sorted(m.name for m in config.models)
        assert all(0 < e.first_replica_seconds <= e.all_replicas_seconds for e in scenario.endpoints)


def test_on_a_fresh_account_the_claims_bind_after_the_csi_driver_and_the_models_serve_after_the_cluster():
    first_up = rehearse(recording_for("dev"), DEV).scenarios[0]
    steps = {step.resource.name: step for step in first_up.steps.values() if step.resource.custom}
    assert steps["vllm-huggingface-cache"].start >= steps["platform-cache-efs"].finish
    assert steps["vllm-huggingface-cache"].waited < 300
    path = [step.resource.name for step in first_up.critical_path()]
    assert path[0] == "platform-vpc"
    # dev's image-served models mount no claim; what they wait for last is their inf2 nodes (and the
    # Neuron device plugin on them), which join after the Neuron scheduler their pods name is up.
    assert path[-2:] == ["platform-inf2", "qwen3-8b-fp8-neuron-deployment"]
    cluster = next(step for step in first_up.steps.values() if step.resource.type == "eks:index:Cluster")
    assert all(e.first_replica_seconds > cluster.finish for e in first_up.endpoints)


def test_a_startup_budget_shorter_than_download_and_load_is_a_predicted_failure_naming_the_key():
    prod = load_stack_file(PROJECT_DIR / "Pulumi.prod.yaml")
    shortened = prod.model_copy(update={"models": [
        m.model_copy(update={"startup_timeout_seconds": 1800}) if m.name == "llama-3-3-70b" else m for m in prod.models
    ]})
    rehearsal = rehearse(recording_for("prod"), shortened)
    probes = [t for t in rehearsal.scenarios[0].timeouts if t.resource.startswith("startup probe")]
    assert [t.resource for t in probes] == ["startup probe of kubernetes:apps/v1:Deployment llama-3-3-70b-deployment"]
    assert probes[0].fix.startswith("raise models[3].startupTimeoutSeconds to at least ")


def test_render_writes_the_rehearsal_into_plan_json_and_preview_prints_it(tmp_path, capsys):
    assert main(["render", "--stack", "dev", "--project-dir", str(PROJECT_DIR), "--out", str(tmp_path)]) == 0
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert [s["name"] for s in plan["rehearsal"]["scenarios"]] == [FIRST_UP, RUNNING_PLATFORM]
    assert sorted(plan["rehearsal"]["scenarios"][0]["endpoints"]) == ["llama-3-1-8b-int8-neuron", "qwen3-8b-fp8-neuron"]
    assert main(["preview", "--stack", "dev", "--project-dir", str(PROJECT_DIR)]) == 0
    printed = capsys.readouterr().out
    assert "Deploy rehearsal (estimates as of 2026-12-01" in printed
    assert "awaits that would exceed their timeout: none" in printed


def test_a_predicted_timeout_is_a_warning_and_an_error_with_strict(monkeypatch, capsys):
    rehearsal = _rehearsal_before_issue_10(monkeypatch)
    recording = Recording(stack="prod")
    assert cli._finish(recording, False, rehearsal) == 0
    assert cli._finish(recording, True, rehearsal) == cli.EXIT_WARNINGS_STRICT
    printed = capsys.readouterr().err
    assert "warning: rehearsal (first up): kubernetes:core/v1:PersistentVolumeClaim vllm-huggingface-cache needs " in printed
    assert "--strict: 3 warnings count as errors." in printed


def _resource(type_: str, name: str, inputs: dict, dependencies=(), custom_timeouts=None) -> RegisteredResource:
    return RegisteredResource(
        type=type_, name=name, urn=f"urn:pulumi:t::p::{type_}::{name}", parent=None, provider=None,
        dependencies=[f"urn:pulumi:t::p::{d}" for d in dependencies], inputs=inputs, custom=True,
        custom_timeouts=custom_timeouts or {},
    )


def _claim(name: str, storage_class: str, after=()) -> RegisteredResource:
    return _resource("kubernetes:core/v1:PersistentVolumeClaim", name, {
        "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name, "namespace": "vllm"},
        "spec": {"storageClassName": storage_class},
    }, after)


def _replay(*resources: RegisteredResource):
    return replay(Recording(stack="t", resources=list(resources)), PROD.model_copy(update={"models": []}), FIRST_UP)


def test_a_claim_whose_class_is_never_registered_never_binds_and_times_out_after_five_minutes():
    result = _replay(_claim("cache", "efs"))
    [timeout] = result.timeouts
    assert (timeout.resource, timeout.timeout_seconds) == ("kubernetes:core/v1:PersistentVolumeClaim cache", 300)
    assert result.steps["urn:pulumi:t::p::kubernetes:core/v1:PersistentVolumeClaim::cache"].finish == 301


def test_a_claim_of_a_wait_for_first_consumer_class_is_ready_once_the_class_exists():
    node_group = _resource("aws:eks/nodeGroup:NodeGroup", "system", {"amiType": "AL2023_x86_64_STANDARD"})
    storage_class = _resource("kubernetes:storage.k8s.io/v1:StorageClass", "efs", {
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "efs"},
        "provisioner": "efs.csi.aws.com", "volumeBindingMode": "WaitForFirstConsumer",
    }, ["aws:eks/nodeGroup:NodeGroup::system"])
    result = _replay(node_group, storage_class, _claim("cache", "efs"))
    claim = result.steps["urn:pulumi:t::p::kubernetes:core/v1:PersistentVolumeClaim::cache"]
    assert result.timeouts == []
    # The class lands after the node group (4 minutes); the claim is Pending (ready) from then on.
    assert claim.ready == result.steps[storage_class.urn].finish == 241


def test_a_device_plugin_created_before_its_nodes_join_is_current_at_once():
    daemonset = _resource("kubernetes:apps/v1:DaemonSet", "plugin", {
        "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "plugin"},
        "spec": {"template": {"spec": {"nodeSelector": {"vllm-eks/accelerator": "neuron"}}}},
    })
    nodes = _resource("aws:eks/nodeGroup:NodeGroup", "inf2", {"amiType": "AL2023_x86_64_NEURON", "labels": {"vllm-eks/accelerator": "neuron"}})
    result = _replay(daemonset, nodes)
    step = result.steps[daemonset.urn]
    assert (step.ready, step.policy.timeout_seconds) == (1, 600)


def test_pods_run_on_the_first_node_group_that_matches_their_selector_and_whose_taints_they_tolerate():
    tainted = _resource("aws:eks/nodeGroup:NodeGroup", "gpu", {
        "amiType": "AL2023_x86_64_STANDARD", "instanceTypes": ["m6i.large"],
        "taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}],
    })
    system = _resource("aws:eks/nodeGroup:NodeGroup", "system", {"amiType": "AL2023_x86_64_NVIDIA", "instanceTypes": ["m6i.large"]})
    deployment = _resource("kubernetes:apps/v1:Deployment", "controller", {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "controller", "namespace": "kube-system"},
        "spec": {"replicas": 1, "template": {"spec": {}}},
    })
    result = _replay(tainted, system, deployment)
    step = result.steps[deployment.urn]
    # Both groups match the empty selector; the tainted one joins first (4 minutes, against 6 for the
    # accelerated AMI) but nothing tolerates its taint, so the pod waits for the other: 6 min, 5 s to an IP, 60 s to start.
    assert (step.cause, step.ready) == (system.urn, 360 + 5 + 60)
