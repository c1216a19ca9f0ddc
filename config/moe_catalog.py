"""Mixture-of-experts models people serve with vLLM, with the shapes their `config.json` gives.

Every routed expert is resident on the GPU (vLLM's FusedMoE loads them all; tensor parallelism shards
each expert's width), so the weights are the total parameter count, not the activated one. The
parameter counts are computed by config/architecture.py and pinned against the model cards in
tests/config/test_moe_sizing.py. gpt-oss is not here: its experts ship as MXFP4 with attention sinks
and alternating sliding-window layers, which the planner's precision and KV arithmetic do not model.
"""

from __future__ import annotations

from .architecture import Architecture

_QWEN3_30B = (
    "Qwen/Qwen3-30B-A3B config.json (architectures Qwen3MoeForCausalLM, head_dim 128, hidden_size 2048, "
    "max_position_embeddings 40960, moe_intermediate_size 768, num_experts 128, num_experts_per_tok 8, "
    "48 layers, 32/4 heads, untied, vocab 151936), also as Megatron args in zyzshishui/slime "
    "scripts/models/qwen3-30B-A3B.sh; model card (as reproduced in peterhan91/mimic_skills docs/qwen3-a3b.md): 30.5B total, 29.9B non-embedding"
)
_QWEN3_235B = (
    "Qwen/Qwen3-235B-A22B config.json (94 layers, 64/4 heads, kv-channels 128, hidden 4096, "
    "moe_intermediate_size 1536, 128 experts, top 8, vocab 151936, max_position_embeddings 40960), as "
    "reproduced in zyzshishui/slime scripts/models/qwen3-235B-A22B.sh and a fleet_sim ModelSpec test; "
    "model card: 235B total, 22B activated"
)
_MIXTRAL = (
    "mistralai/Mixtral-8x7B-Instruct-v0.1 config.json (MixtralForCausalLM: 32 layers, 32/8 heads, head_dim "
    "128, hidden 4096, intermediate_size 14336 per expert, num_local_experts 8, num_experts_per_tok 2, "
    "vocab 32000, max_position_embeddings 32768); Mistral AI: 46.7B total, 12.9B active"
)

MOE_ENTRIES: list[Architecture] = [
    Architecture(
        "Qwen/Qwen3-30B-A3B", layers=48, attention_heads=32, kv_heads=4, head_dim=128,
        max_position_embeddings=40960, hidden_size=2048, vocab_size=151936, qk_norm=True,
        num_experts=128, num_experts_per_tok=8, moe_intermediate_size=768,
        hf_architecture="Qwen3MoeForCausalLM", source=_QWEN3_30B,
    ),
    Architecture(
        "Qwen/Qwen3-235B-A22B", layers=94, attention_heads=64, kv_heads=4, head_dim=128,
        max_position_embeddings=40960, hidden_size=4096, vocab_size=151936, qk_norm=True,
        num_experts=128, num_experts_per_tok=8, moe_intermediate_size=1536,
        hf_architecture="Qwen3MoeForCausalLM", source=_QWEN3_235B,
    ),
    Architecture(
        "mistralai/Mixtral-8x7B-Instruct-v0.1", layers=32, attention_heads=32, kv_heads=8, head_dim=128,
        max_position_embeddings=32768, hidden_size=4096, vocab_size=32000,
        num_experts=8, num_experts_per_tok=2, moe_intermediate_size=14336,
        hf_architecture="MixtralForCausalLM", aliases=("mistralai/Mixtral-8x7B-v0.1",), source=_MIXTRAL,
    ),
]
