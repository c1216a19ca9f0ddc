"""Every ServiceMonitor and PrometheusRule the library renders is valid against the Prometheus Operator's
CRD schema (the pinned chart's, looked up by tests/crd_schemas.py), in strict mode: unknown fields are errors,
since the API server would prune them silently and a misspelt field would vanish at apply time."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from tests import crd_schemas
from tests.conftest import committed_stacks, recording_for
from vllm_eks.components.fleet_monitoring import FleetMonitoring, FleetMonitoringArgs
from vllm_eks.components.model_namespace import ModelNamespace, ModelNamespaceArgs
from vllm_eks.components.vllm_model import VllmModel, VllmModelArgs
from vllm_eks.config.model import ModelConfig
from vllm_eks.config.platform.node_groups import NodeGroupConfig
from vllm_eks.config.stack import MonitoringConfig
from vllm_eks.preview.engine import run_program
from vllm_eks.preview.render import manifests

PROMETHEUS_KINDS = {("monitoring.coreos.com/v1", "ServiceMonitor"), ("monitoring.coreos.com/v1", "PrometheusRule")}


def crd_schema(api_version: str, kind: str) -> dict[str, Any]:
    """The pinned chart's CRD schema (tests/crd_schemas.py finds it outside the repository); skips without one."""
    schema = crd_schemas.crd_schema(kind, api_version.split("/")[1])
    if schema is None:
        pytest.skip(crd_schemas.missing_reason(kind))
    return schema


def errors(obj: dict[str, Any]) -> list[str]:
    schema = crd_schema(obj["apiVersion"], obj["kind"])
    return [f"{obj['kind']}/{obj['metadata']['name']}: {error}" for error in crd_schemas.validation_errors(obj, schema)]


def _monitored_program() -> None:
    """Two models on different vLLM versions sharing a namespace, with scraping on."""
    monitoring = MonitoringConfig(service_monitors=True)
    group = NodeGroupConfig(name="gpu", instance_type="g6e.xlarge", desired_size=2, max_size=2)
    shared = ModelNamespace("team", ModelNamespaceArgs(name="team", monitoring=monitoring))
    models = []
    for name, image in (("old", "vllm/vllm-openai:v0.10.2"), ("new", "vllm/vllm-openai:v0.26.0")):
        model = ModelConfig.model_validate(dict(
            name=name, namespace="team", accelerator="gpu", node_group="gpu", image=image, model="Qwen/Qwen3-8B",
            max_model_len=8192, resources={"cpu": "3", "memory": "24Gi"}))
        models.append(model)
        VllmModel(name, VllmModelArgs(model=model, node_group=group, namespace=shared, monitoring=monitoring),
                  pulumi.ResourceOptions())
    FleetMonitoring("fleet", FleetMonitoringArgs(models=models, monitoring=monitoring))


def _rendered(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for o in objects if (o["apiVersion"], o["kind"]) in PROMETHEUS_KINDS]


def test_a_monitored_namespace_renders_prometheus_objects_valid_against_their_crds():
    objects = _rendered(manifests(run_program(_monitored_program)))
    assert {o["kind"] for o in objects} == {"ServiceMonitor", "PrometheusRule"}
    assert [e for o in objects for e in errors(o)] == []


@pytest.mark.parametrize("stack", committed_stacks())
def test_every_committed_stacks_prometheus_objects_are_valid_against_their_crds(stack):
    assert [e for o in _rendered(manifests(recording_for(stack))) for e in errors(o)] == []


def test_strict_validation_rejects_a_misspelt_endpoint_field():
    # Guards the checks above: the schema must see into spec.endpoints and refuse an unknown key.
    bad = {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": {"name": "x"},
           "spec": {"selector": {}, "endpoints": [{"port": "http", "intreval": "15s"}]}}
    assert any("intreval" in e for e in errors(bad))
