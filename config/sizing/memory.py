"""Accelerator memory per model: weights, KV cache, and what fits. Pure arithmetic, no checks.

Usable = device memory x gpu-memory-utilization (where the backend honours it) x devices; KV per
token = 2 x layers x KV heads (as sharded, config/sizing/sharding.py) x head dim x bytes per
element. Activation peak and non-torch memory are not modelled, so capacities are upper bounds;
vLLM profiles the real figure at start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from config.accelerators import ACCELERATORS, AcceleratorKind, AcceleratorTraits
from config.instance_catalog import InstanceSpec
from config.model import ModelConfig
from config.model_catalog import Architecture, resolve_architecture
from config.sizing.precision import Precision, kv_precision, weight_precision, weights_size
from config.sizing.sharding import HeadSharding
from config.sizing.vllm_defaults import GPU_MEMORY_UTILIZATION, default_max_num_seqs


@dataclass(frozen=True)
class ModelSizing:
    index: int
    name: str
    path: str
    """`models[i]`."""
    instance: InstanceSpec
    accelerator: AcceleratorKind
    architecture: Optional[Architecture]
    matched_by: str
    skipped: str = ""
    """Why memory was not sized (unknown architecture); empty when sized."""
    weights: Optional[Precision] = None
    kv: Optional[Precision] = None
    tensor_parallel_size: int = 1
    devices: int = 1
    heads: Optional[HeadSharding] = None
    weight_bytes: float = 0
    kv_bytes_per_token_formula: float = 0
    """The guide's formula with the model's own KV-head count."""
    kv_bytes_per_token: float = 0
    """As allocated across the replica's devices (KV heads replicated/padded by sharding)."""
    device_memory_bytes: int = 0
    utilization: Optional[float] = None
    """None where the backend ignores gpu-memory-utilization (Neuron)."""
    usable_bytes: float = 0
    max_model_len: int = 0
    max_model_len_is_default: bool = False
    max_num_seqs: int = 0
    max_num_seqs_is_default: bool = False
    max_num_seqs_rule: str = ""
    """Where an unset maxNumSeqs came from (vLLM's hardware-dependent default)."""
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
        return self.usable_bytes - self.weight_bytes

    @property
    def kv_capacity_tokens(self) -> int:
        if self.kv_bytes_per_token <= 0 or self.kv_budget_bytes <= 0:
            return 0
        return int(self.kv_budget_bytes // self.kv_bytes_per_token)

    @property
    def full_sequences(self) -> int:
        return self.kv_capacity_tokens // self.max_model_len if self.max_model_len else 0

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
    def needed_bytes(self) -> float:
        """Weights plus the KV the backend must have: all sequences where it reserves up front, else one full-length."""
        return self.weight_bytes + (self.requested_kv_bytes if self.reserves_all_sequences
                                    else self.max_model_len * self.kv_bytes_per_token)

    @property
    def fits(self) -> bool:
        return self.needed_bytes <= self.usable_bytes

    @property
    def concurrency_fits(self) -> bool:
        return self.weight_bytes + self.requested_kv_bytes <= self.usable_bytes


def usable_memory(spec: InstanceSpec, devices: int, utilization: Optional[float]) -> float:
    per_device = spec.memory_per_schedulable_unit_bytes
    return per_device * devices * (1.0 if utilization is None else utilization)


def size_model(model: ModelConfig, index: int, spec: InstanceSpec, tensor_parallel_size: Optional[int] = None) -> ModelSizing:
    """Size one model on `spec` (optionally at another tensor-parallel size, for suggested fixes)."""
    arch, matched_by = resolve_architecture(model.model, model.architecture, model.name)
    base = dict(index=index, name=model.name, path=f"models[{index}]", instance=spec, accelerator=model.accelerator,
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
    utilization = (model.gpu_memory_utilization or GPU_MEMORY_UTILIZATION) if traits.honours_memory_utilization else None
    notes = []
    default_seqs, seqs_rule = default_max_num_seqs(traits, spec)
    if heads.kv_heads != arch.kv_heads:
        notes.append(f"KV heads {arch.kv_heads} -> {heads.kv_heads} ({heads.strategy}) at tensor-parallel size {tp}")
    return ModelSizing(
        **base, weights=weights, kv=kv, tensor_parallel_size=tp, devices=devices, heads=heads,
        weight_bytes=weights_size(arch, weights),
        kv_bytes_per_token_formula=arch.kv_bytes_per_token(kv.bytes),
        kv_bytes_per_token=arch.kv_bytes_per_token(kv.bytes, heads.kv_heads),
        device_memory_bytes=spec.memory_per_schedulable_unit_bytes,
        utilization=utilization,
        usable_bytes=usable_memory(spec, devices, utilization),
        max_model_len=model.max_model_len or arch.max_position_embeddings,
        max_model_len_is_default=model.max_model_len is None,
        max_num_seqs=model.max_num_seqs or default_seqs,
        max_num_seqs_is_default=model.max_num_seqs is None,
        max_num_seqs_rule=seqs_rule if model.max_num_seqs is None else "",
        notes=notes,
    )


