"""The memory-request advice converges (issue 22): following the error, on every catalog instance and whatever
/dev/shm was set beside it, never leads into the /dev/shm check or (for a hub Neuron model) the host-memory check
of its checkpoint, and the /dev/shm error's fix passes it."""

from __future__ import annotations

import math

import pytest

from vllm_eks.config.allocatable import node_allocatable
from vllm_eks.config.errors import ConfigIssue
from vllm_eks.config.instance_catalog import INSTANCE_TYPES
from vllm_eks.config.model import ModelConfig
from vllm_eks.config.placement.host_memory import host_memory_issue
from vllm_eks.config.placement.records import place
from vllm_eks.config.placement.requests import request_issues
from vllm_eks.config.platform.node_groups import NodeGroupConfig
from vllm_eks.config.units import GIB

ACCELERATED = sorted(name for name, spec in INSTANCE_TYPES.items() if spec.accelerator is not None)
KEYS = {"models[0].resources.memory": "memory", "models[0].shmSize": "shm", "nodeGroups[0].instanceType": "instance"}


def _model(spec_name: str, memory: str, shm: str | None, source: str) -> ModelConfig:
    neuron = INSTANCE_TYPES[spec_name].accelerator.value == "neuron"  # type: ignore[union-attr]
    return ModelConfig(
        name="m", node_group="g", accelerator="neuron" if neuron else "gpu", source=source, model="Qwen/Qwen3-8B",
        image="public.ecr.aws/neuron/pytorch-inference-vllm-neuronx:0.9.1-neuronx-py310-sdk2.25.0-ubuntu22.04"
        if neuron else "vllm/vllm-openai:v0.10.2", tensor_parallel_size=1, shm_size=shm,
        resources={"cpu": "1", "memory": memory})


def _issues(spec_name: str, memory: str, shm: str | None, source: str = "hub") -> list[ConfigIssue]:
    """The request checks, and the host-memory check that follows them (a hub Neuron model's checkpoint)."""
    placed = place(0, _model(spec_name, memory, shm, source), NodeGroupConfig(name="g", instance_type=spec_name), 0)
    loading = host_memory_issue(placed)
    return request_issues(placed) + ([loading] if loading else [])


def _applied(issues: list[ConfigIssue], spec_name: str, memory: str, shm: str | None) -> tuple[str, str, str | None]:
    values: dict[str, str | None] = {"instance": spec_name, "memory": memory, "shm": shm}
    for fix in (fix for issue in issues for fix in issue.fixes):
        values[KEYS[fix.path]] = fix.value
    assert values["instance"] is not None and values["memory"] is not None
    return values["instance"], values["memory"], values["shm"]


@pytest.mark.parametrize("spec_name", ACCELERATED)
def test_lowering_memory_as_the_error_says_passes_every_request_check_whatever_shm_size_was_set(spec_name):
    allocatable_gib = node_allocatable(INSTANCE_TYPES[spec_name]).memory_bytes / GIB
    memory = f"{math.ceil(allocatable_gib) + 4}Gi"
    for shm in (None, "1Gi", f"{math.floor(allocatable_gib) // 2}Gi", f"{math.floor(allocatable_gib)}Gi", memory):
        issues = _issues(spec_name, memory, shm)
        assert [issue.path for issue in issues] == ["models[0].resources.memory"], (shm, issues)
        fixed = _applied(issues, spec_name, memory, shm)
        assert _issues(*fixed) == [], (shm, fixed)


@pytest.mark.parametrize("spec_name", ACCELERATED)
def test_the_shm_error_s_fix_passes_the_shm_check_on_every_catalog_instance(spec_name):
    allocatable_gib = math.floor(node_allocatable(INSTANCE_TYPES[spec_name]).memory_bytes / GIB)
    for memory in ("2Gi", f"{allocatable_gib // 2}Gi", f"{allocatable_gib}Gi"):
        # source: image, so a small request meets no hub checkpoint's host-memory error (a check of its own)
        issues = _issues(spec_name, memory, memory, "image")
        assert [issue.path for issue in issues] == ["models[0].shmSize"]
        assert _issues(*_applied(issues, spec_name, memory, memory), "image") == []
