"""vLLM as each image really runs it (issue 21): one test per bullet of the issue's "Why", each failing on
the main before it. The version's facts are the generated tables (config/vllm_facts/data), read from the
version's own wheel."""

from __future__ import annotations

from typing import Any

import pytest

from tests.config.stacks import parse_stack, sizings_of, warnings_of
from tests.conftest import PROJECT_DIR
from vllm_eks.config.errors import ConfigError
from vllm_eks.config.loader import load_stack_file
from vllm_eks.config.sizing.vllm_defaults import (
    LARGE_DEVICE_MAX_NUM_BATCHED_TOKENS,
    LARGE_DEVICE_MAX_NUM_SEQS,
    MAX_NUM_BATCHED_TOKENS,
    MAX_NUM_SEQS,
)
from vllm_eks.config.validation import validate_stack
from vllm_eks.config.vllm_facts import facts_for
from vllm_eks.config.vllm_facts.selection import capture_rule, cudagraph_capture_sizes
from vllm_eks.preview.sizing_table import format_sizing_table


def _l40s(**model: Any) -> Any:
    base = {"name": "qwen", "accelerator": "gpu", "nodeGroup": "g6e", "image": "vllm/vllm-openai:v0.10.2",
            "source": "image", "model": "Qwen/Qwen3-32B-FP8", "gpuMemoryUtilization": 0.93, "maxModelLen": 32768,
            "resources": {"memory": "24Gi"}, "shmSize": "16Gi"}
    return parse_stack({"nodeGroups": [{"name": "g6e", "instanceType": "g6e.xlarge"}], "models": [{**base, **model}]})


def _issues(build: Any) -> list[str]:
    """The problems validation raises for the stack `build()` makes (parsing validates too)."""
    with pytest.raises(ConfigError) as raised:
        validate_stack(build())
    return [str(issue) for issue in raised.value.issues]


# Why 1: prod's Qwen3-32B-FP8 on v0.10.2 with an fp8 KV cache on an L40S falls back to V0 and crash-loops.

def test_an_fp8_kv_cache_on_an_l40s_makes_vllm_0_10_2_fall_back_to_v0_which_cannot_hold_one_sequence():
    issues = _issues(lambda: _l40s(kvCacheDtype="fp8"))
    assert len(issues) == 1 and issues[0].startswith("models[0].maxModelLen: models[0] qwen: vLLM 0.10.2 would leave")
    # V0 profiles a whole 32,768-token prompt (no chunked prefill at <= 32768): a 6.2 GiB activation.
    assert "peak activation 6.2 GiB" in issues[0] and "less than one maxModelLen 32768 sequence" in issues[0]


def test_the_engine_fallback_is_said_in_vllms_words_with_the_setting_that_stays_on_v1():
    stack = _l40s(kvCacheDtype="fp8", maxModelLen=8192)
    [warning] = [w for w in warnings_of(stack) if "Falling back to V0" in w]
    assert warning.startswith("models[0] qwen: vLLM 0.10.2 runs it on engine V0: --kv-cache-dtype is not supported by "
                              "the V1 Engine. Falling back to V0 (fp8 KV cache with FLASH_ATTN_VLLM_V1 on compute "
                              "capability 8.9")
    assert "VLLM_ATTENTION_BACKEND=TRITON_ATTN_VLLM_V1" in warning


def test_the_triton_backend_keeps_an_fp8_kv_cache_on_v1_on_an_l40s_and_an_h100_needs_nothing():
    triton = sizings_of(_l40s(kvCacheDtype="fp8", env={"VLLM_ATTENTION_BACKEND": "TRITON_ATTN_VLLM_V1"}))[0]
    assert triton.vllm.choice.engine == "V1" and triton.fits
    h100 = parse_stack({"nodeGroups": [{"name": "p5", "instanceType": "p5.48xlarge"}], "models": [{
        "name": "qwen", "accelerator": "gpu", "nodeGroup": "p5", "image": "vllm/vllm-openai:v0.10.2",
        "source": "image", "model": "Qwen/Qwen3-32B-FP8", "maxModelLen": 32768, "kvCacheDtype": "fp8"}]})
    assert sizings_of(h100)[0].vllm.choice.engine == "V1"  # FA3 on compute capability 9


