"""Accelerator memory per model: weights, KV cache, and what fits. Pure arithmetic, no checks.

The formula is the GPU guide's (shared/seeds/vllm-gpu-deployment-guide.txt, "GPU Memory
Requirement Calculations"): weights = parameters x bytes per parameter; KV per token =
2 x layers x KV heads x head dim x bytes per element; usable = device memory x
gpu-memory-utilization x devices. Activation peak and non-torch memory are not modelled, so
capacities are upper bounds; vLLM profiles the real figure at start.

How KV heads are sharded (and so how many copies the cache holds):
- vLLM on GPUs (vllm/model_executor/layers/linear.py, QKVParallelLinear): with tensor-parallel
  size >= KV heads each rank keeps one KV head (tp / kv replicas each); otherwise kv / tp
  heads per rank. Total KV heads allocated = max(kv_heads, tp).
- NxD Inference on Neuron (neuronx_distributed_inference/modules/attention/gqa.py,
  `determine_sharding_strategy` and `get_shardable_head_counts`): query heads are padded up to
  a multiple of the degree; if tp % kv_heads == 0 KV heads are replicated to tp
  (REPLICATE_TO_TP_DEGREE), otherwise the model is converted to MHA and KV heads become the
  padded query-head count (CONVERT_TO_MHA). The KV cache
  (modules/kvcache/kv_cache_manager.py) is allocated up front with shape
  (max batch, KV heads per rank, max length, head dim) per layer for K and V, in FP8 (e4m3)
  when `kv_cache_quant` is set.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

from config.accelerators import AcceleratorKind
from config.instance_catalog import InstanceSpec
from config.model import ModelConfig, ModelSource
from config.model_catalog import DTYPE_BYTES, Architecture, resolve_architecture
from config.types import parse_quantity

if TYPE_CHECKING:
    from config.stack import StackConfig

KIB = 2**10
GIB = 2**30

GPU_DEFAULT_UTILIZATION = 0.9
"""vLLM's `--gpu-memory-utilization` default (the guide: "Default 0.9")."""

# vLLM's `--max-num-seqs` when unset depends on the hardware: `EngineArgs._set_default_args` in
# vllm/engine/arg_utils.py (vllm-project/vllm, read at commit 99d7eb5d) picks, for `vllm serve`
# (usage context OPENAI_API_SERVER), 1024 when the device reports >= 70 GiB and its name does not
# contain "a100" (H100, H200; A100 is excluded after PR #17885), else 256. A platform that reports
# no device memory (Neuron) takes the 256 branch; the vllm-neuron plugin's own 32 applies only to a
# value still unset after that. Sizing assumes these figures; the image's vLLM version decides.
VLLM_MAX_NUM_SEQS = 256
VLLM_LARGE_GPU_MAX_NUM_SEQS = 1024
VLLM_LARGE_GPU_BYTES = 70 * GIB

UNQUANTIZED_BYTES = 2
"""Bytes of the weights quantization leaves alone: token embeddings and lm_head stay 16-bit.

FP8 checkpoints quantize only linear layers inside the decoder blocks: llm-compressor recipes
target `Linear` and ignore `lm_head` (e.g. huggingface.co/neuralmagic/Llama-3.2-1B-FP8,
recipe.yaml), and NVIDIA ModelOpt quantizes "only the weights and activations of the linear
operators within transformers blocks" (huggingface.co/nvidia/Llama-3.1-405B-Instruct-FP8),
listing `lm_head` and `model.embed_tokens` under exclude_modules in hf_quant_config.json. An
embedding is not a linear layer, so no quantizer here converts it; a quantizer that does convert
lm_head (NxD Inference unless told otherwise) makes this count a little high, the safe side."""

