"""Bytes per weight and per KV element: what the checkpoint stores and what the backend serves.

The guide's formula (shared/seeds/vllm-gpu-deployment-guide.txt, "GPU Memory Requirement
Calculations"): weights = parameters x bytes per parameter (FP16/BF16 2, FP8/INT8 1, INT4 0.5).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..accelerators import ACCELERATORS
from ..model import ModelConfig
from ..model_catalog import DTYPE_BYTES, Architecture
from .compiled import compiled_dtype

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


def extra_arg(model: ModelConfig, flag: str) -> str | None:
    args = model.extra_args
    for position, arg in enumerate(args):
        if arg == flag and position + 1 < len(args):
            return args[position + 1]
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    return None


def weight_precision(model: ModelConfig, arch: Architecture) -> Precision:
    """Bytes per parameter: the image's compiled graphs, `quantization`, then neuronConfig, then a name hint,
    then the checkpoint dtype."""
    compiled = compiled_dtype(model)
    if compiled is not None:
        return Precision(*compiled)
    if model.quantization:
        method = model.quantization.lower()
        if method in _QUANTIZATION_BYTES:
            name, size = _QUANTIZATION_BYTES[method]
            return Precision(name, size, f"quantization: {model.quantization}")
    neuron = model.neuron_config or {}
    if neuron.get("quantized") is True:
        # NxD Inference NeuronConfig: quantization_dtype defaults to "int8".
        quantization_dtype = str(neuron.get("quantization_dtype", "int8"))
        if quantization_dtype.startswith("f8"):
            return Precision("fp8", 1, f"neuronConfig quantized, quantization_dtype {quantization_dtype}")
        return Precision("int8", 1, "neuronConfig quantized (int8 unless quantization_dtype says f8e4m3)")
    hinted = _name_hint(model)
    if hinted:
        return hinted
    dtype = extra_arg(model, "--dtype")
    if dtype in ("float32", "float"):
        return Precision("fp32", 4, "--dtype float32")
    if dtype in ("float16", "half", "bfloat16"):
        return Precision({"half": "fp16", "float16": "fp16"}.get(dtype, "bf16"), 2, f"--dtype {dtype}")
    return _checkpoint_dtype(arch)


def _name_hint(model: ModelConfig) -> Precision | None:
    return _hint(model.model)


def named_checkpoint_precision(name: str, arch: Architecture) -> Precision:
    """What a checkpoint named `name` stores (a speculative draft's): its name's hint, else its dtype."""
    return _hint(name) or _checkpoint_dtype(arch)


def _hint(model_name: str) -> Precision | None:
    name = model_name.lower()
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


def kv_precision(model: ModelConfig, weights: Precision) -> Precision:
    """Bytes per KV element: 1 with Neuron `kv_cache_quant` or vLLM `--kv-cache-dtype fp8*`, else the
    backend's default (the model's dtype on GPUs, 16-bit on Neuron)."""
    traits = ACCELERATORS[model.accelerator]
    compiled = compiled_dtype(model)
    if compiled is not None:
        return Precision(*compiled)
    if (model.neuron_config or {}).get("kv_cache_quant") is True:
        return Precision("fp8", 1, "neuronConfig kv_cache_quant (FP8 e4m3)")
    kv_dtype = model.kv_cache_dtype if traits.kv_cache_dtype_flag else None
    if kv_dtype and kv_dtype.startswith("fp8"):
        return Precision("fp8", 1, f"kvCacheDtype {kv_dtype}")
    if traits.kv_cache_follows_model_dtype and weights.bytes == 4:
        return Precision("fp32", 4, "model dtype float32")
    return Precision("bf16", 2, traits.kv_cache_default_source)
