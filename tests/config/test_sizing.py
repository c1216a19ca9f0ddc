"""Sizing arithmetic: the guide's formula, precision resolution and KV-head sharding."""

from __future__ import annotations

import pytest

from tests.config.stacks import parse_stack, sizings_of
from tests.conftest import PROJECT_DIR
from vllm_eks.config.accelerators import ACCELERATORS, AcceleratorKind
from vllm_eks.config.instance_catalog import INSTANCE_TYPES
from vllm_eks.config.loader import load_stack_file
from vllm_eks.config.model_catalog import CATALOG, CATALOG_ENTRIES
from vllm_eks.config.sizing.precision import Precision, weights_size
from vllm_eks.config.sizing.vllm_defaults import default_max_num_seqs
from vllm_eks.config.units import GIB, KIB
from vllm_eks.config.validation import validate_stack
from vllm_eks.preview.sizing_table import format_sizing_table


def test_llama_31_8b_needs_128_kib_of_kv_cache_per_token_at_16_bit():
    assert CATALOG["meta-llama/Llama-3.1-8B-Instruct"].kv_bytes_per_token(2) == 128 * KIB


@pytest.mark.parametrize("arch", CATALOG_ENTRIES, ids=lambda a: a.hf_id)
def test_kv_per_token_of_every_catalog_model_is_the_guide_formula(arch):
    for bytes_per_element in (1, 2):
        assert arch.kv_bytes_per_token(bytes_per_element) == (
            2 * arch.layers * arch.kv_heads * arch.head_dim * bytes_per_element)


@pytest.mark.parametrize("tp, kv_heads, strategy", [(1, 8, "even"), (8, 8, "even"), (16, 16, "replicated")])
def test_vllm_gives_each_gpu_rank_at_least_one_kv_head(tp, kv_heads, strategy):
    sharding = ACCELERATORS[AcceleratorKind.GPU].head_sharding.shard(CATALOG["meta-llama/Llama-3.1-8B-Instruct"], tp)
    assert (sharding.kv_heads, sharding.strategy) == (kv_heads, strategy)


def test_neuron_tp_12_on_an_8b_model_pads_heads_and_converts_to_multi_head_attention():
    # NxD Inference gqa.py: 32 heads padded to 36 (a multiple of 12); 12 % 8 != 0 -> CONVERT_TO_MHA.
    sharding = ACCELERATORS[AcceleratorKind.NEURON].head_sharding.shard(CATALOG["meta-llama/Llama-3.1-8B-Instruct"], 12)
    assert (sharding.attention_heads, sharding.kv_heads, sharding.strategy) == (36, 36, "convert-to-mha")


def test_neuron_tp_16_replicates_8_kv_heads_to_the_degree():
    sharding = ACCELERATORS[AcceleratorKind.NEURON].head_sharding.shard(CATALOG["meta-llama/Llama-3.1-8B-Instruct"], 16)
    assert (sharding.attention_heads, sharding.kv_heads, sharding.strategy) == (32, 16, "replicated")


@pytest.fixture(scope="module")
def dev_sizing():
    return sizings_of(load_stack_file(PROJECT_DIR / "Pulumi.dev.yaml"))


def test_dev_llama_is_sized_from_the_bf16_graphs_its_image_holds_not_from_its_override(dev_sizing):
    # vLLM builds the model from the compiled artifacts' neuron config (upstreaming-to-vllm neuronx_distributed.py
    # load_weights), and the workshop image's graphs are bf16 (config/image_catalog.py, docs/neuron-images.md):
    # the int8/kv_cache_quant override the stack repeats changes nothing in memory (issue 21).
    llama = dev_sizing[0]
    assert (llama.weights.name, llama.kv.name) == ("bf16", "bf16")
    assert "graphs compiled at bfloat16" in llama.weights.source
    assert llama.weight_bytes == 8_030_261_248 * 2
    assert llama.kv_bytes_per_token == 128 * KIB
    assert llama.requested_kv_bytes == 4 * 8192 * 128 * KIB == 4 * GIB


