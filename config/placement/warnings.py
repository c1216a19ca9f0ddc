"""Setups that run but probably not as intended: padded heads, little KV headroom, tight host memory."""

from __future__ import annotations

from ..units import gib, kib
from .accelerator_memory import largest_power_of_two_at_most
from .host_memory import host_memory_warning
from .records import RECOMPILE_NOTE, PlacedModel
from .vllm_budget import budget_warnings


def model_warnings(placed: PlacedModel) -> list[str]:
    model, spec, sizing, label = placed.model, placed.spec, placed.sizing, placed.label
    if model.accelerators_per_pod > spec.schedulable_accelerators:
        return []
    if not sizing.sized:
        return [f"{label}: memory not sized: {sizing.skipped}"]
    warnings = []
    arch, heads = sizing.architecture, sizing.heads
    assert arch is not None and heads is not None
    if heads.padded:
        warnings.append(_padding_warning(placed))
    if not sizing.fits:
        return warnings  # the error says it all
    host_warning = host_memory_warning(placed)
    if host_warning:
        warnings.append(host_warning)
    if sizing.vllm is not None:
        warnings += budget_warnings(placed)
    elif not sizing.reserves_all_sequences:
        warnings += _paged_kv_warnings(placed)
    return warnings


def _padding_warning(placed: PlacedModel) -> str:
    sizing, spec, label = placed.sizing, placed.spec, placed.label
    arch, heads = sizing.architecture, sizing.heads
    assert arch is not None and heads is not None
    tp = placed.model.tensor_parallel_size
    clean = placed.traits.head_sharding.clean_degrees(arch.attention_heads, arch.kv_heads, spec.schedulable_accelerators)
    text = (f"{label}: tensorParallelSize {tp} does not divide {arch.hf_id}'s {arch.attention_heads} attention heads"
            f"{'' if heads.strategy == 'padded' else f' nor is it a multiple of its {arch.kv_heads} KV heads'}; "
            f"NxD Inference pads the query heads to {heads.attention_heads}")
    if heads.strategy == "convert-to-mha":
        text += (f" and converts the model to multi-head attention with {heads.kv_heads} KV heads, so the KV cache "
                 f"takes {kib(sizing.kv_bytes_per_token)}/token instead of {kib(sizing.kv_bytes_per_token_formula)} "
                 f"({sizing.kv_bytes_per_token / sizing.kv_bytes_per_token_formula:.1f}x)")
    text += (f" and {heads.attention_heads - arch.attention_heads} of {heads.attention_heads} query heads are padding; "
             f"degrees that shard evenly on {spec.name}: {', '.join(map(str, clean))}")
    if placed.compiled_into_image:
        text += f" (a recompile: {RECOMPILE_NOTE})"
    return text


def _paged_kv_warnings(placed: PlacedModel) -> list[str]:
    """Where KV is paged, one full-length sequence fitting is the floor; a second is the headroom."""
    sizing, label = placed.sizing, placed.label
    if sizing.full_sequences < 2:
        return [
            f"{label}: only {sizing.kv_capacity_tokens} tokens of KV cache fit ({gib(sizing.kv_budget_bytes)} after "
            f"{gib(sizing.weight_bytes)} of weights at {kib(sizing.kv_bytes_per_token)}/token): less than one "
            f"full-length sequence of headroom beyond the first at maxModelLen {sizing.max_model_len}, so a second "
            f"long request waits or is preempted, and activations are not counted here; lower maxModelLen to "
            f"{largest_power_of_two_at_most(sizing.kv_capacity_tokens / 2)} or give it more memory"]
    if not sizing.max_num_seqs_is_default and not sizing.concurrency_fits:
        return [
            f"{label}: maxNumSeqs {sizing.max_num_seqs} x maxModelLen {sizing.max_model_len} needs "
            f"{gib(sizing.requested_kv_bytes)} of KV cache but {gib(sizing.kv_budget_bytes)} is left after weights "
            f"({sizing.full_sequences} full-length sequences); vLLM runs that many only with shorter requests and "
            f"preempts the rest"]
    return []
