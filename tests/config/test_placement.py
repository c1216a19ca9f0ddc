"""Placement checks on valid stacks: what passes, and the warnings that do not fail a load."""

from __future__ import annotations

import pytest

from tests.config.stacks import parse_stack, warnings_of
from tests.conftest import PROJECT_DIR
from vllm_eks.config.allocatable import kube_reserved_cpu_millicores, max_pods, node_allocatable
from vllm_eks.config.errors import ConfigError
from vllm_eks.config.instance_catalog import INSTANCE_TYPES
from vllm_eks.config.loader import load_stack_file, validate_stack_file
from vllm_eks.config.units import GIB, MIB

DEV_HOST_MEMORY_WARNINGS = [
    "models[0] llama-3-1-8b-int8-neuron: NxD Inference shards the 15.0 GiB bf16 checkpoint in host memory on every "
    "start (source: image), peaking at 2x = 29.9 GiB, and resources.memory 12Gi (12.0 GiB) is less; the memory limit "
    "is raised to 15391Mi, the whole allocatable of one inf2.xlarge node, so loading relies on the kernel dropping "
    "pages of the mapped checkpoint (the workshop serves its images on inf2.xlarge with no limit), but the scheduler "
    "reserves only the request; raise resources.memory to 30Gi and run nodeGroups[0] on inf2.8xlarge (125.1 GiB "
    "allocatable; inf2.xlarge has 15.0 GiB)",
    "models[1] qwen3-8b-fp8-neuron: NxD Inference shards the 15.3 GiB bf16 checkpoint in host memory on every start "
    "(source: image), peaking at 2x = 30.5 GiB, and resources.memory 12Gi (12.0 GiB) is less; the memory limit is "
    "raised to 15391Mi, the whole allocatable of one inf2.xlarge node, so loading relies on the kernel dropping pages "
    "of the mapped checkpoint (the workshop serves its images on inf2.xlarge with no limit), but the scheduler "
    "reserves only the request; raise resources.memory to 31Gi and run nodeGroups[0] on inf2.8xlarge (125.1 GiB "
    "allocatable; inf2.xlarge has 15.0 GiB)",
]


def test_the_dev_stack_warns_only_that_inf2_xlarge_cannot_hold_twice_each_checkpoint():
    # The workshop's inf2.xlarge keeps the dev stack; its two images load 15 GiB checkpoints into 15.0 GiB allocatable.
    stack = load_stack_file(PROJECT_DIR / "Pulumi.dev.yaml")
    assert [w for w in warnings_of(stack) if w.startswith("models[")] == DEV_HOST_MEMORY_WARNINGS


def test_every_catalog_instance_has_eni_figures_for_max_pods():
    from vllm_eks.config.allocatable import ENI_LIMITS
    assert sorted(set(INSTANCE_TYPES) - set(ENI_LIMITS)) == []


def test_inf2_xlarge_allocatable_follows_the_eks_formulas():
    allocatable = node_allocatable(INSTANCE_TYPES["inf2.xlarge"])
    assert max_pods("inf2.xlarge") == 4 * (15 - 1) + 2 == 58
    assert allocatable.cpu_millicores == 4000 - 80
    assert allocatable.memory_bytes == 16 * GIB - (11 * 58 + 255) * MIB - 100 * MIB


def test_managed_node_groups_cap_max_pods_but_kube_reserved_memory_keeps_the_eni_figure():
    # 110 below 30 vCPUs, 250 from 30 up; nodeadm still sizes kube-reserved for its ENI figure.
    assert [max_pods(t) for t in ("g5.4xlarge", "g5.8xlarge", "inf2.24xlarge", "p5.48xlarge")] == [110, 234, 250, 100]
    big = node_allocatable(INSTANCE_TYPES["inf2.24xlarge"])
    assert (big.max_pods, big.reserved_for_pods) == (250, 15 * (50 - 1) + 2)
    assert big.memory_bytes == 384 * GIB - (11 * 737 + 255) * MIB - 100 * MIB
    assert big.explain_memory(384) == (
        "384 GiB - 8362 MiB kube-reserved (11 MiB x 737 max pods + 255 MiB; nodeadm sizes this for the ENI "
        "limit although the node group caps pods at 250) - 100 MiB eviction threshold"
    )


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
    return parse_stack({"nodeGroups": [group], "models": [{**base, **model}]})


