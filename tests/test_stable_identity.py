"""Stable identity: adding, removing or reordering one model changes no other resource's URN,
inputs, parent, provider or dependencies, so a pull request that touches one model diffs as that model only."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import PROJECT_DIR
from vllm_eks.config.loader import read_stack_file
from vllm_eks.preview.runner import run_stack

Models = list[dict[str, Any]]


def _render(transform: Callable[[Models], Models], g6e_nodes: int = 4, front_door: bool = True) -> dict[tuple[str, str], tuple]:
    # Room on the GPU group (a Karpenter NodePool, at most maxSize nodes) for one more single-GPU model beside
    # qwen3-32b-fp8's 3 replicas at most, in every variant, so only the models vary.
    stack_file = read_stack_file(PROJECT_DIR / "Pulumi.prod.yaml")
    stack_file.values["models"] = transform(copy.deepcopy(stack_file.values["models"]))
    if not front_door:  # the gateway discovers every model on one port: a model on another port needs it off
        for key in ("gateway", "openWebui", "exposure"):
            stack_file.values.pop(key, None)
    for group in stack_file.values["nodeGroups"]:
        if group["name"] == "g6e":
            group["maxSize"] = g6e_nodes
    recording = run_stack(PROJECT_DIR, "prod", config=stack_file)
    return {
        (r.type, r.name): (r.urn, r.inputs, r.parent, r.provider, sorted(r.dependencies), r.custom_timeouts)
        for r in recording.resources
    }


def _extra(namespace: str = "vllm", port: int = 8000) -> dict[str, Any]:
    """Another Qwen3 32B on the GPU group, as a user would append it."""
    return {
        "name": "qwen3-32b-extra", "servedModelName": "qwen3-32b-extra", "namespace": namespace,
        "accelerator": "gpu", "nodeGroup": "g6e", "image": "vllm/vllm-openai:v0.10.2", "source": "hub",
        "model": "Qwen/Qwen3-32B-FP8", "maxModelLen": 16384, "gpuMemoryUtilization": 0.95, "port": port,
        "resources": {"cpu": "3", "memory": "24Gi"}, "shmSize": "16Gi",
    }


MODEL_LIST = ("kubernetes:core/v1:ConfigMap", "gateway-config")
"""The gateway's model list: adding or removing a model changes it in the same `pulumi up` (issue 19), and only it."""
DISCOVERY_SCOPE = {("kubernetes:apps/v1:Deployment", "gateway-deployment")}
"""A model in a second namespace widens the router's pod discovery from one namespace to all (its args)."""


# Objects that aggregate every model by design: the fleet dashboard lists each model (components/_dashboards.py),
# so adding or removing one changes it. Prod renders it since it scrapes its models (autoscaling reads the queue).
AGGREGATES = {("kubernetes:core/v1:ConfigMap", "fleet-monitoring-dashboard")}


def _changed(before: dict, after: dict, expected: frozenset = frozenset()) -> list[tuple[str, str]]:
    return sorted(key for key in before.keys() & after.keys()
                  if before[key] != after[key] and key not in expected and key not in AGGREGATES)


@pytest.fixture(scope="module")
def prod() -> dict:
    return _render(lambda models: models)


@pytest.fixture(scope="module")
def prod_without_front_door() -> dict:
    return _render(lambda models: models, front_door=False)


@pytest.mark.parametrize("variant,front_door", [
    pytest.param(lambda models: [*models, _extra()], True, id="appended-in-a-shared-namespace"),
    pytest.param(lambda models: [_extra(), *models], True, id="inserted-first"),
    pytest.param(lambda models: [*models[:2], _extra(port=8001), *models[2:]], False, id="inserted-in-the-middle-on-another-port"),
    pytest.param(lambda models: [*models, _extra(namespace="team-b")], True, id="appended-in-a-new-namespace"),
])
def test_adding_a_model_adds_only_its_own_resources_and_changes_none(prod, prod_without_front_door, variant, front_door):
    before = prod if front_door else prod_without_front_door
    grown = _render(variant, front_door=front_door)
    widened = any(model["namespace"] != "vllm" for model in variant([]))
    expected = {MODEL_LIST, *(DISCOVERY_SCOPE if widened else ())}
    assert _changed(before, grown, frozenset(expected)) == []
    if front_door:
        assert before[MODEL_LIST] != grown[MODEL_LIST]
    if widened:  # the namespaced Role becomes a ClusterRole: named apart, so the old one goes
        before = {key: value for key, value in before.items() if not key[1].startswith("gateway-role")}
        grown = {key: value for key, value in grown.items() if not key[1].startswith("gateway-clusterrole")}
    prod = before
    added = sorted(name for _, name in grown.keys() - prod.keys())
    # (and, since prod scrapes its models, its dashboard and alerts)
    assert {"qwen3-32b-extra", "qwen3-32b-extra-deployment", "qwen3-32b-extra-network-policy"} <= set(added)
    assert all(name.startswith(("qwen3-32b-extra", "team-b")) for name in added)
    assert prod.keys() <= grown.keys()


@pytest.mark.parametrize("position", [0, 1, 3])
def test_removing_a_model_removes_only_its_own_resources_and_changes_none(prod, position):
    removed = read_stack_file(PROJECT_DIR / "Pulumi.prod.yaml").values["models"][position]["name"]
    shrunk = _render(lambda models: models[:position] + models[position + 1:])
    assert _changed(prod, shrunk, frozenset({MODEL_LIST})) == []
    assert shrunk.keys() <= prod.keys()
    gone = sorted(name for _, name in prod.keys() - shrunk.keys())
    assert f"{removed}-deployment" in gone
    assert all(name.startswith(removed) for name in gone), gone


@pytest.mark.parametrize("order", [[3, 2, 1, 0], [1, 3, 0, 2]], ids=["reversed", "shuffled"])
def test_reordering_models_changes_no_resource_at_all(prod, order):
    assert _render(lambda models: [models[i] for i in order]) == prod