def test_dev_qwen_is_the_images_bf16_and_fits_two_neuroncores(dev_sizing):
    # The workshop image's graphs were compiled with no override: bf16 weights and KV cache (docs/neuron-images.md).
    qwen = dev_sizing[1]
    assert (qwen.weights.name, qwen.kv.name, qwen.kv_bytes_per_token) == ("bf16", "bf16", 144 * KIB)
    # AWS's Neuron architecture docs: 32 GiB of HBM per Inferentia2, split between its 2 NeuronCores.
    assert qwen.usable_bytes == 2 * 16 * GIB and qwen.utilization is None
    assert qwen.fits


def _gpu(**model):
    base = {"name": "qwen", "accelerator": "gpu", "nodeGroup": "g6e", "image": "vllm/vllm-openai:v0.10.2",
            "source": "image", "model": "Qwen/Qwen3-32B-FP8", "resources": {"memory": "24Gi"}}
    return parse_stack({"nodeGroups": [{"name": "g6e", "instanceType": "g6e.xlarge"}], "models": [{**base, **model}]})


def test_the_guides_qwen3_32b_fp8_on_one_l40s_is_sized_by_vllms_own_accounting():
    sizing = sizings_of(_gpu(gpuMemoryUtilization=0.95, maxModelLen=32768))[0]
    # The guide's parameters x 1 B, plus the 1.56B embedding and lm_head parameters FP8 leaves at 16 bits.
    assert round(sizing.architecture.parameters / GIB, 1) == 30.5
    assert round(sizing.weight_bytes / GIB, 1) == 32.0
    assert sizing.kv_bytes_per_token == 256 * KIB
    memory = sizing.vllm
    # CUDA reports 44.39 GiB for an L40S, not the 44.7 GiB of its decimal 48 GB; 2048 batched tokens below 70 GiB.
    assert round(memory.requested_bytes / GIB, 2) == 42.17 and memory.max_num_batched_tokens == 2048
    assert (sizing.kv_capacity_tokens, round(sizing.concurrency, 2)) == (39184, 1.2)
    assert sizing.fits and not sizing.headroom_fits


def test_an_fp8_kv_cache_dtype_halves_kv_per_token():
    sizing = sizings_of(_gpu(maxModelLen=32768, kvCacheDtype="fp8", image="vllm/vllm-openai:v0.26.0"))[0]
    assert sizing.kv_bytes_per_token == 128 * KIB


def test_awq_quantization_counts_half_a_byte_per_weight():
    sizing = sizings_of(_gpu(model="Qwen/Qwen3-8B", quantization="awq", maxModelLen=8192))[0]
    assert sizing.weights.bytes == 0.5


def test_an_unset_max_model_len_defaults_to_the_models_positions():
    sizing = sizings_of(_gpu(model="Qwen/Qwen3-8B"))[0]
    assert (sizing.max_model_len, sizing.max_model_len_is_default) == (40960, True)


def test_the_sizing_table_prints_binary_units_with_the_unit():
    table = format_sizing_table(validate_stack(load_stack_file(PROJECT_DIR / "Pulumi.dev.yaml")))
    assert "models[0] llama-3-1-8b-int8-neuron on inf2.xlarge" in table
    assert "128 KiB/token at bf16" in table and "32.0 GiB" in table
    assert "changing them means recompiling" in table


def test_an_unknown_architecture_is_reported_not_sized():
    stack = _gpu(model="example/unknown-7b", maxModelLen=8192)
    assert "not sized" in format_sizing_table(validate_stack(stack))


@pytest.mark.parametrize("instance, accelerator, expected", [
    ("p5.48xlarge", AcceleratorKind.GPU, 1024), ("p5e.48xlarge", AcceleratorKind.GPU, 1024),
    ("p4de.24xlarge", AcceleratorKind.GPU, 256), ("p4d.24xlarge", AcceleratorKind.GPU, 256),
    ("g6e.xlarge", AcceleratorKind.GPU, 256), ("inf2.xlarge", AcceleratorKind.NEURON, 256),
])
def test_an_unset_max_num_seqs_follows_vllms_hardware_dependent_default(instance, accelerator, expected):
    # vllm/engine/arg_utils.py: 1024 on devices with >= 70 GiB whose name has no "a100", else 256.
    assert default_max_num_seqs(ACCELERATORS[accelerator], INSTANCE_TYPES[instance])[0] == expected