def test_the_workshop_hint_tp_12_on_inf2_24xlarge_loads_with_a_padding_warning():
    warnings = [w for w in warnings_of(_neuron("inf2.24xlarge", 12)) if w.startswith("models[0]")]
    assert len(warnings) == 1
    assert "pads the query heads to 36" in warnings[0]
    assert "36 KV heads" in warnings[0] and "4.5x" in warnings[0]
    assert "degrees that shard evenly on inf2.24xlarge: 1, 2, 4, 8" in warnings[0]
    assert "recompil" in warnings[0]


def test_tp_8_on_inf2_24xlarge_loads_without_warnings():
    assert [w for w in warnings_of(_neuron("inf2.24xlarge", 8)) if w.startswith("models[")] == []


def test_pods_beyond_the_desired_size_fail_because_no_autoscaler_adds_nodes():
    with pytest.raises(ConfigError) as raised:
        _neuron("inf2.8xlarge", 2, max_size=3, desired=1, replicas=3)
    assert [(i.path, i.message) for i in raised.value.issues] == [(
        "nodeGroups[0].desiredSize",
        "node group 'inf2': its models need 3 inf2.8xlarge nodes but the group runs 1 (desiredSize, or minSize "
        "when unset) and no autoscaler adds more, so the other pods would stay Pending; raise desiredSize to 3",
    )]


def test_an_unknown_architecture_warns_and_asks_for_an_architecture_block():
    stack = _neuron("inf2.8xlarge", 2, model="/opt/models/custom-model")
    assert any("memory not sized" in w and "architecture" in w for w in warnings_of(stack))


def _gpu(**model):
    base = {"name": "qwen", "accelerator": "gpu", "nodeGroup": "g6e", "image": "vllm/vllm-openai:v0.10.2",
            "source": "image", "model": "Qwen/Qwen3-32B-FP8", "gpuMemoryUtilization": 0.95,
            "resources": {"memory": "24Gi"}, "shmSize": "16Gi"}
    return parse_stack({"nodeGroups": [{"name": "g6e", "instanceType": "g6e.xlarge"}], "models": [{**base, **model}]})


def test_fewer_than_two_full_length_sequences_is_a_warning_at_max_model_len_with_the_fix_that_clears_it():
    # vLLM 0.10.2 on an L40S (compute capability 8.9) runs an fp8 KV cache on V1 only with the Triton attention
    # backend (config/vllm_facts/selection.py), so the fix names it; without it vLLM would fall back to V0.
    warnings = warnings_of(_gpu(maxModelLen=32768, gpuMemoryUtilization=0.93))
    assert [w for w in warnings if w.startswith("models[")] == [
        "models[0].maxModelLen: qwen's KV cache holds 35,552 tokens (8.7 GiB per GPU: L40S 44.39 GiB x 0.93 = 41.3 GiB, "
        "less weights 32.0 GiB, peak activation 0.4 GiB, non-torch 0.2 GiB), 1.08x maxModelLen 32768: fewer than 2 "
        "full-length requests at once, so a second long request waits or is preempted; set kvCacheDtype to fp8 "
        "and env VLLM_ATTENTION_BACKEND to TRITON_ATTN_VLLM_V1 (71,104 tokens, 2.17x at 32768)"]


def test_095_on_an_l40s_leaves_too_little_room_for_the_cuda_context_and_graphs():
    # The public report: Qwen3-32B-FP8 at 0.95 on an L40S runs out of memory capturing CUDA graphs. vLLM 0.10.2
    # captures [1, 2, 4] + range(8, min(2 x 256, 512) + 1, 8): 67 sizes (its _set_cudagraph_sizes).
    warnings = [w for w in warnings_of(_gpu(maxModelLen=16384)) if w.startswith("models[")]
    assert warnings == [
        "models[0].gpuMemoryUtilization: 0.95 leaves 2.2 GiB of each L40S (44.39 GiB) outside vLLM's budget, but the "
        "CUDA context (0.5 GiB) and the CUDA graphs vLLM 0.10.2 captures after sizing the KV cache (2.4 GiB, estimated) "
        "need 2.9 GiB, so graph capture can run out of memory; set gpuMemoryUtilization to 0.93 (35,552 tokens, 2.17x "
        "at 16384)"]


