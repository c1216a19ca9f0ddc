"""Model architectures the sizing checks know, keyed by Hugging Face id.

Every figure is copied from the model's `config.json` on the Hugging Face hub (the values are
reproduced in many public repositories; the ones checked are named per entry). Parameter counts
are computed from those figures with the decoder formula in config/architecture.py (`decoder_parameters`), which
reproduces the published totals (Llama 3.1 8B: 8,030,261,248; the model cards' rounded figures
are pinned in tests/config/test_model_catalog.py).

A model the catalog lacks is declared in the stack with an inline `architecture:` block
(`ArchitectureBlock`); a model that matches nothing is not memory-sized, with a warning.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, ValidationError, model_validator

from ._base import ConfigModel
from .architecture import DTYPE_BYTES, Architecture
from .moe_catalog import MOE_ENTRIES

__all__ = ["DTYPE_BYTES", "Architecture", "ArchitectureBlock", "ArchitectureRef", "CATALOG", "CATALOG_ENTRIES"]

_LLAMA_31 = "meta-llama config.json (Llama-3.1-8B as reproduced in citsjtu2020/LLM-Prof sglang/Model_Config.md; " \
            "70B dims in oumi-ai/oumi configs/recipes/llama3_1/README.md and llama3_3/README.md)"
_QWEN3 = "Qwen config.json (as reproduced in citsjtu2020/LLM-Prof sglang/Model_Config.md)"

CATALOG_ENTRIES: list[Architecture] = [
    Architecture(
        "meta-llama/Llama-3.1-8B-Instruct", layers=32, attention_heads=32, kv_heads=8, head_dim=128,
        max_position_embeddings=131072, hidden_size=4096, intermediate_size=14336, vocab_size=128256,
        aliases=("meta-llama/Llama-3.1-8B", "meta-llama/Meta-Llama-3.1-8B-Instruct", "meta-llama/Meta-Llama-3.1-8B"),
        source=_LLAMA_31,
    ),
    Architecture(
        "meta-llama/Llama-3.1-70B-Instruct", layers=80, attention_heads=64, kv_heads=8, head_dim=128,
        max_position_embeddings=131072, hidden_size=8192, intermediate_size=28672, vocab_size=128256,
        aliases=("meta-llama/Llama-3.1-70B", "meta-llama/Meta-Llama-3.1-70B-Instruct", "meta-llama/Meta-Llama-3.1-70B"),
        source=_LLAMA_31,
    ),
    Architecture(
        "meta-llama/Llama-3.3-70B-Instruct", layers=80, attention_heads=64, kv_heads=8, head_dim=128,
        max_position_embeddings=131072, hidden_size=8192, intermediate_size=28672, vocab_size=128256,
        source=_LLAMA_31,
    ),
    Architecture(
        "Qwen/Qwen3-4B", layers=36, attention_heads=32, kv_heads=8, head_dim=128,
        max_position_embeddings=40960, hidden_size=2560, intermediate_size=9728, vocab_size=151936,
        tie_word_embeddings=True, qk_norm=True, source=_QWEN3,
    ),
    Architecture(
        "Qwen/Qwen3-8B", layers=36, attention_heads=32, kv_heads=8, head_dim=128,
        max_position_embeddings=40960, hidden_size=4096, intermediate_size=12288, vocab_size=151936,
        qk_norm=True, aliases=("Qwen/Qwen3-8B-Base",), source=_QWEN3,
    ),
    Architecture(
        "Qwen/Qwen3-14B", layers=40, attention_heads=40, kv_heads=8, head_dim=128,
        max_position_embeddings=40960, hidden_size=5120, intermediate_size=17408, vocab_size=151936,
        qk_norm=True, aliases=("Qwen/Qwen3-14B-Base",), source=_QWEN3,
    ),
    Architecture(
        "Qwen/Qwen3-32B", layers=64, attention_heads=64, kv_heads=8, head_dim=128,
        max_position_embeddings=40960, hidden_size=5120, intermediate_size=25600, vocab_size=151936,
        qk_norm=True, source=_QWEN3,
    ),
    Architecture(
        # Qwen2.5 instruct checkpoints ship max_position_embeddings 32768 (the base models say
        # 131072); the -Instruct config.json is the one vLLM reads for these ids.
        "Qwen/Qwen2.5-7B-Instruct", layers=28, attention_heads=28, kv_heads=4, head_dim=128,
        max_position_embeddings=32768, hidden_size=3584, intermediate_size=18944, vocab_size=152064,
        qkv_bias=True, source="Qwen2.5-7B config.json (citsjtu2020/LLM-Prof sglang/Model_Config.md); "
                              "32768 context from the Qwen2.5-7B-Instruct model card",
    ),
    Architecture(
        "Qwen/Qwen2.5-72B-Instruct", layers=80, attention_heads=64, kv_heads=8, head_dim=128,
        max_position_embeddings=32768, hidden_size=8192, intermediate_size=29568, vocab_size=152064,
        qkv_bias=True, source="Qwen2.5-72B-Instruct config.json (reproduced in public benchmark configs)",
    ),
    Architecture(
        "mistralai/Mistral-7B-Instruct-v0.3", layers=32, attention_heads=32, kv_heads=8, head_dim=128,
        max_position_embeddings=32768, hidden_size=4096, intermediate_size=14336, vocab_size=32768,
        aliases=("mistralai/Mistral-7B-v0.3",),
        source="Mistral-7B-v0.3 layer shapes and v3 tokenizer (32768 tokens); 32k context of v0.2+",
    ),
    *MOE_ENTRIES,
]

CATALOG: dict[str, Architecture] = {arch.hf_id: arch for arch in CATALOG_ENTRIES}
_BY_NAME: dict[str, Architecture] = {name.lower(): arch for arch in CATALOG_ENTRIES for name in arch.names}


def catalog_keys() -> list[str]:
    return sorted(CATALOG)


def lookup(key: str) -> Architecture | None:
    """A catalog entry by hub id or alias, case-insensitively."""
    return _BY_NAME.get(key.strip().lower())


_HF_CACHE_DIR = re.compile(r"models--(?P<org>[^/]+?)--(?P<name>[^/]+)")


def match_model(model: str) -> tuple[Architecture | None, str]:
    """Find the architecture behind `model` (a hub id or a path inside an image).

    Returns the entry and how it was found, or (None, "") when nothing matches. A path matches
    by its HF-cache directory (`models--Qwen--Qwen3-8B`) or by a path component that starts
    with a catalog model's name (`Llama-3.1-8B-Instruct`, `Qwen3-32B-FP8`); the longest name
    wins, so `Qwen3-8B` never claims a `Qwen3-80B` directory.
    """
    exact = lookup(model)
    if exact:
        return exact, "hub id"
    cache = _HF_CACHE_DIR.search(model)
    if cache:
        found = lookup(f"{cache['org']}/{cache['name']}")
        if found:
            return found, "image path"
    best: tuple[int, Architecture | None] = (0, None)
    components = [part.lower() for part in re.split(r"[/]", model) if part]
    if cache:
        components.append(cache["name"].lower())
    for arch in CATALOG_ENTRIES:
        for name in arch.names:
            base = name.split("/", 1)[-1].lower()
            for part in components:
                if (part == base or part.startswith(base + "-")) and len(base) > best[0]:
                    best = (len(base), arch)
    if best[1] is not None:
        return best[1], "hub id" if "/" in model and not model.startswith("/") and model.count("/") == 1 else "image path"
    return None, ""


# --------------------------------------------------------------------------------------------
# Config block: a model's `architecture:` is a catalog key or an inline declaration.


class ArchitectureBlock(ConfigModel):
    """An architecture the catalog lacks, copied from the model's `config.json`."""

    parameters: float = Field(gt=0)
    """Total parameters (from the model card or the safetensors index), e.g. 8030261248 or 8.03e9."""
    layers: int = Field(ge=1)
    """`num_hidden_layers`."""
    attention_heads: int = Field(ge=1)
    """`num_attention_heads`."""
    kv_heads: int = Field(ge=1)
    """`num_key_value_heads` (equal to attentionHeads for multi-head attention)."""
    head_dim: int = Field(ge=1)
    """`head_dim`, or hidden_size / num_attention_heads when config.json has none."""
    max_position_embeddings: int = Field(ge=1)
    """`max_position_embeddings`: vLLM's default maxModelLen."""
    dtype: str = Field("bfloat16", pattern="^(bfloat16|float16|float32)$")
    """`torch_dtype` of the checkpoint."""
    num_experts: int | None = Field(None, ge=1)
    """Mixture of experts: routed experts per layer (`num_experts`; Mixtral's `num_local_experts`). Then
    numExpertsPerTok, moeIntermediateSize, hiddenSize and vocabSize are required: vLLM's profile run
    allocates its fused_moe workspace and its sampler from them (config/sizing/moe_activation.py)."""
    num_experts_per_tok: int | None = Field(None, ge=1)
    """`num_experts_per_tok`: experts each token is routed to."""
    moe_intermediate_size: int | None = Field(None, ge=1)
    """`moe_intermediate_size`: one expert's MLP width (Mixtral: `intermediate_size`)."""
    shared_expert_intermediate_size: int | None = Field(None, ge=1)
    """`shared_expert_intermediate_size` of a model with an always-on shared expert (Qwen2-MoE)."""
    hf_architecture: str | None = None
    """`architectures[0]` of config.json (e.g. `Qwen2MoeForCausalLM`): vLLM 0.26 runs an MoE model on Model
    Runner V2 only when it is in DEFAULT_V2_MODEL_RUNNER_ARCHITECTURES (unset: the V1 runner)."""
    hidden_size: int | None = Field(None, ge=1)
    """`hidden_size`: sizes the profile run's activation (without it a dense model's is not counted)."""
    intermediate_size: int | None = Field(None, ge=1)
    """`intermediate_size` of a dense model's MLP (an MoE model gives moeIntermediateSize instead)."""
    vocab_size: int | None = Field(None, ge=1)
    """`vocab_size`: sizes the sampler's logits and the 16-bit embeddings of a quantized model."""
    tie_word_embeddings: bool = False
    """`tie_word_embeddings`."""

    @model_validator(mode="after")
    def _moe_shapes_present(self) -> ArchitectureBlock:
        """Each missing MoE shape is an error at its own key (a NestedIssues, as pydantic reports a
        model-level error at the block)."""
        if not self.num_experts:
            return self
        from .errors import ConfigIssue, NestedIssues

        keys = {"numExpertsPerTok": self.num_experts_per_tok, "moeIntermediateSize": self.moe_intermediate_size,
                "hiddenSize": self.hidden_size, "vocabSize": self.vocab_size}
        issues = [ConfigIssue(key, (
            f"required with numExperts: vLLM's profile run sizes a mixture-of-experts layer's activation from "
            f"numExpertsPerTok, moeIntermediateSize, hiddenSize and vocabSize; copy {key} from config.json"))
            for key, value in keys.items() if value is None]
        if self.num_experts_per_tok and self.num_experts_per_tok > self.num_experts:
            issues.append(ConfigIssue("numExpertsPerTok", (
                f"{self.num_experts_per_tok} is more than numExperts {self.num_experts}: a token is routed to at "
                f"most every expert")))
        if issues:
            raise NestedIssues(issues)
        return self

    @model_validator(mode="after")
    def _kv_heads_group_attention_heads(self) -> ArchitectureBlock:
        if self.attention_heads % self.kv_heads:
            raise ValueError(
                f"kvHeads {self.kv_heads} must divide attentionHeads {self.attention_heads} "
                f"(each KV head serves a whole group of query heads); copy both from config.json"
            )
        return self

    def to_architecture(self, name: str) -> Architecture:
        return Architecture(
            hf_id=name, layers=self.layers, attention_heads=self.attention_heads, kv_heads=self.kv_heads,
            head_dim=self.head_dim, max_position_embeddings=self.max_position_embeddings, dtype=self.dtype,
            parameters=int(self.parameters), source="architecture block in the stack config",
            hidden_size=self.hidden_size or 0, intermediate_size=self.intermediate_size or 0,
            vocab_size=self.vocab_size or 0, tie_word_embeddings=self.tie_word_embeddings,
            num_experts=self.num_experts or 0, num_experts_per_tok=self.num_experts_per_tok or 0,
            moe_intermediate_size=self.moe_intermediate_size or 0,
            shared_expert_intermediate_size=self.shared_expert_intermediate_size or 0,
            hf_architecture=self.hf_architecture or "",
        )


