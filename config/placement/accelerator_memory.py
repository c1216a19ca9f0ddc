"""Does the model fit its accelerators' memory (config/sizing/memory.py), and which change would make it fit."""

from __future__ import annotations

import math

from ..errors import ConfigIssue, Fix
from ..sizing.memory import ModelSizing
from ..units import gib, kib
from ..wording import either
from .alternatives import larger_configuration
from .records import RECOMPILE_NOTE, PlacedModel
from .vllm_budget import fit_issue


def largest_power_of_two_at_most(value: float) -> int:
    return 2 ** int(math.log2(value)) if value >= 1 else 0


def device_phrase(sizing: ModelSizing) -> str:
    """`2 x NeuronCore 14.9 GiB, half an Inferentia2; ...` or `1 x L40S 44.7 GiB x 0.9`."""
    spec, traits = sizing.instance, sizing.traits
    unit = spec.accelerator_model if traits.names_unit_by_device_model else traits.unit_name
    phrase = f"{sizing.devices} x {unit} {gib(sizing.device_memory_bytes)}"
    if spec.cores_per_accelerator == 2:
        phrase += f", half an {spec.accelerator_model}"
    elif spec.cores_per_accelerator > 2:
        phrase += f", 1/{spec.cores_per_accelerator} of an {spec.accelerator_model}"
    if sizing.utilization is None:
        return phrase + f"; the {traits.backend_name} backend ignores gpuMemoryUtilization"
    return phrase + f" x {sizing.utilization:g}"


def memory_issue(placed: PlacedModel) -> ConfigIssue | None:
    sizing = placed.sizing
    if sizing.vllm is not None:
        return fit_issue(placed)  # vLLM's own accounting, in its terms
    if sizing.fits:
        return None
    usable = f"{gib(sizing.usable_bytes)} usable on {placed.spec.name} ({device_phrase(sizing)})"
    reserves = sizing.reserves_all_sequences
    if reserves:
        kv_phrase = (f"KV reserved up front for {sizing.max_num_seqs} x {sizing.max_model_len} tokens at "
                     f"{kib(sizing.kv_bytes_per_token)}/token = {gib(sizing.requested_kv_bytes)}")
    else:
        kv_phrase = (f"KV for 1 x {sizing.max_model_len} tokens at {kib(sizing.kv_bytes_per_token)}/token = "
                     f"{gib(sizing.max_model_len * sizing.kv_bytes_per_token)}")
    numbers = f"weights {gib(sizing.weight_bytes)} + {kv_phrase} = {gib(sizing.needed_bytes)} exceeds {usable}"
    unset = [f"{name} is unset ({value})" for name, value, is_default in (
        ("maxNumSeqs", f"vLLM's default {sizing.max_num_seqs}", reserves and sizing.max_num_seqs_is_default),
        ("maxModelLen", f"the model's {sizing.max_model_len} positions", sizing.max_model_len_is_default)) if is_default]
    if unset:
        numbers += f" ({' and '.join(unset)})"
    if sizing.weight_bytes > sizing.usable_bytes:
        field = "tensorParallelSize"
    elif reserves and sizing.max_num_seqs > 1 and sizing.one_sequence_bytes <= sizing.usable_bytes:
        field = "maxNumSeqs"
    else:
        field = "maxModelLen"
    found = memory_fixes(placed)
    fixes = [text for text, _ in found] or ["use a quantized checkpoint (no instance in the catalog holds these weights)"]
    if placed.compiled_into_image:
        # The image's graphs are compiled for these settings: the change is a rebuild, not a value here.
        text = f"{placed.label}: {numbers}; {RECOMPILE_NOTE}; after recompiling, this would fit: {either(fixes)}"
        return ConfigIssue(f"{placed.path}.{field}", text)
    return ConfigIssue(f"{placed.path}.{field}", f"{placed.label}: {numbers}; {either(fixes)}", found[0][1] if found else ())


def memory_fixes(placed: PlacedModel) -> list[tuple[str, tuple[Fix, ...]]]:
    """Computed alternatives that fit, each with its change as data where it is one of this model's values:
    fewer sequences, shorter context, a larger degree or instance."""
    sizing = placed.sizing
    reserves = sizing.reserves_all_sequences
    fixes: list[tuple[str, tuple[Fix, ...]]] = []
    budget = sizing.usable_bytes - sizing.weight_bytes
    per_token = sizing.kv_bytes_per_token
    path = placed.path
    if budget > 0:
        seqs = int(budget // (sizing.max_model_len * per_token))
        if reserves and sizing.max_num_seqs > 1 and seqs >= 1:
            fixes.append((f"lower maxNumSeqs to {seqs}", (Fix(f"{path}.maxNumSeqs", seqs),)))
        tokens = budget / per_token / (sizing.max_num_seqs if reserves else 1)
        length = largest_power_of_two_at_most(tokens)
        if length >= 1024:
            fixes.append((f"lower maxModelLen to {length}", (Fix(f"{path}.maxModelLen", length),)))
        elif reserves and sizing.max_num_seqs > 1 and seqs < 1:
            single = largest_power_of_two_at_most(budget / per_token)
            if single >= 1024:
                fixes.append((f"set maxNumSeqs to 1 and maxModelLen to {single}",
                              (Fix(f"{path}.maxNumSeqs", 1), Fix(f"{path}.maxModelLen", single))))
    alternative = larger_configuration(placed)
    if alternative:
        fixes.append(alternative)
    return fixes