def test_the_guides_32768_on_one_l40s_needs_fp8_kv_and_a_lower_utilization_and_the_fix_names_both():
    warnings = [w for w in warnings_of(_gpu(maxModelLen=32768)) if w.startswith("models[")]
    assert [w.split(": ", 1)[0] for w in warnings] == ["models[0].maxModelLen", "models[0].gpuMemoryUtilization"]
    assert all(w.endswith("; set kvCacheDtype to fp8 and env VLLM_ATTENTION_BACKEND to TRITON_ATTN_VLLM_V1 and "
                          "gpuMemoryUtilization to 0.93 (71,104 tokens, 2.17x at 32768)") for w in warnings)


def test_the_suggested_fix_clears_every_check_at_once():
    fixed = _gpu(maxModelLen=32768, gpuMemoryUtilization=0.93, kvCacheDtype="fp8",
                 env={"VLLM_ATTENTION_BACKEND": "TRITON_ATTN_VLLM_V1"})
    assert [w for w in warnings_of(fixed) if w.startswith("models[")] == []


def test_max_num_seqs_reserves_nothing_on_gpus_so_a_large_one_changes_no_verdict():
    assert [w for w in warnings_of(_gpu(maxModelLen=4096, maxNumSeqs=64, gpuMemoryUtilization=0.94))
            if w.startswith("models[")] == []


@pytest.mark.parametrize("max_model_len", [8192, 16384])
def test_a_comfortable_gpu_model_loads_without_model_warnings(max_model_len):
    assert [w for w in warnings_of(_gpu(maxModelLen=max_model_len, gpuMemoryUtilization=0.93))
            if w.startswith("models[")] == []


def _g5(replicas: int, max_size: int = 1, desired=None, cpu: str = "16", memory: str = "64Gi", tp: int = 1, **extra):
    group = {"name": "g5", "instanceType": "g5.12xlarge", "minSize": 1, "maxSize": max_size}
    if desired is not None:
        group["desiredSize"] = desired
    model = {"name": "llama", "accelerator": "gpu", "nodeGroup": "g5", "image": "vllm/vllm-openai:v0.10.2",
             "source": "image", "model": "/models/Llama-3.1-8B-Instruct", "maxModelLen": 8192, "replicas": replicas,
             "tensorParallelSize": tp, "resources": {"cpu": cpu, "memory": memory}, **extra}
    return {"nodeGroups": [group], "models": [model]}


def test_cpu_and_memory_not_gpus_bound_the_pods_a_node_takes():
    # The review's reproduction: 4 GPUs per g5.12xlarge, but 47810m CPU and 183.7 GiB allocatable
    # hold two pods of cpu 16 / memory 64Gi, so 4 replicas need 2 nodes.
    with pytest.raises(ConfigError) as raised:
        parse_stack(_g5(replicas=4))
    assert [str(issue) for issue in raised.value.issues] == [
        "models[0].replicas: models[0] llama: the pods on node group 'g5' need 2 g5.12xlarge nodes but maxSize is 1 "
        "(llama: 4 replicas at 2 per node = 2 nodes, pods per node = min(GPUs 4/1, cpu 47810m/16000m, "
        "memory 183.7 GiB/64.0 GiB)); raise nodeGroups[0].maxSize to 2, lower replicas to 2 or lower "
        "resources.cpu to 11900m and resources.memory to 46848Mi so 4 pods share a node"]


def test_the_suggested_requests_pack_the_replicas_onto_max_size_nodes():
    stack = parse_stack(_g5(replicas=4, cpu="11900m", memory="46848Mi"))
    assert [w for w in warnings_of(stack) if w.startswith(("models[", "nodeGroups["))] == []


