"""The sizing table the preview prints: per model, the memory arithmetic behind its verdict."""

from __future__ import annotations

from ..config.autoscaling import queue_target, replica_bounds
from ..config.compute_capability import compute_capability
from ..config.placement.capacity import group_capacity, total_cost
from ..config.placement.host_memory import memory_limit, model_host_memory
from ..config.placement.records import PlacedModel
from ..config.prices import PRICE_SOURCE, hourly_price, usd
from ..config.scale_out import scale_out, windows
from ..config.sizing.memory import ModelSizing
from ..config.sizing.moe_activation import moe_kernel_path
from ..config.sizing.precision import weights_formula
from ..config.startup import minutes
from ..config.units import gib, kib
from ..config.validation import ValidatedStack
from ..config.wording import plural


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


def _gib2(value: float) -> str:
    """Two decimals, as vLLM's own log line prints them."""
    return f"{value / 2**30:.2f} GiB"


def vllm_rows(sizing: ModelSizing) -> list[tuple[str, str]]:
    """vLLM's accounting of one GPU, in the order its log line prints it, and what it leaves."""
    memory = sizing.vllm
    assert memory is not None
    graphs = "in the budget" if memory.graphs_in_budget else "outside the budget, captured after the KV cache"
    subtracted = "weights - activation - non-torch" + (" - graphs" if memory.graphs_in_budget else "")
    batched = f"{memory.max_num_batched_tokens}" + (
        f" (unset: {memory.max_num_batched_tokens_rule}, assumed)" if memory.max_num_batched_tokens_rule else "")
    headroom = (f"{_gib2(memory.headroom_bytes)} outside the budget for the CUDA context {_gib2(memory.context_bytes)}"
                + ("" if memory.graphs_in_budget else f" + graphs {_gib2(memory.graph_bytes)}")
                + f" = {_gib2(memory.outside_budget_bytes)}: " + ("enough" if memory.headroom_fits else "TOO LITTLE"))
    per = "per GPU" if sizing.devices == 1 else f"per GPU, 1 of {sizing.devices}"
    return [
        ("vLLM", f"{memory.version.describe()}; CUDA graphs "
                 f"{'subtracted from the KV cache' if memory.graphs_in_budget else 'outside the KV budget'} "
                 f"({memory.accounting.source.split(':', 1)[0] if memory.choice is None else 'config/vllm_facts'})"),
        *([("engine", f"{memory.choice.label}" + (f" ({'; '.join(memory.choice.reasons)})" if memory.choice.reasons
                                                  else " (as vLLM picks them from the generated facts)"))]
          if memory.choice is not None else []),
        ("maxNumBatchedTokens", batched),
        (f"memory {per}", f"weights {_gib2(memory.weights_bytes)}, activation {_gib2(memory.activation.peak_bytes)} "
                          f"({memory.activation.phase}), non-torch {_gib2(memory.non_torch_bytes)}, CUDA graphs "
                          f"{_gib2(memory.graph_bytes)} ({graphs}, estimated), KV {_gib2(memory.kv_cache_bytes)} = "
                          f"{memory.total_bytes / 2**30:.2f} GiB x {memory.utilization:g} - {subtracted}"),
        ("KV capacity", f"{sizing.kv_capacity_tokens:,} tokens; concurrency {sizing.concurrency:.2f}x at maxModelLen "
                        f"{sizing.max_model_len}"),
        ("headroom", headroom),
    ]


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
    if sizing.vllm is not None:
        verdict = ("fits" if sizing.fits else "DOES NOT FIT") + f": one {sizing.max_model_len}-token sequence " + (
            "fits" if sizing.fits else "does not fit") + " in vLLM's KV cache"
        if sizing.fits and not sizing.headroom_fits:
            # The verdict never contradicts its details: a KV cache that fits beside too little headroom is at risk.
            verdict = (f"AT RISK: one {sizing.max_model_len}-token sequence fits in vLLM's KV cache, but the headroom "
                       f"outside the budget is TOO LITTLE (see headroom and the warning)")
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
    ]
    if arch.is_moe:
        rows.insert(1, ("experts", (
            f"mixture of experts: {arch.num_experts} experts of width {arch.moe_intermediate_size}, top "
            f"{arch.num_experts_per_tok} per token, all resident in the weights"
            + (f"; activation: {moe_kernel_path(arch, compute_capability(sizing.instance.accelerator_model), sizing.weights.bytes < 2)}"
               if sizing.vllm is not None else ""))))
    if sizing.draft:
        rows.append(("speculative", sizing.draft))
    if sizing.vllm is not None:
        rows += vllm_rows(sizing)
        rows.append(("verdict", verdict))
    else:
        rows += [("KV capacity", capacity),
                 ("verdict", f"{verdict}: needs {gib(sizing.needed_bytes)} of {gib(sizing.usable_bytes)}")]
    host = model_host_memory(placed.model, placed.group)
    if host is not None:
        rows.append(("host memory", (
            f"checkpoint {gib(host.checkpoint_bytes)} at {host.precision}, sharded in host memory at load: peak "
            f"{host.factor}x = {gib(host.load_bytes)}; request {placed.model.resources.memory}, memory limit "
            f"{memory_limit(placed.model, placed.group)} (max(request, min(peak, {gib(host.allocatable_bytes)} allocatable)))")))
    if placed.compiled_into_image:
        rows.append(("compiled", "graphs baked into the image: tensorParallelSize, maxNumSeqs and maxModelLen "
                                 "are fixed; changing them means recompiling"))
    rows += replica_rows(placed)
    width = max(len(label) for label, _ in rows)
    return "\n".join([title] + [f"  {label.ljust(width)}  {value}" for label, value in rows])


