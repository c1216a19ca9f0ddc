"""The sizing table the preview prints: per model, the memory arithmetic behind its verdict."""

from __future__ import annotations

from config.placement.records import PlacedModel
from config.sizing.memory import ModelSizing
from config.sizing.precision import weights_formula
from config.units import gib, kib
from config.validation import ValidatedStack


def device_label(sizing: ModelSizing) -> str:
    """`1 x L40S 44.7 GiB x 0.9`, or `2 x NeuronCore (Inferentia2) 14.9 GiB, utilization ignored`."""
    spec, traits = sizing.instance, sizing.traits
    per_device = gib(sizing.device_memory_bytes)
    if traits.names_unit_by_device_model:
        unit = spec.accelerator_model
    else:
        unit = f"{traits.unit_name} ({spec.accelerator_model})"
    if sizing.utilization is None:
        return f"{sizing.devices} x {unit} {per_device}, utilization ignored"
    return f"{sizing.devices} x {unit} {per_device} x {sizing.utilization:g}"


def format_model_sizing(placed: PlacedModel) -> str:
    sizing = placed.sizing
    title = f"{sizing.path} {sizing.name} on {sizing.instance.name}"
    if not sizing.sized:
        return f"{title}\n  not sized: {sizing.skipped}"
    arch = sizing.architecture
    assert arch is not None and sizing.weights is not None and sizing.kv is not None and sizing.heads is not None
    len_note = " (model default)" if sizing.max_model_len_is_default else ""
    seqs_note = f" (unset: {sizing.max_num_seqs_rule}, assumed)" if sizing.max_num_seqs_is_default else ""
    kv_line = f"{kib(sizing.kv_bytes_per_token_formula)}/token at {sizing.kv.name} ({sizing.kv.source})"
    if sizing.kv_bytes_per_token != sizing.kv_bytes_per_token_formula:
        kv_line += f"; {kib(sizing.kv_bytes_per_token)}/token as allocated ({sizing.notes[0]})"
    verdict = "fits" if sizing.fits else "DOES NOT FIT"
    if sizing.reserves_all_sequences:
        verdict += f" ({sizing.traits.backend_name} reserves KV for all sequences up front)"
        capacity = f"{sizing.requested_tokens} tokens reserved = {gib(sizing.requested_kv_bytes)}"
    else:
        capacity = (f"{sizing.kv_capacity_tokens} tokens = {sizing.full_sequences} full-length sequences; "
                    f"maxNumSeqs x maxModelLen {'fits' if sizing.concurrency_fits else 'does not fit'}")
    rows = [
        ("architecture", f"{arch.hf_id} ({sizing.matched_by}): {arch.parameters / 1e9:.2f}B parameters, "
                         f"{arch.layers} layers, {arch.attention_heads} attention heads, {arch.kv_heads} KV heads, "
                         f"head dim {arch.head_dim}"),
        ("weights", f"{gib(sizing.weight_bytes)} at {sizing.weights.name} ({weights_formula(arch, sizing.weights)}; "
                    f"{sizing.weights.source})"),
        ("KV cache", kv_line),
        ("usable memory", f"{gib(sizing.usable_bytes)} ({device_label(sizing)})"),
        ("maxModelLen", f"{sizing.max_model_len}{len_note}"),
        ("maxNumSeqs", f"{sizing.max_num_seqs}{seqs_note}"),
        ("KV capacity", capacity),
        ("verdict", f"{verdict}: needs {gib(sizing.needed_bytes)} of {gib(sizing.usable_bytes)}"),
    ]
    if placed.compiled_into_image:
        rows.append(("compiled", "graphs baked into the image: tensorParallelSize, maxNumSeqs and maxModelLen "
                                 "are fixed; changing them means recompiling"))
    width = max(len(label) for label, _ in rows)
    return "\n".join([title] + [f"  {label.ljust(width)}  {value}" for label, value in rows])


def format_sizing_table(validated: ValidatedStack) -> str:
    """Plain-text sizing per model, binary units with the unit printed."""
    blocks = [format_model_sizing(placed) for placed in validated.placed]
    return "\n\n".join(blocks) if blocks else "no models to size"