def test_only_the_binding_request_is_named_in_the_fix():
    with pytest.raises(ConfigError) as raised:
        parse_stack(_g5(replicas=4, cpu="8"))
    assert str(raised.value.issues[0]).endswith("lower resources.memory to 46848Mi so 4 pods share a node")


def test_two_replicas_that_fit_one_nodes_cpu_and_memory_load():
    stack = parse_stack(_g5(replicas=2))
    assert [w for w in warnings_of(stack) if w.startswith(("models[", "nodeGroups["))] == []


def test_accelerators_a_degree_leaves_over_on_a_node_are_not_counted():
    # TP 8 on a 12-NeuronCore inf2.24xlarge: one pod per node, 4 cores idle. Counting cores alone
    # (24 of 2 x 12) would have accepted 3 replicas on 2 nodes.
    with pytest.raises(ConfigError) as raised:
        _neuron("inf2.24xlarge", 8, max_size=2, replicas=3)
    assert [issue.path for issue in raised.value.issues] == ["models[0].replicas"]
    assert "need 3 inf2.24xlarge nodes but maxSize is 2" in str(raised.value.issues[0])
    assert "pods per node = min(NeuronCores 12/8, cpu 95690m/8000m, memory " in str(raised.value.issues[0])
    assert str(raised.value.issues[0]).endswith(
        "raise nodeGroups[0].maxSize to 3 or lower replicas to 2 (with nodeGroups[0].desiredSize 2, the nodes that run)")


def test_the_desired_size_rule_counts_nodes_by_cpu_and_memory_too():
    with pytest.raises(ConfigError) as raised:
        parse_stack(_g5(replicas=4, max_size=2, desired=1))
    assert [(i.path, i.message) for i in raised.value.issues] == [(
        "nodeGroups[0].desiredSize",
        "node group 'g5': its models need 2 g5.12xlarge nodes but the group runs 1 (desiredSize, or minSize when "
        "unset) and no autoscaler adds more, so the other pods would stay Pending; raise desiredSize to 2",
    )]


def test_pods_of_different_models_share_a_node_when_its_leftovers_hold_them():
    # Two 1-GPU pods of 8 CPU and 32Gi each fit one g5.12xlarge (4 GPUs, 47810m, 183.7 GiB).
    config = _g5(replicas=1, cpu="8", memory="32Gi")
    config["models"].append({**config["models"][0], "name": "mistral", "model": "/models/Mistral-7B-Instruct-v0.3"})
    stack = parse_stack(config)
    assert [m.name for m in stack.models] == ["llama", "mistral"]


def test_two_neuron_models_of_four_cores_share_one_inf2_24xlarge():
    group = {"name": "inf2", "instanceType": "inf2.24xlarge", "minSize": 1, "maxSize": 1}
    base = {"accelerator": "neuron", "nodeGroup": "inf2", "image": "example/vllm-neuron:1", "source": "image",
            "tensorParallelSize": 4, "maxNumSeqs": 4, "maxModelLen": 8192, "resources": {"cpu": "8", "memory": "32Gi"}}
    stack = parse_stack({"nodeGroups": [group], "models": [
        {**base, "name": "llama", "model": "/opt/vllm/huggingface-cache/Llama-3.1-8B-Instruct"},
        {**base, "name": "qwen", "model": "/root/.cache/huggingface/hub/models--Qwen--Qwen3-8B/snapshots/x"},
    ]})
    assert len(stack.models) == 2


def test_models_that_cannot_share_a_node_are_reported_at_the_one_that_overflows():
    # Each pod asks 30 of the node's 47.8 CPUs, so no two share a node although GPUs are left.
    config = _g5(replicas=1, cpu="30", memory="32Gi")
    config["models"].append({**config["models"][0], "name": "mistral", "model": "/models/Mistral-7B-Instruct-v0.3"})
    with pytest.raises(ConfigError) as raised:
        parse_stack(config)
    message = str(raised.value.issues[0])
    assert message.startswith("models[1].replicas: models[1] mistral: the pods on node group 'g5' need 2 g5.12xlarge "
                              "nodes, packing pods of different models onto shared nodes, but maxSize is 1")
    assert message.endswith("raise nodeGroups[0].maxSize to 2 (with nodeGroups[0].desiredSize 2, the nodes that run) or "
                            "lower replicas or the cpu and memory requests that bind")


