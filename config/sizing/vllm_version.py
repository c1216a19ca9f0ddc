"""The planner follows the image's vLLM version: its generated facts (config/vllm_facts) pick the engine,
the model runner and the CUDA-graph capture rule; the V0 engine's scheduler default is stated here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..compute_capability import compute_capability
from ..vllm_facts import facts_for
from ..vllm_facts.selection import EngineChoice, capture_rule, choose

if TYPE_CHECKING:
    from ..architecture import Architecture
    from ..model import ModelConfig
    from .vllm_memory import ImageVersion

V0_DEFAULT_MAX_NUM_BATCHED_TOKENS = 2048
"""`DEFAULT_MAX_NUM_BATCHED_TOKENS` (vllm/config/scheduler.py @ 0.10.2)."""
V0_CHUNKED_PREFILL_ABOVE = 32768
"""V0 enables chunked prefill by default only for max_model_len > 32768 (`_set_default_args_v0`,
vllm/engine/arg_utils.py @ 0.10.2: `use_long_context = max_model_len > 32768`)."""


def engine_choice(model: ModelConfig, version: ImageVersion, accelerator_model: str,
                  architecture: Architecture | None = None) -> tuple[EngineChoice | None, str]:
    """The engine and runner the image's vLLM picks, and its CUDA-graph capture rule; (None, current rule)
    where the version has no generated table (the planner then uses config/sizing/vllm_memory.py ACCOUNTING)."""
    try:
        facts = facts_for(str(version.version))
    except KeyError:
        return None, "step8_16"
    return choose(model, facts, compute_capability(accelerator_model), architecture), capture_rule(facts)


def v0_batched_tokens(max_model_len: int, max_num_seqs: int) -> tuple[int, str]:
    """The V0 engine's unset token budget: without chunked prefill (max_model_len <= 32768) the scheduler
    must take a whole prompt in one step, so `max(max_model_len, 2048)`, at most max_num_seqs x max_model_len
    (SchedulerConfig.__post_init__ @ 0.10.2); the profile run then takes a batch of that many tokens."""
    if max_model_len > V0_CHUNKED_PREFILL_ABOVE:
        return V0_DEFAULT_MAX_NUM_BATCHED_TOKENS, "V0 engine with chunked prefill (maxModelLen > 32768)"
    tokens = min(max(max_model_len, V0_DEFAULT_MAX_NUM_BATCHED_TOKENS), max_num_seqs * max_model_len)
    return tokens, "V0 engine without chunked prefill: max(maxModelLen, 2048) (vllm/config/scheduler.py @ 0.10.2)"


def version_default_utilization(version: ImageVersion) -> float | None:
    """`--gpu-memory-utilization`'s default in this version's source (CacheConfig.gpu_memory_utilization:
    0.9 up to 0.10.2, 0.92 in 0.26 and 0.32), or None where the table has no numeric default (no table; from
    0.34 the default depends on the extensible KV cache, `resolved_gpu_memory_utilization`)."""
    try:
        default = facts_for(str(version.version)).raw.get("flags", {}).get("--gpu-memory-utilization", {}).get("default")
    except KeyError:
        return None
    return float(default) if isinstance(default, (int, float)) and not isinstance(default, bool) else None
