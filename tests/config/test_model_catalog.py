"""The model-architecture catalog: figures, matching and the inline architecture block."""

from __future__ import annotations

import pytest

from tests.config.stacks import parse_stack
from vllm_eks.config.errors import ConfigError
from vllm_eks.config.model_catalog import CATALOG, CATALOG_ENTRIES, ArchitectureBlock, lookup, match_model

# Model-card totals (rounded as the cards print them); the catalog computes exact counts.
PUBLISHED_BILLIONS = {
    "meta-llama/Llama-3.1-8B-Instruct": 8.03, "meta-llama/Llama-3.1-70B-Instruct": 70.6,
    "meta-llama/Llama-3.3-70B-Instruct": 70.6, "Qwen/Qwen3-4B": 4.0, "Qwen/Qwen3-8B": 8.2, "Qwen/Qwen3-14B": 14.8,
    "Qwen/Qwen3-32B": 32.8, "Qwen/Qwen2.5-7B-Instruct": 7.61, "Qwen/Qwen2.5-72B-Instruct": 72.7,
    "mistralai/Mistral-7B-Instruct-v0.3": 7.25,
    # Mixture of experts: total parameters (every expert is resident), as the cards print them.
    "Qwen/Qwen3-30B-A3B": 30.5, "Qwen/Qwen3-235B-A22B": 235.0, "mistralai/Mixtral-8x7B-Instruct-v0.1": 46.7,
}


def test_the_catalog_holds_the_seed_models_and_other_common_ones():
    for key in ("meta-llama/Llama-3.1-8B-Instruct", "Qwen/Qwen3-8B", "Qwen/Qwen3-32B", "meta-llama/Llama-3.3-70B-Instruct",
                "meta-llama/Llama-3.1-70B-Instruct", "Qwen/Qwen3-4B", "mistralai/Mistral-7B-Instruct-v0.3"):
        assert key in CATALOG


@pytest.mark.parametrize("arch", CATALOG_ENTRIES, ids=lambda a: a.hf_id)
def test_parameter_count_matches_the_model_card(arch):
    assert arch.parameters / 1e9 == pytest.approx(PUBLISHED_BILLIONS[arch.hf_id], rel=0.01)


def test_llama_31_8b_parameter_count_is_exact():
    assert CATALOG["meta-llama/Llama-3.1-8B-Instruct"].parameters == 8_030_261_248


@pytest.mark.parametrize("arch", CATALOG_ENTRIES, ids=lambda a: a.hf_id)
def test_every_entry_is_a_consistent_grouped_query_attention_model(arch):
    assert arch.attention_heads % arch.kv_heads == 0
    assert arch.source


@pytest.mark.parametrize("model, expected, how", [
    ("meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-8B-Instruct", "hub id"),
    ("Qwen/Qwen3-32B-FP8", "Qwen/Qwen3-32B", "hub id"),
    ("/opt/vllm/huggingface-cache/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-8B-Instruct", "image path"),
    ("/root/.cache/huggingface/hub/models--Qwen--Qwen3-8B/snapshots/b968826d", "Qwen/Qwen3-8B", "image path"),
    ("/models/Meta-Llama-3.1-70B-Instruct-AWQ", "meta-llama/Llama-3.1-70B-Instruct", "image path"),
])
def test_a_model_matches_by_hub_id_or_by_the_path_inside_its_image(model, expected, how):
    arch, matched_by = match_model(model)
    assert (arch.hf_id, matched_by) == (expected, how)


def test_a_longer_name_does_not_match_a_shorter_catalog_name():
    assert match_model("/models/Qwen3-80B")[0] is None
    assert match_model("example/unknown-7b") == (None, "")


def test_lookup_ignores_case():
    assert lookup("qwen/qwen3-8b") is CATALOG["Qwen/Qwen3-8B"]


def test_an_inline_block_declares_an_architecture_the_catalog_lacks():
    block = ArchitectureBlock.model_validate({"parameters": 7e9, "layers": 32, "attentionHeads": 32, "kvHeads": 8,
                                              "headDim": 128, "maxPositionEmbeddings": 32768})
    arch = block.to_architecture("example/custom-7b")
    assert (arch.parameters, arch.kv_bytes_per_token(2)) == (7_000_000_000, 128 * 1024)


def _stack(architecture):
    return {
        "nodeGroups": [{"name": "g6e", "instanceType": "g6e.xlarge"}],
        "models": [{"name": "custom", "accelerator": "gpu", "nodeGroup": "g6e", "image": "vllm/vllm-openai:v0.10.2",
                    "source": "image", "model": "/models/custom", "maxModelLen": 8192, "architecture": architecture,
                    "resources": {"memory": "24Gi"}}],
    }


def test_the_architecture_field_accepts_a_catalog_id_for_an_unrecognised_path():
    stack = parse_stack(_stack("Qwen/Qwen3-8B"))
    assert stack.models[0].architecture == "Qwen/Qwen3-8B"


def test_an_unknown_catalog_id_is_an_error_at_the_architecture_field():
    with pytest.raises(ConfigError) as raised:
        parse_stack(_stack("example/nope"))
    assert [issue.path for issue in raised.value.issues] == ["models[0].architecture"]
    assert "is not in the model catalog" in raised.value.issues[0].message
