"""How each accelerator kind shows up in Kubernetes and EKS.

Everything that differs between Neuron and NVIDIA lives in this table, so builders and
components have no `if neuron:` forks.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class AcceleratorKind(str, Enum):
    NEURON = "neuron"
    GPU = "gpu"


@dataclass(frozen=True)
class AcceleratorTraits:
    kind: AcceleratorKind
    resource_name: str
    """Extended resource a pod requests, one unit per tensor-parallel rank."""
    taint_key: str
    """Taint the node group carries (NoSchedule) so only accelerator pods land there."""
    ami_type: str
    """EKS managed node group AMI type (AL2023, accelerated)."""
    device_plugin: str
    """Name of the device plugin component that makes `resource_name` allocatable."""
    has_compile_cache: bool
    """Whether models keep compiled graphs in a second cache volume."""
    quantization_methods: frozenset[str]
    """Values vLLM's `--quantization` accepts on this platform."""
    quantization_hint: str
    """How to quantize instead, shown when `quantization` is not one of the methods."""
    pipeline_parallel: bool
    """Whether vLLM on this backend runs pipeline-parallel stages."""


ACCELERATORS: dict[AcceleratorKind, AcceleratorTraits] = {
    AcceleratorKind.NEURON: AcceleratorTraits(
        kind=AcceleratorKind.NEURON,
        resource_name="aws.amazon.com/neuroncore",
        taint_key="aws.amazon.com/neuron",
        ami_type="AL2023_x86_64_NEURON",
        device_plugin="neuron-device-plugin",
        has_compile_cache=True,
        # vLLM's Neuron platform (vllm/platforms/neuron.py, supported_quantization).
        quantization_methods=frozenset({"neuron_quant", "fbgemm_fp8"}),
        quantization_hint=(
            "on Neuron, quantize through neuronConfig (quantized: true, and quantization_dtype: f8e4m3 "
            "for fp8) and leave quantization unset"
        ),
        # vLLM's Neuron worker (and the NxD Inference plugin) build tensor-parallel groups only.
        pipeline_parallel=False,
    ),
    AcceleratorKind.GPU: AcceleratorTraits(
        kind=AcceleratorKind.GPU,
        resource_name="nvidia.com/gpu",
        taint_key="nvidia.com/gpu",
        ami_type="AL2023_x86_64_NVIDIA",
        device_plugin="nvidia-device-plugin",
        has_compile_cache=False,
        # vLLM's QuantizationMethods (vllm/model_executor/layers/quantization/__init__.py).
        quantization_methods=frozenset({
            "awq", "awq_marlin", "gptq", "gptq_marlin", "fp8", "fbgemm_fp8", "modelopt", "modelopt_fp4",
            "gguf", "compressed-tensors", "bitsandbytes", "experts_int8", "quark", "moe_wna16", "torchao",
            "inc", "mxfp4", "gpt_oss_mxfp4",
        }),
        quantization_hint="pick one of the listed methods, or leave quantization unset to use the checkpoint's own",
        pipeline_parallel=True,
    ),
}

CPU_AMI_TYPE = "AL2023_x86_64_STANDARD"