def replica_rows(placed: PlacedModel, scrape_interval_seconds: int = 15) -> list[tuple[str, str]]:
    """The replica bounds, and for an autoscaled model what it scales on and how fast (config/scale_out.py)."""
    model = placed.model
    low, high = replica_bounds(model)
    if model.autoscaling is None:
        return [("replicas", f"{low} (fixed)")]
    target = queue_target(placed)
    outlook = scale_out(model, placed.group, scrape_interval_seconds)
    held = windows(outlook)
    return [
        ("replicas", f"{low} to {high}, autoscaled: a replica per {plural(target.waiting_per_replica, 'waiting request')} "
                     f"({target.rule}); scale-down after {minutes(held.scale_down_stabilization_seconds)} low, "
                     f"one replica per {minutes(held.scale_down_period_seconds)} ({held.note})"),
        ("scale out", outlook.describe()),
    ]


def format_capacity(validated: ValidatedStack) -> str:
    """Nodes and hourly cost per node group at the fewest and the most replicas."""
    capacities = group_capacity(validated.stack, list(validated.placed))
    lines = [f"Capacity and cost (prices: {PRICE_SOURCE}):"]
    for found in capacities:
        group = found.group
        models = ", ".join(f"{name} {low}" + (f"-{high}" if high != low else "") for name, low, high in found.models)
        kind = f"{group.capacity.value}, maxSize {group.resolved_max_size}" if group.is_karpenter else (
            f"{group.capacity.value}, {plural(group.resolved_desired_size, 'node')}")
        lines.append(
            f"  {group.name} ({group.instance_type} at {usd(hourly_price(group.instance_type))}; {kind}): "
            f"nodes {found.nodes_at_min} at min, {found.nodes_at_max} at max; "
            f"{usd(found.cost(found.nodes_at_min))} at min, {usd(found.cost(found.nodes_at_max))} at max"
            + (f" ({models})" if models else ""))
    lines.append(f"  total: {usd(total_cost(capacities, at_max=False))} at min, {usd(total_cost(capacities, at_max=True))} at max")
    return "\n".join(lines)


def format_sizing_table(validated: ValidatedStack, with_capacity: bool = True) -> str:
    """Plain-text sizing per model, binary units with the unit printed; the node groups' capacity and cost unless
    the nodes are not the stack's (library mode on an existing cluster: `with_capacity=False`)."""
    blocks = [format_model_sizing(placed) for placed in validated.placed]
    if not blocks:
        return "no models to size"
    return "\n\n".join(blocks + ([format_capacity(validated)] if with_capacity else []))
