"""Placement checks on valid stacks: what passes, and the warnings that do not fail a load."""

from __future__ import annotations

import pytest

from config import load_stack_file, parse_stack_config, stack_warnings
from config.allocatable import GIB, MIB, kube_reserved_cpu_millicores, max_pods, node_allocatable
from config.instance_catalog import INSTANCE_TYPES
from tests.conftest import PROJECT_DIR


def test_the_dev_stack_passes_without_warnings():
    stack = load_stack_file(PROJECT_DIR / "Pulumi.dev.yaml")
    assert [w for w in stack_warnings(stack) if w.startswith("models[")] == []


def test_every_catalog_instance_has_eni_figures_for_max_pods():
    from config.allocatable import ENI_LIMITS
    assert sorted(set(INSTANCE_TYPES) - set(ENI_LIMITS)) == []


def test_inf2_xlarge_allocatable_follows_the_eks_formulas():
    allocatable = node_allocatable(INSTANCE_TYPES["inf2.xlarge"])
    assert max_pods("inf2.xlarge") == 4 * (15 - 1) + 2 == 58
    assert allocatable.cpu_millicores == 4000 - 80
    assert allocatable.memory_bytes == 16 * GIB - (11 * 58 + 255) * MIB - 100 * MIB


def test_kube_reserved_cpu_is_6_1_half_and_quarter_percent_by_core():
    assert kube_reserved_cpu_millicores(1) == 60
    assert kube_reserved_cpu_millicores(96) == 60 + 10 + 10 + 230


def test_the_workshop_requests_fit_an_inf2_xlarge_node():
    allocatable = node_allocatable(INSTANCE_TYPES["inf2.xlarge"])
    assert 3000 <= allocatable.cpu_millicores and 12 * GIB <= allocatable.memory_bytes


def _neuron(instance: str, tp: int, max_size: int = 1, desired=None, **model):
    group = {"name": "inf2", "instanceType": instance, "minSize": 1, "maxSize": max_size}
    if desired is not None:
        group["desiredSize"] = desired
    base = {"name": "llama", "accelerator": "neuron", "nodeGroup": "inf2", "image": "example/vllm-neuron:1",
            "source": "image", "model": "/opt/vllm/huggingface-cache/Llama-3.1-8B-Instruct",
            "tensorParallelSize": tp, "maxNumSeqs": 4, "maxModelLen": 8192, "resources": {"cpu": "8", "memory": "32Gi"}}
    return parse_stack_config({"nodeGroups": [group], "models": [{**base, **model}]})


def test_the_workshop_hint_tp_12_on_inf2_24xlarge_loads_with_a_padding_warning():
    warnings = [w for w in stack_warnings(_neuron("inf2.24xlarge", 12)) if w.startswith("models[0]")]
    assert len(warnings) == 1
    assert "pads the query heads to 36" in warnings[0]
    assert "36 KV heads" in warnings[0] and "4.5x" in warnings[0]
    assert "degrees that shard evenly on inf2.24xlarge: 1, 2, 4, 8" in warnings[0]
    assert "recompil" in warnings[0]


def test_tp_8_on_inf2_24xlarge_loads_without_warnings():
    assert [w for w in stack_warnings(_neuron("inf2.24xlarge", 8)) if w.startswith("models[")] == []


def test_pods_beyond_the_desired_size_warn_but_load():
    stack = _neuron("inf2.8xlarge", 2, max_size=3, desired=1, replicas=3)
    assert any("desiredSize is 1" in w and "raise desiredSize to 3" in w for w in stack_warnings(stack))


def test_an_unknown_architecture_warns_and_asks_for_an_architecture_block():
    stack = _neuron("inf2.8xlarge", 2, model="/opt/models/custom-model")
    assert any("memory not sized" in w and "architecture" in w for w in stack_warnings(stack))


def _gpu(**model):
    base = {"name": "qwen", "accelerator": "gpu", "nodeGroup": "g6e", "image": "vllm/vllm-openai:v0.10.2",
            "source": "image", "model": "Qwen/Qwen3-32B-FP8", "gpuMemoryUtilization": 0.95,
            "resources": {"memory": "24Gi"}, "shmSize": "16Gi"}
    return parse_stack_config({"nodeGroups": [{"name": "g6e", "instanceType": "g6e.xlarge"}], "models": [{**base, **model}]})


def test_less_than_one_full_length_sequence_of_headroom_is_a_warning():
    warnings = stack_warnings(_gpu(maxModelLen=32768))
    assert any("less than one full-length sequence of headroom" in w for w in warnings)


def test_an_explicit_max_num_seqs_that_cannot_all_be_full_length_is_a_warning():
    warnings = stack_warnings(_gpu(maxModelLen=4096, maxNumSeqs=64))
    assert any("maxNumSeqs 64 x maxModelLen 4096" in w for w in warnings)


@pytest.mark.parametrize("max_model_len", [8192, 16384])
def test_a_comfortable_gpu_model_loads_without_model_warnings(max_model_len):
    assert [w for w in stack_warnings(_gpu(maxModelLen=max_model_len)) if w.startswith("models[")] == []


@pytest.mark.parametrize("stack_name", ["dev", "prod"])
def test_the_committed_stacks_pass_sizing_and_placement_without_model_warnings(stack_name):
    path = PROJECT_DIR / f"Pulumi.{stack_name}.yaml"
    if not path.exists():
        pytest.skip(f"{path.name} is not committed")
    stack = load_stack_file(path)
    assert [w for w in stack_warnings(stack) if w.startswith("models[")] == []