# `--quantization` methods and the bytes per weight they store.
_QUANTIZATION_BYTES: dict[str, tuple[str, float]] = {
    "fp8": ("fp8", 1), "fbgemm_fp8": ("fp8", 1), "modelopt": ("fp8", 1), "ptpc_fp8": ("fp8", 1),
    "awq": ("int4", 0.5), "awq_marlin": ("int4", 0.5), "gptq": ("int4", 0.5), "gptq_marlin": ("int4", 0.5),
    "marlin": ("int4", 0.5), "bitsandbytes": ("int4", 0.5), "mxfp4": ("mxfp4", 0.5),
    "experts_int8": ("int8", 1), "int8": ("int8", 1),
}
# Name hints in a hub id or image path, checked in this order.
_NAME_HINTS: list[tuple[str, str, float]] = [
    ("awq", "int4", 0.5), ("gptq", "int4", 0.5), ("int4", "int4", 0.5), ("4bit", "int4", 0.5),
    ("fp8", "fp8", 1), ("int8", "int8", 1), ("w8a8", "int8", 1), ("8bit", "int8", 1),
]


@dataclass(frozen=True)
class Precision:
    name: str
    bytes: float
    source: str
    """Why: which field or hint decided it."""


def _extra_arg(model: ModelConfig, flag: str) -> Optional[str]:
    args = model.extra_args
    for position, arg in enumerate(args):
        if arg == flag and position + 1 < len(args):
            return args[position + 1]
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    return None


def weight_precision(model: ModelConfig, arch: Architecture) -> Precision:
    """Bytes per parameter: `quantization`, then neuronConfig, then a name hint, then the checkpoint dtype."""
    if model.quantization:
        method = model.quantization.lower()
        if method in _QUANTIZATION_BYTES:
            name, size = _QUANTIZATION_BYTES[method]
            return Precision(name, size, f"quantization: {model.quantization}")
    neuron = model.neuron_config or {}
    if neuron.get("quantized") is True:
        # NxD Inference NeuronConfig: quantization_dtype defaults to "int8".
        dtype = str(neuron.get("quantization_dtype", "int8"))
        if dtype.startswith("f8"):
            return Precision("fp8", 1, f"neuronConfig quantized, quantization_dtype {dtype}")
        return Precision("int8", 1, "neuronConfig quantized (int8 unless quantization_dtype says f8e4m3)")
    hinted = _name_hint(model)
    if hinted:
        return hinted
    dtype = _extra_arg(model, "--dtype")
    if dtype in ("float32", "float"):
        return Precision("fp32", 4, "--dtype float32")
    if dtype in ("float16", "half", "bfloat16"):
        return Precision({"half": "fp16", "float16": "fp16"}.get(dtype, "bf16"), 2, f"--dtype {dtype}")
    return _checkpoint_dtype(arch)


def _name_hint(model: ModelConfig) -> Optional[Precision]:
    name = model.model.lower()
    for hint, precision, size in _NAME_HINTS:
        if hint in name:
            return Precision(precision, size, f"'{hint}' in the model name")
    return None