def test_prod_runs_every_gpu_model_on_v1_and_its_sizing_table_says_which_engine_and_runner():
    validated = validate_stack(load_stack_file(PROJECT_DIR / "Pulumi.prod.yaml"))
    table = format_sizing_table(validated)
    gpu = [placed for placed in validated.placed if placed.sizing.vllm is not None]
    assert [placed.model.name for placed in gpu] == ["qwen3-32b-fp8", "llama-3-3-70b"]
    assert all(placed.sizing.vllm.choice.engine == "V1" and placed.sizing.fits for placed in gpu)
    assert table.count("engine V1, runner V1 (as vLLM picks them from the generated facts)") == 2
    assert not [w for w in validated.warnings if "V0" in w]


# Why 2: CUDA-graph capture sizes, token budgets and their caps differ by version.

def test_cuda_graph_capture_sizes_follow_each_versions_rule():
    assert capture_rule(facts_for("0.10.2")) == "step8" and capture_rule(facts_for("0.26.0")) == "step8_16"
    # 0.10.2: [1, 2, 4] + range(8, min(2 x 256, 512) + 1, 8) = 3 + 64; later: 3 + 31 (below 256) + 17 (256..512).
    assert cudagraph_capture_sizes(256, 2048, rule="step8") == 67
    assert cudagraph_capture_sizes(256, 2048, rule="step8_16") == 51
    assert "range(8, cuda_graph_sizes[0] + 1, 8)" in " ".join(
        facts_for("0.10.2").raw["rules"]["cudagraph_capture_sizes"]["statements"])


def test_an_l40s_on_0_10_2_is_sized_with_its_67_graph_sizes_not_a_later_versions_51():
    old = sizings_of(_l40s(maxModelLen=16384))[0].vllm
    new = sizings_of(_l40s(maxModelLen=16384, image="vllm/vllm-openai:v0.26.0"))[0].vllm
    assert round(old.graph_bytes / new.graph_bytes, 3) == round(67 / 51, 3)


def test_the_v0_engine_profiles_a_whole_max_model_len_prompt_and_v1_its_chunked_budget():
    v0 = sizings_of(_l40s(maxModelLen=16384, env={"VLLM_USE_V1": "0"}))[0].vllm
    v1 = sizings_of(_l40s(maxModelLen=16384))[0].vllm
    assert (v0.choice.engine, v0.max_num_batched_tokens) == ("V0", 16384)
    assert (v1.choice.engine, v1.max_num_batched_tokens) == ("V1", 2048)


# Why 3: flag values and parser names the image's vLLM refuses.

@pytest.mark.parametrize("field, value, key, accepted", [
    ("kvCacheDtype", "bfloat16", "kvCacheDtype", "--kv-cache-dtype accepts auto, fp8, fp8_e4m3, fp8_e5m2, fp8_inc"),
    ("quantization", "gpt_oss_mxfp4", "quantization", "--quantization accepts "),
    ("toolCallParser", "qwen3_xml", "toolCallParser", "--tool-call-parser accepts deepseek_v3, "),
    ("reasoningParser", "nemotron_v3", "reasoningParser", "--reasoning-parser accepts deepseek_r1, "),
])
def test_a_value_vllm_0_10_2_refuses_is_an_error_at_its_key_with_the_values_it_accepts(field, value, key, accepted):
    issues = _issues(lambda: _l40s(maxModelLen=8192, **{field: value}))
    [issue] = [issue for issue in issues if issue.startswith(f"models[0].{key}:")]
    assert f"{key} {value!r} is refused by vLLM 0.10.2" in issue and accepted in issue


def test_the_same_values_pass_on_a_version_that_accepts_them():
    stack = _l40s(maxModelLen=8192, image="vllm/vllm-openai:v0.26.0", toolCallParser="qwen3_xml",
                  reasoningParser="qwen3", kvCacheDtype="bfloat16")
    validate_stack(stack)


def test_a_draft_model_on_0_10_2_is_refused_as_vllm_refuses_it():
    issues = _issues(lambda: _l40s(maxModelLen=8192, speculativeConfig={"model": "Qwen/Qwen3-0.6B", "numSpeculativeTokens": 3}))
    assert any(issue.startswith("models[0].speculativeConfig: models[0] qwen: vLLM 0.10.2 does not run a draft-model "
                                "speculativeConfig: ") and "infers draft_model" in issue
               # vllm/config/__init__.py @ 0.10.2, SpeculativeConfig.__post_init__: an undetected method is
               # draft_model and raises at once, before any model runner is built.
               and "NotImplementedError 'Speculative decoding with draft model is not supported yet' "
                   "(SpeculativeConfig.__post_init__" in issue
               for issue in issues)


