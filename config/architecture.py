"""What sizing needs to know about a decoder-only transformer, dense or mixture-of-experts, and its
parameter count from those shapes. The catalog (config/model_catalog.py, config/moe_catalog.py) and the
inline `architecture` block both produce an `Architecture`."""

from __future__ import annotations

from dataclasses import dataclass

DTYPE_BYTES: dict[str, float] = {"float32": 4, "bfloat16": 2, "float16": 2}
"""Bytes per element of the dtypes a checkpoint's `torch_dtype` names."""


@dataclass(frozen=True)
class Architecture:
    """What sizing needs to know about a decoder-only transformer."""

    hf_id: str
    layers: int
    attention_heads: int
    kv_heads: int
    head_dim: int
    max_position_embeddings: int
    dtype: str = "bfloat16"
    """`torch_dtype` of the published checkpoint: the precision when nothing says otherwise."""
    parameters: int = 0
    """Total parameters; computed from the shape fields below when not given."""
    hidden_size: int = 0
    intermediate_size: int = 0
    """The dense MLP's width (0 for a model whose every layer is MoE)."""
    vocab_size: int = 0
    tie_word_embeddings: bool = False
    qkv_bias: bool = False
    """Qwen2 puts biases on q/k/v projections."""
    qk_norm: bool = False
    """Qwen3 normalises q and k per head (two RMSNorm vectors of head_dim per layer)."""
    num_experts: int = 0
    """Routed experts per MoE layer (`num_experts`, Mixtral's `num_local_experts`); 0 for a dense model."""
    num_experts_per_tok: int = 0
    """Experts each token is routed to (`num_experts_per_tok`): the top_k of vLLM's fused_moe."""
    moe_intermediate_size: int = 0
    """One expert's MLP width (`moe_intermediate_size`; Mixtral's `intermediate_size`)."""
    shared_expert_intermediate_size: int = 0
    """Width of the always-on shared expert MLP (Qwen2-MoE `shared_expert_intermediate_size`); 0 when none."""
    hf_architecture: str = ""
    """`architectures[0]` of config.json (e.g. `Qwen3MoeForCausalLM`): vLLM 0.26 picks the model runner by it."""
    aliases: tuple[str, ...] = ()
    """Other hub ids with the same architecture (base and instruct variants)."""
    source: str = ""
    """Where the figures were checked."""

    def __post_init__(self) -> None:
        if not self.parameters:
            object.__setattr__(self, "parameters", decoder_parameters(self))

    @property
    def names(self) -> tuple[str, ...]:
        return (self.hf_id, *self.aliases)

    @property
    def is_moe(self) -> bool:
        """vLLM's `ModelConfig.is_moe`: `get_num_experts() > 0` (vllm/config/model.py @ 0.26.0)."""
        return self.num_experts > 0

    @property
    def embedding_parameters(self) -> int:
        """Token embeddings plus lm_head (one shared matrix when tied): the weights quantizers leave
        at 16 bits. 0 when the shape is unknown (an inline `architecture` block without vocabSize)."""
        return self.vocab_size * self.hidden_size * (1 if self.tie_word_embeddings else 2)

    def kv_bytes_per_token(self, bytes_per_element: float, kv_heads: int | None = None) -> float:
        """The guide's formula: 2 (K and V) x layers x KV heads x head dim x bytes per element."""
        heads = self.kv_heads if kv_heads is None else kv_heads
        return 2 * self.layers * heads * self.head_dim * bytes_per_element


def mlp_parameters(arch: Architecture) -> int:
    """One layer's MLP: a SwiGLU (gate, up, down) of intermediate_size for a dense model; for an MoE
    layer every routed expert's SwiGLU (all experts are resident on the GPU: vLLM's FusedMoE holds
    w13 [experts, 2 x moe_intermediate, hidden] and w2 [experts, hidden, moe_intermediate]), the
    router (hidden x experts, no bias: `gate` in vllm/model_executor/models/qwen3_moe.py and mixtral.py
    @ 0.26.0) and a shared expert's SwiGLU plus its 1-wide gate where the model has one (qwen2_moe.py)."""
    h = arch.hidden_size
    if not arch.is_moe:
        return 3 * h * arch.intermediate_size
    experts = arch.num_experts * 3 * h * arch.moe_intermediate_size + h * arch.num_experts
    shared = 3 * h * arch.shared_expert_intermediate_size + h if arch.shared_expert_intermediate_size else 0
    return experts + shared


def decoder_parameters(arch: Architecture) -> int:
    """Parameters of a Llama-style decoder (RMSNorm, SwiGLU MLP or MoE of SwiGLU experts, no biases
    unless said)."""
    h, hd = arch.hidden_size, arch.head_dim
    q_out, kv_out = arch.attention_heads * hd, arch.kv_heads * hd
    attention = h * q_out + 2 * h * kv_out + q_out * h
    if arch.qkv_bias:
        attention += q_out + 2 * kv_out
    if arch.qk_norm:
        attention += 2 * hd
    norms = 2 * h
    return arch.layers * (attention + mlp_parameters(arch) + norms) + arch.embedding_parameters + h
