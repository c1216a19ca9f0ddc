"""Verdicts and fixes where vLLM profiles its memory (GPUs), in vLLM's own terms
(config/sizing/vllm_memory.py).

Three checks, on one rank:
- fit (an error): the KV cache must hold one `maxModelLen` sequence; vLLM refuses to start otherwise
  ("To serve at least one request with the models's max seq len (...), (... GiB KV cache is needed,
  which is larger than the available KV cache memory", vllm/v1/core/kv_cache_utils.py
  `check_enough_kv_cache_memory`). `maxNumSeqs` reserves nothing: KV is paged in blocks.
- concurrency (a warning): fewer than LOW_CONCURRENCY full-length sequences fit at once, so a
  second long request waits or is preempted.
- headroom (a warning): what vLLM holds outside `total x gpuMemoryUtilization` (the CUDA context,
  and the CUDA graphs in versions that capture them on top of the budget) must fit in the rest, or
  graph capture runs out of memory, as reported publicly for Qwen3-32B-FP8 at 0.95 on an L40S.

A fix is suggested only when it clears all three at once: it is the configuration re-sized, not a
step that leads to the next message. Fixes raise capacity (FP8 KV cache, more GPUs, a larger GPU)
and, for headroom, lower gpuMemoryUtilization to the highest value that leaves room; a shorter
context is never offered, since requests up to maxModelLen would then be refused.
"""

from __future__ import annotations

from typing import Any

from ..errors import ConfigIssue, Fix
from ..sizing.memory import ModelSizing, size_model
from ..units import gib, kib
from ..wording import either
from .alternatives import change_fixes, change_text, first_larger
from .records import PlacedModel

TRITON_FP8_BACKEND = "TRITON_ATTN_VLLM_V1"
"""The attention backend vLLM 0.10.2 accepts an fp8 KV cache with on V1 from compute capability 8.9
(vllm/platforms/cuda.py is_kv_cache_dtype_supported: `supports_fp8()` = has_device_capability(89))."""

LOW_CONCURRENCY = 2
"""Full-length sequences the KV cache should hold at once; fewer is a warning."""


def checks_failed(sizing: ModelSizing) -> list[str]:
    """The checks this sizing fails: 'fit', 'concurrency', 'headroom'."""
    failed = []
    if not sizing.fits:
        failed.append("fit")
    elif sizing.concurrency < LOW_CONCURRENCY:
        failed.append("concurrency")
    if not sizing.headroom_fits:
        failed.append("headroom")
    return failed


def _resize(placed: PlacedModel, spec: Any = None, tp: int | None = None, **fields: Any) -> ModelSizing:
    model = placed.model.model_copy(update=fields) if fields else placed.model
    return size_model(model, placed.index, spec or placed.spec, tp)


def _with_headroom(placed: PlacedModel, sizing: ModelSizing, spec: Any, tp: int | None,
                   fields: dict[str, Any]) -> tuple[ModelSizing, dict[str, Any]]:
    """The sizing with gpuMemoryUtilization lowered to leave the context and graphs their room, if needed."""
    if sizing.headroom_fits or sizing.vllm is None:
        return sizing, fields
    safe = sizing.vllm.highest_safe_utilization()
    lowered = {**fields, "gpu_memory_utilization": safe}
    return _resize(placed, spec, tp, **lowered), lowered


def fp8_kv_change(placed: PlacedModel) -> dict[str, Any]:
    """An fp8 KV cache, with the attention backend that keeps the image's vLLM on its V1 engine where the
    default one would fall back to V0 (config/vllm_facts/selection.py; vLLM 0.10.2 on compute capability 8.x)."""
    change: dict[str, Any] = {"kv_cache_dtype": "fp8"}
    memory = _resize(placed, **change).vllm
    if memory is not None and memory.choice is not None and memory.choice.engine == "V0":
        env = {**placed.model.env, "VLLM_ATTENTION_BACKEND": TRITON_FP8_BACKEND}
        # Only where the backend does keep this version on V1 (not 0.9.1, whose oracle takes FlashAttention only).
        kept = _resize(placed, kv_cache_dtype="fp8", env=env).vllm
        if kept is not None and kept.choice is not None and kept.choice.engine == "V1":
            change["env"] = env
    return change


def _describe(fields: dict[str, Any]) -> str:
    names = {"kv_cache_dtype": "kvCacheDtype", "gpu_memory_utilization": "gpuMemoryUtilization"}
    return " and ".join(f"env VLLM_ATTENTION_BACKEND to {value['VLLM_ATTENTION_BACKEND']}" if key == "env" else
                        f"{names[key]} to {value:g}" if isinstance(value, float) else f"{names[key]} to {value}"
                        for key, value in fields.items())


def _fixes(placed: PlacedModel, fields: dict[str, Any]) -> tuple[Fix, ...]:
    """`_describe`'s change as data, at the model's stack keys."""
    names = {"kv_cache_dtype": "kvCacheDtype", "gpu_memory_utilization": "gpuMemoryUtilization"}
    return tuple(Fix(f"{placed.path}.env.VLLM_ATTENTION_BACKEND", value["VLLM_ATTENTION_BACKEND"]) if key == "env"
                 else Fix(f"{placed.path}.{names[key]}", value) for key, value in fields.items())


def _outcome(sizing: ModelSizing) -> str:
    return f"{sizing.kv_capacity_tokens:,} tokens, {sizing.concurrency:.2f}x at {sizing.max_model_len}"


def clearing_fix(placed: PlacedModel) -> str | None:
    found = clearing_change(placed)
    return found[0] if found else None