def test_the_table_says_an_unset_max_num_seqs_is_an_assumed_default():
    table = format_sizing_table(validate_stack(_gpu(maxModelLen=16384, gpuMemoryUtilization=0.94)))
    assert "maxNumSeqs           256 (unset: vLLM's default below 70 GiB per GPU and on A100 (L40S), assumed)" in table


@pytest.mark.parametrize("name, kept", [("meta-llama/Llama-3.1-8B-Instruct", 2 * 128256 * 4096),
                                        ("Qwen/Qwen3-4B", 151936 * 2560)])
def test_quantized_weights_keep_embeddings_and_lm_head_at_16_bits(name, kept):
    arch = CATALOG[name]  # Qwen3-4B ties lm_head to the embeddings: one matrix
    assert arch.embedding_parameters == kept
    assert weights_size(arch, Precision("fp8", 1, "test")) == arch.parameters + kept
    assert weights_size(arch, Precision("int4", 0.5, "test")) == (arch.parameters - kept) * 0.5 + kept * 2
    assert weights_size(arch, Precision("bf16", 2, "test")) == arch.parameters * 2


def test_an_architecture_block_gives_no_vocabulary_so_all_its_weights_count_as_quantized():
    stack = _gpu(model="example/custom-7b-fp8", maxModelLen=8192, architecture={
        "parameters": 7e9, "layers": 32, "attentionHeads": 32, "kvHeads": 8, "headDim": 128,
        "maxPositionEmbeddings": 32768})
    assert sizings_of(stack)[0].weight_bytes == 7e9


def test_the_table_shows_how_the_weights_are_made_up():
    table = format_sizing_table(validate_stack(_gpu(maxModelLen=16384, gpuMemoryUtilization=0.94)))
    assert ("32.0 GiB at fp8 (31.21B parameters x 1 B + 1.56B embedding and lm_head parameters x 2 B; "
            "'fp8' in the model name)") in table


def test_the_table_shows_the_assumed_vllm_version_and_the_memory_in_vllms_log_order():
    table = format_sizing_table(validate_stack(_gpu(maxModelLen=16384, gpuMemoryUtilization=0.94)))
    assert "  vLLM                 0.10.2 (image tag 'v0.10.2'); " in table
    assert ("  memory per GPU       weights 31.96 GiB, activation 0.39 GiB (forward pass over 2048 tokens), non-torch "
            "0.25 GiB, CUDA graphs 2.38 GiB (outside the budget, captured after the KV cache, estimated), KV 9.12 GiB = "
            "44.39 GiB x 0.94 - weights - activation - non-torch") in table
    assert "  KV capacity          37,360 tokens; concurrency 2.28x at maxModelLen 16384" in table


def test_an_image_tag_naming_no_version_says_which_vllm_it_assumes():
    table = format_sizing_table(validate_stack(_gpu(maxModelLen=16384, gpuMemoryUtilization=0.94,
                                                    image="vllm/vllm-openai:latest")))
    assert "0.26.0 assumed (tag 'latest' names no vLLM version; the newest measured is assumed)" in table


