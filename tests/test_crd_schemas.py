"""Every NodePool, EC2NodeClass and ScaledObject the committed stacks render is valid against its CRD's own
OpenAPI schema, from the pinned charts (tests/crd_schemas.py), with unknown fields refused."""

from __future__ import annotations

import pytest

from tests.conftest import committed_stacks, recording_for
from tests.crd_schemas import crd_schema, missing_reason, validation_errors
from vllm_eks.preview.render import manifests

VERSIONS = {"NodePool": "v1", "EC2NodeClass": "v1", "ScaledObject": "v1alpha1"}


def _schema(kind: str) -> dict:
    schema = crd_schema(kind, VERSIONS[kind])
    if schema is None:
        pytest.skip(missing_reason(kind))
    return schema


@pytest.mark.parametrize("stack", committed_stacks())
def test_every_rendered_custom_resource_is_valid_against_its_crd(stack):
    checked, failures = 0, []
    for obj in manifests(recording_for(stack)):
        if obj["kind"] in VERSIONS and obj["apiVersion"].endswith(VERSIONS[obj["kind"]]):
            checked += 1
            failures += [f"{obj['kind']}/{obj['metadata']['name']}: {e}" for e in validation_errors(obj, _schema(obj["kind"]))]
    assert failures == []
    if stack == "prod":  # three Karpenter groups and three autoscaled models
        assert checked == 9


def test_the_prod_stack_renders_the_three_kinds_of_custom_resource():
    kinds = [obj["kind"] for obj in manifests(recording_for("prod"))]
    assert (kinds.count("NodePool"), kinds.count("EC2NodeClass"), kinds.count("ScaledObject")) == (3, 3, 3)


@pytest.mark.parametrize("kind, path, value, expected", [
    ("NodePool", ("spec", "disruption", "consolidationPolicy"), "Whenever", "is not one of"),
    ("NodePool", ("spec", "limitz"), {}, "'limitz' was unexpected"),
    ("EC2NodeClass", ("spec", "amiSelectorTerms"), [], "should be non-empty"),
    ("ScaledObject", ("spec", "triggers", 0, "metadata", "threshold"), 2, "is not of type 'string'"),
])
def test_the_schema_check_refuses_a_wrong_value_and_an_unknown_field(kind, path, value, expected):
    obj = next(o for o in manifests(recording_for("prod")) if o["kind"] == kind)
    node = obj
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    errors = validation_errors(obj, _schema(kind))
    assert any(expected in error for error in errors), errors
