"""Model architectures the sizing checks know, keyed by Hugging Face id.

Every figure is copied from the model's `config.json` on the Hugging Face hub (the values are
reproduced in many public repositories; the ones checked are named per entry). Parameter counts
are computed from those figures with the dense decoder formula in `_dense_parameters`, which
reproduces the published totals (Llama 3.1 8B: 8,030,261,248; the model cards' rounded figures
are pinned in tests/config/test_model_catalog.py).

A model the catalog lacks is declared in the stack with an inline `architecture:` block
(`ArchitectureBlock`); a model that matches nothing is not memory-sized, with a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, ValidationError, model_validator

from ._base import ConfigModel

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
    vocab_size: int = 0
    tie_word_embeddings: bool = False
    qkv_bias: bool = False
    """Qwen2 puts biases on q/k/v projections."""
    qk_norm: bool = False
    """Qwen3 normalises q and k per head (two RMSNorm vectors of head_dim per layer)."""
    aliases: tuple[str, ...] = ()
    """Other hub ids with the same architecture (base and instruct variants)."""
    source: str = ""
    """Where the figures were checked."""

    def __post_init__(self) -> None:
        if not self.parameters:
            object.__setattr__(self, "parameters", _dense_parameters(self))

    @property
    def names(self) -> tuple[str, ...]:
        return (self.hf_id, *self.aliases)

    @property
    def embedding_parameters(self) -> int:
        """Token embeddings plus lm_head (one shared matrix when tied): the weights quantizers leave
        at 16 bits. 0 when the shape is unknown (an inline `architecture` block gives no vocabulary)."""
        return self.vocab_size * self.hidden_size * (1 if self.tie_word_embeddings else 2)

    def kv_bytes_per_token(self, bytes_per_element: float, kv_heads: int | None = None) -> float:
        """The guide's formula: 2 (K and V) x layers x KV heads x head dim x bytes per element."""
        heads = self.kv_heads if kv_heads is None else kv_heads
        return 2 * self.layers * heads * self.head_dim * bytes_per_element


def _dense_parameters(arch: Architecture) -> int:
    """Parameters of a Llama-style dense decoder (RMSNorm, SwiGLU MLP, no biases unless said)."""
    h, hd = arch.hidden_size, arch.head_dim
    q_out, kv_out = arch.attention_heads * hd, arch.kv_heads * hd
    attention = h * q_out + 2 * h * kv_out + q_out * h
    if arch.qkv_bias:
        attention += q_out + 2 * kv_out
    if arch.qk_norm:
        attention += 2 * hd
    mlp = 3 * h * arch.intermediate_size
    norms = 2 * h
    embeddings = arch.vocab_size * h * (1 if arch.tie_word_embeddings else 2)
    return arch.layers * (attention + mlp + norms) + embeddings + h


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