def clearing_change(placed: PlacedModel) -> tuple[str, tuple[Fix, ...]] | None:
    """The smallest change that clears every check: on this instance (FP8 KV cache, a lower
    utilization for headroom, both), else a larger degree here, else another instance."""
    sizing = placed.sizing
    changes: list[dict[str, Any]] = [{}]
    if sizing.kv is not None and sizing.kv.bytes > 1:
        changes.append(fp8_kv_change(placed))
    for fields in changes:
        candidate, applied = _with_headroom(placed, _resize(placed, **fields) if fields else sizing, None, None, dict(fields))
        if applied and not checks_failed(candidate):
            return f"set {_describe(applied)} ({_outcome(candidate)})", _fixes(placed, applied)

    def accept(spec: Any, tp: int) -> tuple[str, tuple[Fix, ...]] | None:
        candidate, applied = _with_headroom(placed, _resize(placed, spec, tp), spec, tp, {})
        if checks_failed(candidate):
            return None
        text = change_text(placed, spec, tp, f" and {_describe(applied)}" if applied else "", _outcome(candidate))
        return text, change_fixes(placed, spec, tp) + _fixes(placed, applied)
    return first_larger(placed, accept)


def _budget_phrase(sizing: ModelSizing) -> str:
    """`L40S 44.39 GiB x 0.95 = 42.17 GiB, less weights 32.0 GiB, peak activation 0.4 GiB, non-torch 0.3 GiB`."""
    memory = sizing.vllm
    assert memory is not None
    parts = [f"weights {gib(memory.weights_bytes)}", f"peak activation {gib(memory.activation.peak_bytes)}",
             f"non-torch {gib(memory.non_torch_bytes)}"]
    if memory.graphs_in_budget:
        parts.append(f"CUDA graphs {gib(memory.graph_bytes)}")
    return (f"{sizing.instance.accelerator_model} {memory.total_bytes / 2**30:.2f} GiB x {memory.utilization:g} = "
            f"{gib(memory.requested_bytes)}, less {', '.join(parts)}")


def fit_issue(placed: PlacedModel) -> ConfigIssue | None:
    """An error when the KV cache vLLM would be left cannot hold one maxModelLen sequence."""
    sizing = placed.sizing
    memory = sizing.vllm
    if memory is None or sizing.fits:
        return None
    per_gpu = "per GPU " if sizing.devices > 1 else ""
    budget = (f"{placed.spec.accelerator_model} {memory.total_bytes / 2**30:.2f} GiB x {memory.utilization:g} = "
              f"{gib(memory.requested_bytes)}")
    if memory.weights_bytes >= memory.requested_bytes:
        numbers = (f"weights of {gib(memory.weights_bytes)} {per_gpu}alone exceed vLLM's budget on {placed.spec.name} "
                   f"({budget}), so no KV cache is left for one maxModelLen {sizing.max_model_len} sequence")
    else:
        assumed = " (assumed)" if memory.version.assumed else ""
        numbers = (f"vLLM {memory.version.version}{assumed} would leave {gib(memory.kv_cache_bytes)} of KV cache {per_gpu}on "
                   f"{placed.spec.name} ({_budget_phrase(sizing)}) = {sizing.kv_capacity_tokens:,} tokens at "
                   f"{kib(memory.kv_bytes_per_token)}/token, less than one maxModelLen {sizing.max_model_len} sequence, "
                   f"so vLLM refuses to start")
    if sizing.max_model_len_is_default:
        numbers += f" (maxModelLen is unset: the model's {sizing.max_model_len} positions)"
    field = "tensorParallelSize" if memory.weights_bytes >= memory.requested_bytes else "maxModelLen"
    change = clearing_change(placed)
    fixes = [change[0]] if change else ["use a quantized checkpoint (no instance in the catalog holds these weights)"]
    if sizing.max_model_len_is_default:
        fixes.append("set maxModelLen to the longest request you serve")
    return ConfigIssue(f"{placed.path}.{field}", f"{placed.label}: {numbers}; {either(fixes)}", change[1] if change else ())


def budget_warnings(placed: PlacedModel) -> list[str]:
    """Low concurrency at full length, and too little headroom outside the budget; each names its key."""
    sizing = placed.sizing
    memory = sizing.vllm
    if memory is None or not sizing.fits:
        return []
    failed = checks_failed(sizing)
    if not failed:
        return []
    fix = clearing_fix(placed)
    remedy = f"; {fix}" if fix else "; no configuration in the catalog clears every check"
    warnings = []
    if "concurrency" in failed:
        warnings.append(
            f"{placed.path}.maxModelLen: {placed.model.name}'s KV cache holds {sizing.kv_capacity_tokens:,} tokens "
            f"({gib(memory.kv_cache_bytes)} per GPU: {_budget_phrase(sizing)}), {sizing.concurrency:.2f}x maxModelLen "
            f"{sizing.max_model_len}: fewer than {LOW_CONCURRENCY} full-length requests at once, so a second long request "
            f"waits or is preempted{remedy}")
    if "headroom" in failed:
        graphs = ("" if memory.graphs_in_budget else
                  f" and the CUDA graphs vLLM {memory.version.version} captures after sizing the KV cache "
                  f"({gib(memory.graph_bytes)}, estimated)")
        warnings.append(
            f"{placed.path}.gpuMemoryUtilization: {memory.utilization:g} leaves {gib(memory.headroom_bytes)} of each "
            f"{placed.spec.accelerator_model} ({memory.total_bytes / 2**30:.2f} GiB) outside vLLM's budget, but the CUDA "
            f"context ({gib(memory.context_bytes)}){graphs} need {gib(memory.outside_budget_bytes)}, so graph capture can "
            f"run out of memory{remedy}")
    return warnings