def _checkpoint_dtype(arch: Architecture) -> Precision:
    label = {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32"}.get(arch.dtype, arch.dtype)
    return Precision(label, DTYPE_BYTES.get(arch.dtype, 2), f"checkpoint dtype {arch.dtype}")


def checkpoint_precision(model: ModelConfig, arch: Architecture) -> Precision:
    """What the published checkpoint stores: a quantized name (`-FP8`, `-AWQ`) says so, otherwise the
    architecture's `torch_dtype`. `quantization`, neuronConfig `quantized` and `--dtype` change what is
    served, not what is downloaded (NxD Inference quantizes a 16-bit checkpoint as it loads it)."""
    return _name_hint(model) or _checkpoint_dtype(arch)


def checkpoint_bytes(model: ModelConfig, arch: Architecture) -> float:
    """Size of the checkpoint as stored: what a backend that loads it whole holds in host memory."""
    return weights_size(arch, checkpoint_precision(model, arch))


def unquantized_parameters(arch: Architecture, precision: Precision) -> int:
    """Parameters kept at 16 bits under `precision`: embeddings and lm_head when quantized, else none."""
    return arch.embedding_parameters if precision.bytes < UNQUANTIZED_BYTES else 0


def weights_size(arch: Architecture, precision: Precision) -> float:
    """Parameters x bytes, with the embeddings and lm_head of a quantized model at 16 bits (see
    UNQUANTIZED_BYTES); an architecture block gives no vocabulary, so there all count as quantized."""
    kept = unquantized_parameters(arch, precision)
    return (arch.parameters - kept) * precision.bytes + kept * UNQUANTIZED_BYTES


def weights_formula(arch: Architecture, precision: Precision) -> str:
    """`8.03B parameters x 2 B`, or for a quantized model `6.98B x 1 B + 1.05B embedding and lm_head x 2 B`."""
    kept = unquantized_parameters(arch, precision)
    if not kept:
        return f"{arch.parameters / 1e9:.2f}B parameters x {precision.bytes:g} B"
    return (f"{(arch.parameters - kept) / 1e9:.2f}B parameters x {precision.bytes:g} B + {kept / 1e9:.2f}B "
            f"embedding and lm_head parameters x {UNQUANTIZED_BYTES} B")


def default_max_num_seqs(accelerator: AcceleratorKind, spec: InstanceSpec) -> tuple[int, str]:
    """vLLM's `--max-num-seqs` when unset on this hardware, and the rule that gave it."""
    if (accelerator is AcceleratorKind.GPU and spec.accelerator_memory_bytes >= VLLM_LARGE_GPU_BYTES
            and "a100" not in spec.accelerator_model.lower()):
        return VLLM_LARGE_GPU_MAX_NUM_SEQS, f"vLLM's default on GPUs with >= 70 GiB other than A100 ({spec.accelerator_model})"
    if accelerator is AcceleratorKind.GPU:
        return VLLM_MAX_NUM_SEQS, f"vLLM's default below 70 GiB per GPU and on A100 ({spec.accelerator_model})"
    return VLLM_MAX_NUM_SEQS, "vLLM's default where the device reports no memory (Neuron)"


def kv_precision(model: ModelConfig, weights: Precision) -> Precision:
    """Bytes per KV element: 1 with Neuron `kv_cache_quant` or vLLM `--kv-cache-dtype fp8*`, else 16-bit."""
    if model.accelerator is AcceleratorKind.NEURON:
        if (model.neuron_config or {}).get("kv_cache_quant") is True:
            return Precision("fp8", 1, "neuronConfig kv_cache_quant (FP8 e4m3)")
        return Precision("bf16", 2, "Neuron default (16-bit)")
    kv_dtype = _extra_arg(model, "--kv-cache-dtype")
    if kv_dtype and kv_dtype.startswith("fp8"):
        return Precision("fp8", 1, f"--kv-cache-dtype {kv_dtype}")
    if weights.bytes == 4:
        return Precision("fp32", 4, "model dtype float32")
    return Precision("bf16", 2, "vLLM kv-cache-dtype auto (the model's 16-bit dtype)")


@dataclass(frozen=True)
class HeadSharding:
    attention_heads: int
    """Query heads after padding to the degree."""
    kv_heads: int
    """KV heads allocated across all ranks (replicas included)."""
    strategy: str
    """'even', 'replicated' or (Neuron) 'convert-to-mha'."""


def shard_heads(arch: Architecture, tp: int, accelerator: AcceleratorKind) -> HeadSharding:
    heads, kv = arch.attention_heads, arch.kv_heads
    if accelerator is AcceleratorKind.GPU:
        if tp >= kv:
            return HeadSharding(heads, tp, "replicated" if tp > kv else "even")
        return HeadSharding(heads, kv, "even")
    padded = heads + (0 if heads % tp == 0 else tp - heads % tp)
    if heads == kv:
        return HeadSharding(padded, padded, "even" if padded == heads else "padded")
    if kv < tp or kv % tp:
        if tp % kv == 0:
            return HeadSharding(padded, tp, "replicated")
        return HeadSharding(padded, padded, "convert-to-mha")
    return HeadSharding(padded, kv, "even" if padded == heads else "padded")


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
    """None on Neuron, which ignores gpu-memory-utilization."""
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
    def neuron(self) -> bool:
        return self.accelerator is AcceleratorKind.NEURON

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
        """KV for max-num-seqs x max-model-len: what Neuron reserves up front."""
        return self.requested_tokens * self.kv_bytes_per_token

    @property
    def one_sequence_bytes(self) -> float:
        return self.weight_bytes + self.max_model_len * self.kv_bytes_per_token

    @property
    def needed_bytes(self) -> float:
        """Weights plus the KV the backend must have: all sequences on Neuron, one full-length on GPUs."""
        return self.weight_bytes + (self.requested_kv_bytes if self.neuron else self.max_model_len * self.kv_bytes_per_token)

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
    heads = shard_heads(arch, tp, model.accelerator)
    neuron = model.accelerator is AcceleratorKind.NEURON
    utilization = None if neuron else (model.gpu_memory_utilization or GPU_DEFAULT_UTILIZATION)
    notes = []
    default_seqs, seqs_rule = default_max_num_seqs(model.accelerator, spec)
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


def placeable_models(stack: "StackConfig") -> list[tuple[int, ModelConfig, "object"]]:
    """Models whose node group exists and offers their accelerator (others already have an error)."""
    placed = []
    for index, model in enumerate(stack.models):
        group = stack.node_group(model.node_group)
        if group is not None and group.accelerator is model.accelerator:
            placed.append((index, model, group))
    return placed


def sizing_report(stack: "StackConfig") -> list[ModelSizing]:
    """One entry per placeable model, in config order."""
    return [size_model(model, index, group.instance) for index, model, group in placeable_models(stack)]


# --------------------------------------------------------------------------------------------
# Formatting


def gib(value: float) -> str:
    return f"{value / GIB:.1f} GiB"


def kib(value: float) -> str:
    text = f"{value / KIB:.1f}".removesuffix(".0")
    return f"{text} KiB"


def device_label(sizing: ModelSizing) -> str:
    spec = sizing.instance
    unit = "NeuronCore" if sizing.neuron else spec.accelerator_model
    per_device = gib(sizing.device_memory_bytes)
    if sizing.neuron:
        return f"{sizing.devices} x {unit} ({spec.accelerator_model}) {per_device}, utilization ignored"
    return f"{sizing.devices} x {unit} {per_device} x {sizing.utilization:g}"


def format_model_sizing(sizing: ModelSizing, model: Optional[ModelConfig] = None) -> str:
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
    if sizing.neuron:
        verdict = ("fits" if sizing.fits else "DOES NOT FIT") + " (Neuron reserves KV for all sequences up front)"
        capacity = f"{sizing.requested_tokens} tokens reserved = {gib(sizing.requested_kv_bytes)}"
    else:
        verdict = "fits" if sizing.fits else "DOES NOT FIT"
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
    if model is not None and model.accelerator is AcceleratorKind.NEURON and model.source is ModelSource.IMAGE:
        rows.append(("compiled", "graphs baked into the image: tensorParallelSize, maxNumSeqs and maxModelLen "
                                 "are fixed; changing them means recompiling"))
    width = max(len(label) for label, _ in rows)
    return "\n".join([title] + [f"  {label.ljust(width)}  {value}" for label, value in rows])


def format_sizing_table(stack: "StackConfig") -> str:
    """Plain-text sizing per model, binary units with the unit printed."""
    models = {index: model for index, model, _ in placeable_models(stack)}
    blocks = [format_model_sizing(sizing, models.get(sizing.index)) for sizing in sizing_report(stack)]
    return "\n\n".join(blocks) if blocks else "no models to size"


def largest_power_of_two_at_most(value: float) -> int:
    return 2 ** int(math.log2(value)) if value >= 1 else 0


def quantity_bytes(text: str) -> float:
    return float(parse_quantity(text))
