"""vLLM's memory accounting, term by term, and the device memory it multiplies."""

from __future__ import annotations

import pytest

from vllm_eks.config.device_memory import DEVICE_MEMORY, device_memory
from vllm_eks.config.instance_catalog import INSTANCE_TYPES
from vllm_eks.config.model_catalog import CATALOG
from vllm_eks.config.sizing.vllm_defaults import default_max_num_batched_tokens, scheduler_defaults
from vllm_eks.config.sizing.vllm_memory import (
    GIB,
    VllmVersion,
    accounting,
    cudagraph_capture_sizes,
    image_vllm_version,
    non_torch_memory,
    peak_activation,
)


def test_every_accelerator_in_the_instance_catalog_has_a_reported_memory_with_a_source():
    models = {spec.accelerator_model for spec in INSTANCE_TYPES.values() if spec.accelerator}
    assert models <= set(DEVICE_MEMORY)
    assert all(memory.source for memory in DEVICE_MEMORY.values())


def test_cuda_reports_more_than_the_decimal_figure_on_hbm_cards_and_less_on_gddr_ones():
    assert device_memory("H200").total_bytes == round(139.8 * GIB) > 141 * 10**9
    assert device_memory("L40S").total_bytes < 48 * 10**9


def test_a_neuroncore_gets_half_an_inferentia2s_32_gib():
    assert INSTANCE_TYPES["inf2.xlarge"].reported_memory_per_schedulable_unit_bytes == 16 * GIB


@pytest.mark.parametrize("image, version, assumed", [
    ("vllm/vllm-openai:v0.10.2", VllmVersion(0, 10, 2), False),
    ("registry.example.com:5000/vllm/vllm-openai:0.26.0-cu130", VllmVersion(0, 26, 0), False),
    ("vllm/vllm-openai:latest", VllmVersion(0, 26, 0), True),
    ("vllm/vllm-openai@sha256:0123abcd", VllmVersion(0, 26, 0), True),
    ("registry.example.com/team/vllm:qwen2.5-7b", VllmVersion(0, 26, 0), True),
    ("registry.example.com/team/vllm:llama-3.1-8b", VllmVersion(0, 26, 0), True),
    ("registry.example.com/team/vllm:nightly-0.27.0", VllmVersion(0, 27, 0), False),
])
def test_the_image_tag_decides_the_vllm_version_and_an_unknown_tag_assumes_the_newest_measured(image, version, assumed):
    found = image_vllm_version(image)
    assert (found.version, found.assumed) == (version, assumed)


def test_cuda_graphs_are_subtracted_from_the_kv_cache_only_from_0_21_until_model_runner_v2_in_0_25_1():
    assert [accounting(VllmVersion(0, minor)).graphs_in_budget for minor in (10, 21, 25, 26)] == [False, True, True, False]
    assert not accounting(VllmVersion(0, 25, 1)).graphs_in_budget


def test_vllm_batches_8192_tokens_on_large_gpus_but_2048_on_an_a100_or_an_l40s():
    assert default_max_num_batched_tokens(device_memory("H100").total_bytes, "H100")[0] == 8192
    assert default_max_num_batched_tokens(device_memory("A100-80GB").total_bytes, "A100-80GB")[0] == 2048
    assert default_max_num_batched_tokens(device_memory("L40S").total_bytes, "L40S")[0] == 2048


def test_unset_scheduler_limits_are_capped_as_vllm_caps_them():
    # 1 sequence of 1024 tokens needs no 8192-token batch; a 128-token budget runs at most 128 sequences.
    assert scheduler_defaults(1, None, 1024, 1024, 8192) == (1, 1024)
    assert scheduler_defaults(None, 128, 32768, 1024, 8192) == (128, 128)
    assert scheduler_defaults(None, None, 32768, 256, 2048) == (256, 2048)
    assert scheduler_defaults(512, 128, 32768, 1024, 8192) == (512, 128)


def test_vllm_captures_51_graph_sizes_up_to_512_and_fewer_for_few_sequences():
    assert cudagraph_capture_sizes(1024) == cudagraph_capture_sizes(256) == 51
    assert cudagraph_capture_sizes(1) == 2
    # Never above the token budget; speculative tokens widen each decode step (1 + 3 tokens x 2 x 4 seqs = 32).
    assert cudagraph_capture_sizes(1024, max_num_batched_tokens=16) == 5
    assert cudagraph_capture_sizes(4, num_speculative_tokens=3) == cudagraph_capture_sizes(16) == 7


def test_the_sampler_sets_llamas_peak_and_the_mlp_sets_qwen3_32bs():
    llama = peak_activation(CATALOG["meta-llama/Llama-3.1-8B-Instruct"], 8192, 1024, 1, False)
    qwen = peak_activation(CATALOG["Qwen/Qwen3-32B"], 8192, 1024, 1, True)
    # 1024 requests x 128256 tokens x (2 + 4 + 4) bytes of logits, float32 copy and probabilities.
    assert llama.sampler_bytes > llama.forward_bytes and llama.requests == 1024
    # 8192 tokens x (2 x (2 x 5120 + 3 x 25600) + 5120 + 25600) bytes.
    assert qwen.forward_bytes == 8192 * 204800 and qwen.peak_bytes == qwen.forward_bytes


def test_tensor_parallelism_adds_nccl_buffers_more_over_nvlink():
    single = non_torch_memory(1, True)
    assert non_torch_memory(4, True) > non_torch_memory(4, False) > single
