"""The memory-request advice converges (issue 22): lowering resources.memory as the error says, on every catalog
instance and whatever /dev/shm was set beside it, never leads into the /dev/shm check, and the /dev/shm error's
fix passes it."""

from __future__ import annotations

import math

import pytest

from vllm_eks.config.allocatable import node_allocatable
from vllm_eks.config.errors import ConfigIssue
from vllm_eks.config.instance_catalog import INSTANCE_TYPES
from vllm_eks.config.model import ModelConfig
from vllm_eks.config.placement.records import place
from vllm_eks.config.placement.requests import request_issues
from vllm_eks.config.platform.node_groups import NodeGroupConfig
from vllm_eks.config.units import GIB

ACCELERATED = sorted(name for name, spec in INSTANCE_TYPES.items() if spec.accelerator is not None)
KEYS = {"models[0].resources.memory": "memory", "models[0].shmSize": "shm"}


def _model(spec_name: str, memory: str, shm: str | None) -> ModelConfig:
    neuron = INSTANCE_TYPES[spec_name].accelerator.value == "neuron"  # type: ignore[union-attr]
    return ModelConfig(
        name="m", node_group="g", accelerator="neuron" if neuron else "gpu", source="hub", model="Qwen/Qwen3-8B",
        image="public.ecr.aws/neuron/pytorch-inference-vllm-neuronx:0.9.1-neuronx-py310-sdk2.25.0-ubuntu22.04"
        if neuron else "vllm/vllm-openai:v0.10.2", tensor_parallel_size=1, shm_size=shm,
        resources={"cpu": "1", "memory": memory})


def _issues(spec_name: str, memory: str, shm: str | None) -> list[ConfigIssue]:
    group = NodeGroupConfig(name="g", instance_type=spec_name)
    return request_issues(place(0, _model(spec_name, memory, shm), group, 0))


def _applied(issues: list[ConfigIssue], memory: str, shm: str | None) -> tuple[str, str | None]:
    values: dict[str, str | None] = {"memory": memory, "shm": shm}
    for fix in (fix for issue in issues for fix in issue.fixes):
        values[KEYS[fix.path]] = fix.value
    assert values["memory"] is not None
    return values["memory"], values["shm"]


@pytest.mark.parametrize("spec_name", ACCELERATED)
def test_lowering_memory_as_the_error_says_passes_every_request_check_whatever_shm_size_was_set(spec_name):
    allocatable_gib = node_allocatable(INSTANCE_TYPES[spec_name]).memory_bytes / GIB
    memory = f"{math.ceil(allocatable_gib) + 4}Gi"
    for shm in (None, "1Gi", f"{math.floor(allocatable_gib) // 2}Gi", f"{math.floor(allocatable_gib)}Gi", memory):
        issues = _issues(spec_name, memory, shm)
        assert [issue.path for issue in issues] == ["models[0].resources.memory"], (shm, issues)
        fixed = _applied(issues, memory, shm)
        assert _issues(spec_name, *fixed) == [], (shm, fixed)


@pytest.mark.parametrize("spec_name", ACCELERATED)
def test_the_shm_error_s_fix_passes_the_shm_check_on_every_catalog_instance(spec_name):
    allocatable_gib = math.floor(node_allocatable(INSTANCE_TYPES[spec_name]).memory_bytes / GIB)
    for memory in ("2Gi", f"{allocatable_gib // 2}Gi", f"{allocatable_gib}Gi"):
        issues = _issues(spec_name, memory, memory)
        assert [issue.path for issue in issues] == ["models[0].shmSize"]
        assert _issues(spec_name, *_applied(issues, memory, memory)) == []