def _parse_architecture(value: Any) -> Any:
    if isinstance(value, ArchitectureBlock) or value is None:
        return value
    if isinstance(value, str):
        if lookup(value) is None:
            raise ValueError(
                f"{value!r} is not in the model catalog (config/model_catalog.py knows "
                f"{', '.join(catalog_keys())}); use one of those ids, or declare the model with an "
                f"inline block: architecture: {{parameters, layers, attentionHeads, kvHeads, headDim, "
                f"maxPositionEmbeddings, dtype}} copied from its config.json"
            )
        return value
    if isinstance(value, dict):
        try:
            return ArchitectureBlock.model_validate(value)
        except ValidationError as error:
            from .errors import NestedIssues, issues_from_validation_error

            raise NestedIssues(issues_from_validation_error(error, root=ArchitectureBlock, data=value)) from None
    raise ValueError(
        f"{value!r} is neither a catalog id (a string such as 'Qwen/Qwen3-8B') nor an architecture block (a mapping)"
    )


ArchitectureRef = Annotated[str | ArchitectureBlock, BeforeValidator(_parse_architecture)]
"""A catalog key or an `ArchitectureBlock`; validated as one so errors name the field once."""


def resolve_architecture(model: str, declared: str | ArchitectureBlock | None, name: str) -> tuple[Architecture | None, str]:
    """The architecture for a model: its `architecture` field first, else a match of `model`."""
    if isinstance(declared, ArchitectureBlock):
        return declared.to_architecture(name), "architecture block"
    if isinstance(declared, str):
        return lookup(declared), "architecture field"
    return match_model(model)