def test_a_neuron_image_is_checked_against_the_vllm_its_base_image_installs():
    stack = load_stack_file(PROJECT_DIR / "Pulumi.dev.yaml")
    model = stack.models[0].model_copy(update={"tool_call_parser": "qwen3_xml"})
    issues = _issues(lambda: stack.model_copy(update={"models": [model, *stack.models[1:]]}))
    assert any("refused by vLLM 0.9.1 (the vLLM 0.9.1 its base image installs" in issue for issue in issues)


# Why 4: vLLM 0.26 runs ngram speculative decoding on its V1 model runner, which subtracts graphs.

def test_ngram_speculative_decoding_on_0_26_runs_the_v1_runner_which_subtracts_cuda_graphs():
    stack = parse_stack({"nodeGroups": [{"name": "p5en", "instanceType": "p5en.48xlarge"}], "models": [{
        "name": "llama", "accelerator": "gpu", "nodeGroup": "p5en", "image": "vllm/vllm-openai:v0.26.0",
        "source": "image", "model": "meta-llama/Llama-3.1-8B-Instruct", "maxModelLen": 8192, "gpuMemoryUtilization": 0.9,
        "speculativeConfig": {"method": "ngram", "numSpeculativeTokens": 4}}]})
    memory = sizings_of(stack)[0].vllm
    assert (memory.choice.runner, memory.graphs_in_budget) == ("V1", True)
    assert memory.choice.reasons == ("Model Runner V2 does not yet support ngram/ngram_gpu speculative decoding; "
                                     "using the V1 model runner instead",)
    # shared/MEASUREMENTS.md 2026-12-03: peak activation 3.85 GiB, KV 870,640 tokens; the planner is not above it.
    assert abs(memory.activation.peak_bytes / 2**30 - 3.85) <= 0.25
    assert memory.kv_tokens <= 870_640 and memory.kv_tokens >= 0.97 * 870_640


def test_dense_models_on_0_26_run_model_runner_v2_and_0_10_2_has_only_the_v1_runner():
    dense = sizings_of(_l40s(maxModelLen=8192, image="vllm/vllm-openai:v0.26.0"))[0].vllm.choice
    old = sizings_of(_l40s(maxModelLen=8192))[0].vllm.choice
    assert (dense.runner, dense.graphs_in_budget) == ("V2", False) and old.runner == "V1"
    assert "Qwen2MoeForCausalLM" in facts_for("0.26.0").raw["rules"]["model_runner_v2"]["default_architectures"]


# Why 5: image-served Neuron models are sized from the graphs their image holds.

def test_an_image_served_neuron_model_is_sized_from_its_compiled_graphs_not_its_override():
    llama = sizings_of(load_stack_file(PROJECT_DIR / "Pulumi.dev.yaml"))[0]
    assert (llama.weights.name, llama.kv.name) == ("bf16", "bf16")
    assert llama.weights.source.startswith("graphs compiled at bfloat16 in public.ecr.aws/t0h7h1e6/vllm-neuron:llama-3-1-8b-int8")


@pytest.mark.parametrize("version", ["0.10.2", "0.26.0", "0.34.0"])
def test_the_scheduler_defaults_the_planner_assumes_are_the_ones_each_versions_source_sets(version):
    # config/sizing/vllm_defaults.py: 1024 sequences / 8192 tokens on >= 70 GiB GPUs, else 256 / 2048, for `vllm serve`.
    dicts = facts_for(version).raw["rules"]["batch_defaults"]["dicts"]
    for tokens, seqs in ((LARGE_DEVICE_MAX_NUM_BATCHED_TOKENS, LARGE_DEVICE_MAX_NUM_SEQS), (MAX_NUM_BATCHED_TOKENS, MAX_NUM_SEQS)):
        assert any(f"UsageContext.OPENAI_API_SERVER: {tokens}}}" in text for text in dicts)
        assert any(f"UsageContext.OPENAI_API_SERVER: {seqs}}}" in text for text in dicts)


def test_an_extra_arg_the_images_vllm_does_not_define_is_a_warning_and_its_boolean_negation_is_not():
    stack = _l40s(maxModelLen=8192, extraArgs=["--no-enable-chunked-prefill", "--disable_log_stats",
                                               "--max-seq-len-to-capture=8192", "--swap-space=4"])
    warnings = [w for w in warnings_of(stack) if ".extraArgs[" in w]
    assert warnings == []  # every one is a 0.10.2 flag (max-seq-len-to-capture and swap-space were removed later)
    newer = _l40s(maxModelLen=8192, image="vllm/vllm-openai:v0.34.0", extraArgs=["--swap-space=4"])
    [warning] = [w for w in warnings_of(newer) if ".extraArgs[" in w]
    assert warning.startswith("models[0].extraArgs[0]: --swap-space is not a flag vLLM 0.34.0 defines")


