"""vLLM's defaults that sizing assumes when a field is unset.

`--max-num-seqs` depends on the hardware: `EngineArgs._set_default_args` in
vllm/engine/arg_utils.py (vllm-project/vllm, read at commit 99d7eb5d) picks, for `vllm serve`
(usage context OPENAI_API_SERVER), 1024 when the device reports >= 70 GiB (config/device_memory.py) and its name does not
contain "a100" (H100, H200; A100 is excluded after PR #17885), else 256. A platform that reports
no device memory (Neuron) takes the 256 branch; the vllm-neuron plugin's own 32 applies only to a
value still unset after that. The image's vLLM version decides; these are the figures assumed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from config.units import GIB

if TYPE_CHECKING:
    from config.accelerators import AcceleratorTraits
    from config.instance_catalog import InstanceSpec

GPU_MEMORY_UTILIZATION = 0.9
"""vLLM's `--gpu-memory-utilization` default (the guide: "Default 0.9")."""

MAX_NUM_SEQS = 256
LARGE_DEVICE_MAX_NUM_SEQS = 1024
LARGE_DEVICE_BYTES = 70 * GIB


def default_max_num_seqs(traits: "AcceleratorTraits", spec: "InstanceSpec") -> tuple[int, str]:
    """vLLM's `--max-num-seqs` when unset on this hardware, and the rule that gave it."""
    if not traits.reports_device_memory:
        return MAX_NUM_SEQS, f"vLLM's default where the device reports no memory ({traits.backend_name})"
    if spec.reported_memory_per_schedulable_unit_bytes >= LARGE_DEVICE_BYTES and "a100" not in spec.accelerator_model.lower():
        return LARGE_DEVICE_MAX_NUM_SEQS, f"vLLM's default on GPUs with >= 70 GiB other than A100 ({spec.accelerator_model})"
    return MAX_NUM_SEQS, f"vLLM's default below 70 GiB per GPU and on A100 ({spec.accelerator_model})"
