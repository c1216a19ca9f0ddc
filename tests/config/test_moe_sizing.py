"""Mixture-of-experts models sized from their shapes (issue 21 item 3): every expert's weights, the profile
run's activation on vLLM 0.26.0's Triton fused_moe path, and the V1 model runner vLLM picks for them.
No MoE model has been measured (shared/MEASUREMENTS.md): these check the arithmetic against vLLM's source
shapes, not against a log."""

from __future__ import annotations

from typing import Any

import pytest

from tests.config.stacks import parse_stack, sizings_of
from vllm_eks.config.model_catalog import CATALOG, ArchitectureBlock, match_model
from vllm_eks.config.sizing.moe_activation import (
    dense_mlp_bytes_per_token,
    forward_bytes_per_token,
    moe_layer_bytes_per_token,
    triton_moe_workspace_bytes_per_token,
)
from vllm_eks.config.sizing.precision import Precision, weights_size
from vllm_eks.config.sizing.vllm_memory import peak_activation
from vllm_eks.config.validation import validate_stack
from vllm_eks.preview.sizing_table import format_sizing_table

QWEN3_30B = CATALOG["Qwen/Qwen3-30B-A3B"]
MIXTRAL = CATALOG["mistralai/Mixtral-8x7B-Instruct-v0.1"]


def _h200(model: str, **extra: Any) -> Any:
    return parse_stack({"nodeGroups": [{"name": "p5en", "instanceType": "p5en.48xlarge"}], "models": [{
        "name": "moe", "accelerator": "gpu", "nodeGroup": "p5en", "image": "vllm/vllm-openai:v0.26.0",
        "source": "image", "model": model, "maxModelLen": 8192, "gpuMemoryUtilization": 0.9, **extra}]})


def test_qwen3_30b_a3b_counts_all_128_experts_in_its_parameters_like_its_model_card():
    # Model card: 30.5B in total, 29.9B non-embedding (3.3B activated is not what the GPU holds).
    assert QWEN3_30B.parameters == 30_532_122_624
    assert (QWEN3_30B.parameters - QWEN3_30B.embedding_parameters) / 1e9 == pytest.approx(29.9, rel=0.01)
    assert CATALOG["Qwen/Qwen3-235B-A22B"].parameters / 1e9 == pytest.approx(235, rel=0.01)
    assert MIXTRAL.parameters / 1e9 == pytest.approx(46.7, rel=0.01)


def test_an_moe_models_bf16_weights_are_every_expert_at_two_bytes():
    assert weights_size(QWEN3_30B, Precision("bfloat16", 2, "test")) == 2 * 30_532_122_624


def test_the_triton_workspace_is_top_k_times_the_wider_of_each_gemm_and_hidden():
    # TritonExperts.workspace_shapes: workspace13 (M, top_k, max(N/2, K)), workspace2 (M, top_k, max(N, K)),
    # N = 2 x 768, K = 2048 for Qwen3-30B-A3B at TP 1: 8 x (2048 + 2048) elements x 2 bytes.
    assert triton_moe_workspace_bytes_per_token(2048, 768, 8, 1) == 2 * 8 * (2048 + 2048)
    # Mixtral: N = 2 x 14336 > K = 4096: 2 x (14336 + 28672) elements x 2 bytes; at TP 2 the width halves.
    assert triton_moe_workspace_bytes_per_token(4096, 14336, 2, 1) == 2 * 2 * (14336 + 28672)
    assert triton_moe_workspace_bytes_per_token(4096, 14336, 2, 2) == 2 * 2 * (7168 + 14336)