def test_a_speculative_draft_from_the_catalog_adds_its_weights_and_kv_cache():
    # vLLM 0.10.2 refuses draft models (tests/config/test_vllm_version.py); 0.26.0 runs them on its V1 runner.
    plain = sizings_of(_gpu(model="Qwen/Qwen3-8B", maxModelLen=8192, gpuMemoryUtilization=0.94,
                            image="vllm/vllm-openai:v0.26.0"))[0]
    drafted = sizings_of(_gpu(model="Qwen/Qwen3-8B", maxModelLen=8192, gpuMemoryUtilization=0.94,
                              image="vllm/vllm-openai:v0.26.0",
                              speculativeConfig={"model": "Qwen/Qwen3-4B", "numSpeculativeTokens": 3}))[0]
    draft = CATALOG["Qwen/Qwen3-4B"]
    assert drafted.weight_bytes - plain.weight_bytes == weights_size(draft, Precision("bf16", 2, "test"))
    assert drafted.kv_bytes_per_token - plain.kv_bytes_per_token == draft.kv_bytes_per_token(2)
    assert drafted.kv_capacity_tokens < plain.kv_capacity_tokens and "draft Qwen/Qwen3-4B" in drafted.draft


def test_a_draft_the_catalog_lacks_is_named_as_not_counted():
    sizing = sizings_of(_gpu(maxModelLen=8192, gpuMemoryUtilization=0.94, image="vllm/vllm-openai:v0.26.0",
                             speculativeConfig={"model": "example/eagle-head", "numSpeculativeTokens": 3}))[0]
    assert sizing.draft == "draft 'example/eagle-head' is not in config/model_catalog.py: its weights and KV are not counted"


def test_vllm_versions_that_subtract_cuda_graphs_leave_a_smaller_kv_cache_and_no_graphs_outside_it():
    older = sizings_of(_gpu(maxModelLen=16384, gpuMemoryUtilization=0.94, image="vllm/vllm-openai:v0.22.0"))[0]
    newer = sizings_of(_gpu(maxModelLen=16384, gpuMemoryUtilization=0.94, image="vllm/vllm-openai:v0.26.0"))[0]
    assert older.vllm.graphs_in_budget and not newer.vllm.graphs_in_budget
    assert older.vllm.kv_cache_bytes == newer.vllm.kv_cache_bytes - newer.vllm.graph_bytes
    assert older.vllm.outside_budget_bytes == newer.vllm.outside_budget_bytes - newer.vllm.graph_bytes


def test_tensor_parallelism_splits_weights_and_kv_per_token_across_the_ranks():
    prod = sizings_of(load_stack_file(PROJECT_DIR / "Pulumi.prod.yaml"))
    llama = next(sizing for sizing in prod if sizing.name == "llama-3-3-70b")
    assert llama.vllm.weights_bytes == llama.weight_bytes / 4
    assert llama.vllm.kv_bytes_per_token == 320 * KIB / 4
    assert llama.kv_capacity_tokens == 475616 and round(llama.concurrency, 2) == 58.06


def test_the_sizing_table_shows_what_loading_a_neuron_checkpoint_needs_and_the_limit_it_gets():
    from tests.conftest import PROJECT_DIR
    from vllm_eks.config.loader import load_stack_file
    from vllm_eks.config.validation import validate_stack
    from vllm_eks.preview.sizing_table import format_sizing_table

    table = format_sizing_table(validate_stack(load_stack_file(PROJECT_DIR / "Pulumi.dev.yaml")))
    assert ("  host memory    checkpoint 15.3 GiB at bf16, sharded in host memory at load: peak 2x = 30.5 GiB; "
            "request 12Gi, memory limit 15391Mi (max(request, min(peak, 15.0 GiB allocatable)))") in table.splitlines()


def test_a_short_single_sequence_profiles_only_its_own_tokens_and_the_table_says_why():
    sizing = sizings_of(_gpu(maxModelLen=1024, maxNumSeqs=1, gpuMemoryUtilization=0.94))[0]
    assert sizing.vllm.max_num_batched_tokens == 1024 and sizing.vllm.activation.tokens == 1024
    assert sizing.vllm.max_num_batched_tokens_rule.endswith(", capped at maxNumSeqs x maxModelLen")


def test_a_small_token_budget_caps_an_unset_max_num_seqs():
    sizing = sizings_of(_gpu(maxModelLen=8192, maxNumBatchedTokens=128, gpuMemoryUtilization=0.94))[0]
    assert sizing.max_num_seqs == 128 and sizing.max_num_seqs_rule.endswith(", capped at maxNumBatchedTokens 128")
