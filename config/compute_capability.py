"""CUDA compute capability per GPU model (`accelerator_model` in config/instance_catalog.py).

vLLM picks kernels and, in some versions, its engine by it (vllm/platforms/cuda.py
`is_kv_cache_dtype_supported`, vllm/attention/utils/fa_utils.py `flash_attn_supports_fp8` in 0.10.2).
Source: NVIDIA, "CUDA GPU Compute Capability" (developer.nvidia.com/cuda-gpus): 9.0 H200, H100;
8.9 L4, L40S; 8.6 A10 (the A10G in g5 instances is its AWS variant, same GA102 chip); 8.0 A100.
"""

from __future__ import annotations

COMPUTE_CAPABILITY: dict[str, tuple[int, int]] = {
    "H200": (9, 0),
    "H100": (9, 0),
    "A100-80GB": (8, 0),
    "A100": (8, 0),
    "L40S": (8, 9),
    "L4": (8, 9),
    "A10G": (8, 6),
}


def compute_capability(accelerator_model: str) -> tuple[int, int] | None:
    """(major, minor), or None for a device CUDA does not drive (Inferentia2, Trainium) or one not listed."""
    return COMPUTE_CAPABILITY.get(accelerator_model)