def test_an_moe_layer_holds_the_workspace_router_logits_routing_and_its_output_per_token():
    expected = (2 * 2 * 2048          # residual stream and normalised input
                + 2 * 128             # router logits, tokens x experts in bf16
                + 8 * (4 + 4)         # topk_weights float32, topk_ids int32
                + 8 * 4               # sorted_token_ids int32
                + 2 * 8 * (2048 + 2048)  # Triton workspace
                + 2 * 2048)           # the layer's output
    assert moe_layer_bytes_per_token(QWEN3_30B, 1, quantized_activations=False) == expected
    fp8 = moe_layer_bytes_per_token(QWEN3_30B, 1, quantized_activations=True)
    assert fp8 - expected == 2048 + 8 * 768  # quantized input of each expert GEMM
    assert forward_bytes_per_token(QWEN3_30B, 1, False) == expected


def test_the_forward_pass_of_an_moe_model_is_its_moe_layer_not_a_dense_mlp_of_zero_width():
    activation = peak_activation(QWEN3_30B, 8192, 1024, 1, quantized_activations=False)
    assert activation.forward_bytes == 8192 * moe_layer_bytes_per_token(QWEN3_30B, 1, False)
    assert activation.forward_bytes > 8192 * dense_mlp_bytes_per_token(QWEN3_30B, 1, False)
    assert activation.forward_bytes / 2**30 == pytest.approx(0.596, abs=0.001)  # 78,176 B per token x 8192 tokens


def test_qwen3_moe_on_0_26_runs_the_v1_model_runner_which_subtracts_cuda_graphs():
    memory = sizings_of(_h200("Qwen/Qwen3-30B-A3B"))[0].vllm
    assert (memory.choice.runner, memory.graphs_in_budget) == ("V1", True)
    assert memory.choice.reasons == (
        "mixture-of-experts Qwen3MoeForCausalLM is not in DEFAULT_V2_MODEL_RUNNER_ARCHITECTURES: the V1 model "
        "runner (vllm/config/vllm.py)",)


def test_the_sizing_table_says_an_moe_model_runs_runner_v1_and_which_kernel_its_activation_assumes():
    table = format_sizing_table(validate_stack(_h200("Qwen/Qwen3-30B-A3B")))
    assert "engine V1, runner V1 (mixture-of-experts Qwen3MoeForCausalLM" in table
    assert "128 experts of width 768, top 8 per token, all resident" in table
    assert "activation: Triton fused_moe (vLLM 0.26.0's choice for bf16 experts below compute capability 10" in table
    fp8 = format_sizing_table(validate_stack(_h200("Qwen/Qwen3-30B-A3B-FP8")))
    assert "Triton fused_moe assumed: an estimate here" in fp8


def test_an_moe_architecture_on_vllms_v2_list_stays_on_model_runner_v2():
    block = {"parameters": 14.3e9, "layers": 24, "attentionHeads": 16, "kvHeads": 16, "headDim": 128,
             "maxPositionEmbeddings": 8192, "numExperts": 60, "numExpertsPerTok": 4, "moeIntermediateSize": 1408,
             "sharedExpertIntermediateSize": 5632, "hiddenSize": 2048, "vocabSize": 151936,
             "hfArchitecture": "Qwen2MoeForCausalLM"}
    memory = sizings_of(_h200("/models/qwen2-moe", architecture=block))[0].vllm
    assert memory.choice.runner == "V2"
    assert memory.activation.forward_bytes > 0


def test_an_fp8_moe_checkpoint_matches_its_base_model_by_name():
    assert match_model("Qwen/Qwen3-30B-A3B-FP8")[0] is QWEN3_30B


def test_an_inline_moe_block_needs_the_shapes_activation_is_sized_from():
    block = ArchitectureBlock.model_validate({
        "parameters": 30.5e9, "layers": 48, "attentionHeads": 32, "kvHeads": 4, "headDim": 128,
        "maxPositionEmbeddings": 40960, "numExperts": 128, "numExpertsPerTok": 8, "moeIntermediateSize": 768,
        "hiddenSize": 2048, "vocabSize": 151936})
    arch = block.to_architecture("qwen")
    assert arch.is_moe and arch.parameters == 30_500_000_000
    assert forward_bytes_per_token(arch, 1, False) == forward_bytes_per_token(QWEN3_30B, 1, False)
