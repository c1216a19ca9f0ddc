"""Accelerator memory per model: weights, KV cache, and what fits. Pure arithmetic, no checks.

Device memory is what the runtime reports (config/device_memory.py). KV per token = 2 x layers x
KV heads (as sharded, config/sizing/sharding.py) x head dim x bytes per element.
- Where the backend profiles its memory (vLLM on GPUs), the KV cache is what vLLM's own accounting
  leaves (config/sizing/vllm_memory.py, by the image's vLLM version): total x gpu-memory-utilization
  - weights - peak activation - non-torch memory (- CUDA graphs where the version subtracts them),
  in whole blocks, per rank.
- Where it reserves KV for every sequence up front (Neuron), usable = device memory x devices and
  the weights plus maxNumSeqs x maxModelLen of KV must fit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..accelerators import ACCELERATORS, AcceleratorKind, AcceleratorTraits
from ..device_memory import device_memory
from ..instance_catalog import InstanceSpec
from ..model import ModelConfig
from ..model_catalog import Architecture, resolve_architecture
from .precision import Precision, kv_precision, named_checkpoint_precision, weight_precision, weights_size
from .sharding import HeadSharding
from .vllm_defaults import (
    GPU_MEMORY_UTILIZATION,
    default_max_num_batched_tokens,
    default_max_num_seqs,
    scheduler_defaults,
)
from .vllm_memory import VllmMemory, image_vllm_version, vllm_memory
from .vllm_version import engine_choice, v0_batched_tokens, version_default_utilization


@dataclass(frozen=True)
class ModelSizing:
    index: int
    name: str
    path: str
    """`models[i]`."""
    instance: InstanceSpec
    accelerator: AcceleratorKind
    architecture: Architecture | None
    matched_by: str
    skipped: str = ""
    """Why memory was not sized (unknown architecture); empty when sized."""
    weights: Precision | None = None
    kv: Precision | None = None
    tensor_parallel_size: int = 1
    devices: int = 1
    heads: HeadSharding | None = None
    weight_bytes: float = 0
    kv_bytes_per_token_formula: float = 0
    """The guide's formula with the model's own KV-head count."""
    kv_bytes_per_token: float = 0
    """As allocated across the replica's devices (KV heads replicated/padded by sharding)."""
    device_memory_bytes: int = 0
    utilization: float | None = None
    """None where the backend ignores gpu-memory-utilization (Neuron)."""
    usable_bytes: float = 0
    max_model_len: int = 0
    max_model_len_is_default: bool = False
    max_num_seqs: int = 0
    max_num_seqs_is_default: bool = False
    max_num_seqs_rule: str = ""
    """Where an unset maxNumSeqs came from (vLLM's hardware-dependent default)."""
    vllm: VllmMemory | None = None
    """vLLM's own accounting of one rank, where the backend profiles its memory (GPUs); None on Neuron."""
    draft: str = ""
    """The speculative draft model counted in the weights and KV, or why it is not counted."""
    notes: list[str] = field(default_factory=list)

    @property
    def sized(self) -> bool:
        return not self.skipped

    @property
    def traits(self) -> AcceleratorTraits:
        return ACCELERATORS[self.accelerator]

    @property
    def reserves_all_sequences(self) -> bool:
        """The backend allocates KV for maxNumSeqs x maxModelLen up front (Neuron)."""
        return self.traits.reserves_kv_for_all_sequences

    @property
    def kv_budget_bytes(self) -> float:
        """KV cache across the replica's devices: vLLM's remainder per rank x ranks, else usable - weights."""
        if self.vllm is not None:
            return self.vllm.kv_cache_bytes * self.devices
        return self.usable_bytes - self.weight_bytes

    @property
    def kv_capacity_tokens(self) -> int:
        """Tokens the KV cache holds: vLLM's "GPU KV cache size" (whole blocks) where it profiles."""
        if self.vllm is not None:
            return self.vllm.kv_tokens
        if self.kv_bytes_per_token <= 0 or self.kv_budget_bytes <= 0:
            return 0
        return int(self.kv_budget_bytes // self.kv_bytes_per_token)

    @property
    def full_sequences(self) -> int:
        return self.kv_capacity_tokens // self.max_model_len if self.max_model_len else 0

    @property
    def concurrency(self) -> float:
        """vLLM's "Maximum concurrency for maxModelLen tokens per request"."""
        return self.kv_capacity_tokens / self.max_model_len if self.max_model_len else 0.0

    @property
    def headroom_fits(self) -> bool:
        """The CUDA context (and graphs, where not in the budget) fit beside vLLM's share; True off GPUs."""
        return self.vllm is None or self.vllm.headroom_fits

    @property
    def requested_tokens(self) -> int:
        return self.max_num_seqs * self.max_model_len

    @property
    def requested_kv_bytes(self) -> float:
        """KV for max-num-seqs x max-model-len: what a backend that reserves up front allocates."""
        return self.requested_tokens * self.kv_bytes_per_token

    @property
    def one_sequence_bytes(self) -> float:
        return self.weight_bytes + self.max_model_len * self.kv_bytes_per_token

    @property
    def overhead_bytes(self) -> float:
        """What vLLM takes from the budget besides weights and KV, across the replica's devices."""
        if self.vllm is None:
            return 0.0
        per_rank = self.vllm.activation.peak_bytes + self.vllm.non_torch_bytes
        if self.vllm.graphs_in_budget:
            per_rank += self.vllm.graph_bytes
        return per_rank * self.devices

    @property
    def needed_bytes(self) -> float:
        """Weights (and vLLM's overhead) plus the KV the backend must have: all sequences where it
        reserves up front, else one full-length sequence."""
        return self.weight_bytes + self.overhead_bytes + (
            self.requested_kv_bytes if self.reserves_all_sequences else self.max_model_len * self.kv_bytes_per_token)

    @property
    def fits(self) -> bool:
        if self.vllm is not None:
            return self.kv_capacity_tokens >= self.max_model_len
        return self.needed_bytes <= self.usable_bytes

    @property
    def concurrency_fits(self) -> bool:
        if self.vllm is not None:
            return self.kv_capacity_tokens >= self.requested_tokens
        return self.weight_bytes + self.requested_kv_bytes <= self.usable_bytes


def usable_memory(spec: InstanceSpec, devices: int, utilization: float | None) -> float:
    per_device = spec.reported_memory_per_schedulable_unit_bytes
    return per_device * devices * (1.0 if utilization is None else utilization)


def _draft(model: ModelConfig, kv_bytes: float) -> tuple[float, float, str]:
    """Weights and KV bytes per token of a speculative draft model, and how it was counted.

    vLLM loads the draft on the same GPUs and gives its layers their own KV cache in the same pool
    (vllm/v1/spec_decode/, the drafter's attention layers are in the KV cache spec), so both add to
    the target's. A draft the architecture catalog does not know (EAGLE heads, MTP) is not counted."""
    spec = model.speculative_config
    if spec is None:
        return 0.0, 0.0, ""
    if spec.model is None:
        return 0.0, 0.0, f"speculativeConfig {spec.method or 'method'} without a draft model: nothing to count"
    arch, _ = resolve_architecture(spec.model, None, spec.model)
    if arch is None:
        return 0.0, 0.0, f"draft {spec.model!r} is not in config/model_catalog.py: its weights and KV are not counted"
    precision = named_checkpoint_precision(spec.model, arch)
    return (weights_size(arch, precision), arch.kv_bytes_per_token(kv_bytes),
            f"draft {arch.hf_id}: {weights_size(arch, precision) / 2**30:.1f} GiB of weights and "
            f"{arch.kv_bytes_per_token(kv_bytes) / 2**10:g} KiB/token of KV counted")


def size_model(model: ModelConfig, index: int, spec: InstanceSpec, tensor_parallel_size: int | None = None) -> ModelSizing:
    """Size one model on `spec` (optionally at another tensor-parallel size, for suggested fixes)."""
    arch, matched_by = resolve_architecture(model.model, model.architecture, model.name)
    base: dict[str, Any] = dict(index=index, name=model.name, path=f"models[{index}]", instance=spec, accelerator=model.accelerator,
                architecture=arch, matched_by=matched_by)
    if arch is None:
        return ModelSizing(**base, skipped=(
            f"{model.model!r} matches no architecture in config/model_catalog.py; add an `architecture` "
            f"block (parameters, layers, attentionHeads, kvHeads, headDim, maxPositionEmbeddings) from its config.json"))
    tp = tensor_parallel_size or model.tensor_parallel_size
    devices = tp * model.pipeline_parallel_size
    weights = weight_precision(model, arch)
    kv = kv_precision(model, weights)
    traits = ACCELERATORS[model.accelerator]
    heads = traits.head_sharding.shard(arch, tp)
    default_utilization = version_default_utilization(image_vllm_version(model.image)) or GPU_MEMORY_UTILIZATION
    utilization = (model.gpu_memory_utilization or default_utilization) if traits.honours_memory_utilization else None
    notes = []
    default_seqs, seqs_rule = default_max_num_seqs(traits, spec)
    if heads.kv_heads != arch.kv_heads:
        notes.append(f"KV heads {arch.kv_heads} -> {heads.kv_heads} ({heads.strategy}) at tensor-parallel size {tp}")
    draft_weights, draft_kv, draft_note = _draft(model, kv.bytes)
    weight_bytes = weights_size(arch, weights) + draft_weights
    kv_per_token = arch.kv_bytes_per_token(kv.bytes, heads.kv_heads) + draft_kv
    max_num_seqs = model.max_num_seqs or default_seqs
    max_model_len = model.max_model_len or arch.max_position_embeddings
    profile = None
    if traits.kv_from_memory_profile:
        assert utilization is not None
        total = spec.reported_memory_per_schedulable_unit_bytes
        default_tokens, tokens_rule = default_max_num_batched_tokens(total, spec.accelerator_model)
        version = image_vllm_version(model.image)
        choice, capture = engine_choice(model, version, spec.accelerator_model, arch)
        max_num_seqs, batched_tokens = scheduler_defaults(
            model.max_num_seqs, model.max_num_batched_tokens, max_model_len, default_seqs, default_tokens)
        if choice is not None and choice.engine == "V0" and model.max_num_batched_tokens is None:
            batched_tokens, tokens_rule = v0_batched_tokens(max_model_len, max_num_seqs)
        if batched_tokens < default_tokens and model.max_num_batched_tokens is None:
            tokens_rule += ", capped at maxNumSeqs x maxModelLen"
        if max_num_seqs < default_seqs and model.max_num_seqs is None:
            seqs_rule += f", capped at maxNumBatchedTokens {batched_tokens}"
        profile = vllm_memory(
            version, arch, total_bytes=total, choice=choice, capture_rule=capture,
            utilization=utilization, weights_bytes=weight_bytes, kv_bytes_per_token=kv_per_token,
            tensor_parallel_size=tp, devices=devices, max_num_seqs=max_num_seqs,
            max_num_batched_tokens=batched_tokens,
            max_num_batched_tokens_rule="" if model.max_num_batched_tokens else tokens_rule,
            nvlink=device_memory(spec.accelerator_model).nvlink, quantized_activations=weights.bytes < 2,
            num_speculative_tokens=model.speculative_config.num_speculative_tokens if model.speculative_config else 0)
    return ModelSizing(
        **base, weights=weights, kv=kv, tensor_parallel_size=tp, devices=devices, heads=heads,
        weight_bytes=weight_bytes,
        kv_bytes_per_token_formula=arch.kv_bytes_per_token(kv.bytes),
        kv_bytes_per_token=kv_per_token,
        device_memory_bytes=spec.reported_memory_per_schedulable_unit_bytes,
        utilization=utilization,
        usable_bytes=usable_memory(spec, devices, utilization),
        max_model_len=max_model_len,
        max_model_len_is_default=model.max_model_len is None,
        max_num_seqs=max_num_seqs,
        max_num_seqs_is_default=model.max_num_seqs is None,
        max_num_seqs_rule=seqs_rule if model.max_num_seqs is None else "",
        vllm=profile, draft=draft_note,
        notes=notes,
    )