@pytest.mark.parametrize("version", ["0.26.0", "0.32.0", "0.34.0"])
def test_the_api_servers_own_flags_are_read_wherever_that_version_keeps_them(version):
    flags = facts_for(version).raw["flags"]
    assert {"--tool-call-parser", "--port", "--enable-auto-tool-choice", "--max-num-seqs"} <= set(flags)


def test_an_unset_gpu_memory_utilization_is_the_images_versions_default():
    # CacheConfig.gpu_memory_utilization: 0.9 in 0.10.2, Field(default=0.92) in 0.26.0 (vllm/config/cache.py).
    assert facts_for("0.10.2").raw["flags"]["--gpu-memory-utilization"]["default"] == 0.9
    assert facts_for("0.26.0").raw["flags"]["--gpu-memory-utilization"]["default"] == 0.92
    old = sizings_of(_l40s(maxModelLen=8192, gpuMemoryUtilization=None))[0]
    new = sizings_of(_l40s(maxModelLen=8192, gpuMemoryUtilization=None, image="vllm/vllm-openai:v0.26.0"))[0]
    assert (old.utilization, new.utilization) == (0.9, 0.92)


def test_a_draft_named_as_an_eagle_head_is_inferred_as_eagle_and_runs_on_0_10_2():
    eagle = _l40s(maxModelLen=8192, speculativeConfig={"model": "yuhuili/EAGLE-LLaMA3-Instruct-8B", "numSpeculativeTokens": 3})
    assert sizings_of(eagle)[0].vllm.choice.refusal is None
    issues = _issues(lambda: _l40s(maxModelLen=8192, speculativeConfig={
        "model": "Qwen/Qwen3-0.6B", "method": "draft_model", "numSpeculativeTokens": 3}))
    assert any("NotImplementedError 'Speculative decoding with draft model is not supported yet'" in issue for issue in issues)


def test_vllm_0_9_1_keeps_an_fp8_kv_cache_on_v1_only_with_flash_attention_3_so_triton_does_not_help_there():
    # vllm/engine/arg_utils.py @ 0.9.1, _is_v1_supported_oracle: "No Fp8 KV cache so far" is lifted only when
    # FlashAttention will run (no VLLM_ATTENTION_BACKEND, or FLASH_ATTN_VLLM_V1) and flash_attn_supports_fp8();
    # there is no is_kv_cache_dtype_supported yet, so TRITON_ATTN_VLLM_V1 falls back to V0.
    triton = _l40s(maxModelLen=8192, kvCacheDtype="fp8", image="vllm/vllm-openai:v0.9.1",
                   env={"VLLM_ATTENTION_BACKEND": "TRITON_ATTN_VLLM_V1"})
    assert sizings_of(triton)[0].vllm.choice.engine == "V0"
    [warning] = [w for w in warnings_of(triton) if "Falling back to V0" in w]
    assert "Set env VLLM_ATTENTION_BACKEND" not in warning and "Drop kvCacheDtype to stay on V1" in warning
    assert sizings_of(_l40s(maxModelLen=8192, kvCacheDtype="fp8", env={
        "VLLM_ATTENTION_BACKEND": "TRITON_ATTN_VLLM_V1"}))[0].vllm.choice.engine == "V1"  # 0.10.2 from 8.9


def test_vllm_use_v1_set_with_an_fp8_kv_cache_v1_cannot_run_is_an_error_not_a_fallback():
    # vllm/engine/arg_utils.py @ 0.10.2, _raise_or_fallback: with VLLM_USE_V1 set to true it raises
    # NotImplementedError("VLLM_USE_V1=1 is not supported with --kv-cache-dtype.") instead of falling back to V0.
    issues = _issues(lambda: _l40s(maxModelLen=8192, kvCacheDtype="fp8", env={"VLLM_USE_V1": "1"}))
    [issue] = [issue for issue in issues if issue.startswith("models[0].kvCacheDtype:")]
    assert "NotImplementedError 'VLLM_USE_V1=1 is not supported with --kv-cache-dtype.'" in issue
    validate_stack(_l40s(maxModelLen=8192, kvCacheDtype="fp8", env={
        "VLLM_USE_V1": "1", "VLLM_ATTENTION_BACKEND": "TRITON_ATTN_VLLM_V1"}))