def _hub_llama(instance: str = "inf2.xlarge", memory=None, **model):
    group = {"name": "inf2", "instanceType": instance, "minSize": 1, "maxSize": 1}
    base = {"name": "llama", "accelerator": "neuron", "nodeGroup": "inf2", "image": "public.ecr.aws/neuron/vllm:latest",
            "source": "hub", "model": "meta-llama/Llama-3.1-8B-Instruct", "tensorParallelSize": 2,
            "maxNumSeqs": 4, "maxModelLen": 8192}
    if memory is not None:
        base["resources"] = {"cpu": "3", "memory": memory}
    return {"hfToken": "hf_x", "nodeGroups": [group], "models": [{**base, **model}]}


def _model_warnings(stack) -> list[str]:
    return [w for w in warnings_of(stack) if w.startswith("models[")]


def test_a_neuron_hub_model_needs_host_memory_for_its_whole_checkpoint():
    # The review's case: the default 12Gi request cannot hold the 15 GiB bf16 checkpoint NxD Inference
    # loads to shard and compile.
    with pytest.raises(ConfigError) as raised:
        parse_stack(_hub_llama())
    assert [str(issue) for issue in raised.value.issues] == [
        "models[0].resources.memory: models[0] llama: source: hub makes the Neuron backend load "
        "meta-llama/Llama-3.1-8B-Instruct's checkpoint into host memory to shard and compile it: 8.03B parameters "
        "x 2 B at its stored bf16 = 15.0 GiB, but resources.memory is 12Gi (12.0 GiB), so the pod would be "
        "OOM-killed while loading; raise resources.memory to at least 15Gi, better 30Gi (twice the checkpoint, room "
        "for the compiler; the starter kit compiles 8B models with 96Gi) and run nodeGroups[0] on inf2.8xlarge "
        "(125.1 GiB allocatable; inf2.xlarge has 15.0 GiB)"]


def test_the_host_memory_fix_names_the_current_instance_when_it_has_room():
    with pytest.raises(ConfigError) as raised:
        parse_stack(_hub_llama("inf2.8xlarge", memory="12Gi"))
    assert str(raised.value.issues[0]).endswith(
        "raise resources.memory to at least 15Gi, better 30Gi (twice the checkpoint, room for the compiler; the "
        "starter kit compiles 8B models with 96Gi), which the 125.1 GiB allocatable of inf2.8xlarge holds")


def test_neuron_quantization_on_load_does_not_shrink_the_hub_checkpoint():
    # neuronConfig quantized: NxD Inference quantizes the 16-bit checkpoint after reading it.
    with pytest.raises(ConfigError) as raised:
        parse_stack(_hub_llama(neuronConfig={"quantized": True, "kv_cache_quant": True}))
    assert "8.03B parameters x 2 B at its stored bf16 = 15.0 GiB" in str(raised.value.issues[0])


def test_a_hub_checkpoint_under_twice_the_request_loads_with_a_warning():
    stack = parse_stack(_hub_llama(memory="15Gi"))
    assert _model_warnings(stack) == [
        "models[0] llama: NxD Inference shards the 15.0 GiB bf16 checkpoint in host memory to compile it (source: "
        "hub), peaking at 2x = 29.9 GiB, and resources.memory 15Gi (15.0 GiB) is less; the memory limit is raised to "
        "15391Mi, the whole allocatable of one inf2.xlarge node, so loading relies on the kernel dropping pages of "
        "the mapped checkpoint, but the scheduler reserves only the request; raise resources.memory to 30Gi and run "
        "nodeGroups[0] on inf2.8xlarge (125.1 GiB allocatable; inf2.xlarge has 15.0 GiB)"]


def test_twice_the_checkpoint_loads_without_warnings():
    assert _model_warnings(parse_stack(_hub_llama("inf2.8xlarge", memory="30Gi"))) == []


def test_a_precompiled_image_shards_its_checkpoint_on_every_start_so_it_is_held_to_the_host_memory_rule():
    # NxD Inference 0.6 compiles without pre-sharded weights (save_sharded_checkpoint defaults to False), so an
    # image's artifacts hold graphs only and every start loads the whole checkpoint: a warning, not an error,
    # since the raised limit covers loading and the workshop runs these images on inf2.xlarge.
    stack = parse_stack(_hub_llama(source="image", model="/opt/vllm/huggingface-cache/Llama-3.1-8B-Instruct"))
    assert _model_warnings(stack) == [
        "models[0] llama: NxD Inference shards the 15.0 GiB bf16 checkpoint in host memory on every start (source: "
        "image), peaking at 2x = 29.9 GiB, and resources.memory 12Gi (12.0 GiB) is less; the memory limit is raised "
        "to 15391Mi, the whole allocatable of one inf2.xlarge node, so loading relies on the kernel dropping pages of "
        "the mapped checkpoint (the workshop serves its images on inf2.xlarge with no limit), but the scheduler "
        "reserves only the request; raise resources.memory to 30Gi and run nodeGroups[0] on inf2.8xlarge (125.1 GiB "
        "allocatable; inf2.xlarge has 15.0 GiB)"]


def test_an_image_on_a_node_with_room_gets_a_limit_of_twice_its_checkpoint():
    stack = parse_stack(_hub_llama("inf2.8xlarge", source="image", model="/opt/vllm/huggingface-cache/Llama-3.1-8B-Instruct"))
    assert _model_warnings(stack) == [
        "models[0] llama: NxD Inference shards the 15.0 GiB bf16 checkpoint in host memory on every start (source: "
        "image), peaking at 2x = 29.9 GiB, and resources.memory 12Gi (12.0 GiB) is less; the memory limit is raised "
        "to 30634Mi, what loading needs, but the scheduler reserves only the request; raise resources.memory to 30Gi, "
        "which the 125.1 GiB allocatable of inf2.8xlarge holds"]


def test_a_presharded_checkpoint_needs_host_memory_for_one_checkpoint_only():
    stack = parse_stack(_hub_llama("inf2.8xlarge", memory="16Gi", neuronConfig={"save_sharded_checkpoint": True}))
    assert _model_warnings(stack) == []


def test_a_gpu_hub_model_streams_its_shards_and_is_not_held_to_the_checkpoint_size():
    stack = parse_stack({
        "hfToken": "hf_x", "nodeGroups": [{"name": "g6e", "instanceType": "g6e.xlarge"}],
        "models": [{"name": "llama", "accelerator": "gpu", "nodeGroup": "g6e", "image": "vllm/vllm-openai:v0.10.2",
                    "model": "meta-llama/Llama-3.1-8B-Instruct", "maxModelLen": 8192}]})
    assert _model_warnings(stack) == []


def test_the_accelerator_error_comes_before_the_host_memory_one():
    # The fix for the accelerator may move the model to another instance, which changes the host
    # memory on offer; the checkpoint is checked on the next load.
    with pytest.raises(ConfigError) as raised:
        parse_stack(_hub_llama(maxModelLen=131072, maxNumSeqs=2))
    assert [issue.path for issue in raised.value.issues] == ["models[0].maxNumSeqs"]


@pytest.mark.parametrize("stack_name", ["dev", "prod"])
def test_the_committed_stacks_pass_sizing_and_placement_with_only_the_known_model_warnings(stack_name):
    path = PROJECT_DIR / f"Pulumi.{stack_name}.yaml"
    if not path.exists():
        pytest.skip(f"{path.name} is not committed")
    stack = load_stack_file(path)
    expected = DEV_HOST_MEMORY_WARNINGS if stack_name == "dev" else []
    assert [w for w in warnings_of(stack) if w.startswith("models[")] == expected


def test_a_validated_stack_hands_out_each_models_record_and_refuses_a_model_it_does_not_hold():
    validated = validate_stack_file(PROJECT_DIR / "Pulumi.dev.yaml")
    model = validated.stack.models[1]
    assert validated.placement(model).index == 1
    with pytest.raises(KeyError, match="not one of this stack's models"):
        validated.placement(model.model_copy())
