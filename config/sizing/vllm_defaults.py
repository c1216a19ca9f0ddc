"""vLLM's defaults that sizing assumes when a field is unset.

`--max-num-seqs` and `--max-num-batched-tokens` depend on the hardware: `EngineArgs.get_batch_defaults`
in vllm/engine/arg_utils.py (vllm-project/vllm, read at commit 99d7eb5d and on main) picks, for
`vllm serve` (usage context OPENAI_API_SERVER), 1024 sequences and 8192 tokens when the device reports
>= 70 GiB (config/device_memory.py) and its name does not contain "a100" (H100, H200; A100 is
excluded after PR #17885), else 256 and 2048. `_set_default_max_num_seqs_and_batched_tokens_args`
then caps an unset token budget at max_num_seqs x max_model_len and an unset max_num_seqs at the
token budget. A platform that reports no device memory (Neuron) takes the small branch; the
vllm-neuron plugin's own 32 applies only to a value still unset after that. The image's vLLM version
decides; these are the figures assumed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..units import GIB

if TYPE_CHECKING:
    from ..accelerators import AcceleratorTraits
    from ..instance_catalog import InstanceSpec

GPU_MEMORY_UTILIZATION = 0.9
"""vLLM's `--gpu-memory-utilization` default (the guide: "Default 0.9")."""

MAX_NUM_SEQS = 256
LARGE_DEVICE_MAX_NUM_SEQS = 1024
MAX_NUM_BATCHED_TOKENS = 2048
LARGE_DEVICE_MAX_NUM_BATCHED_TOKENS = 8192
LARGE_DEVICE_BYTES = 70 * GIB


def _large_device(total_bytes: int, accelerator_model: str) -> bool:
    """`device_memory >= 70 * GiB_bytes and "a100" not in device_name` (get_batch_defaults)."""
    return total_bytes >= LARGE_DEVICE_BYTES and "a100" not in accelerator_model.lower()


def default_max_num_seqs(traits: AcceleratorTraits, spec: InstanceSpec) -> tuple[int, str]:
    """vLLM's `--max-num-seqs` when unset on this hardware (before the cap at the token budget), and the rule."""
    if not traits.reports_device_memory:
        return MAX_NUM_SEQS, f"vLLM's default where the device reports no memory ({traits.backend_name})"
    if _large_device(spec.reported_memory_per_schedulable_unit_bytes, spec.accelerator_model):
        return LARGE_DEVICE_MAX_NUM_SEQS, f"vLLM's default on GPUs with >= 70 GiB other than A100 ({spec.accelerator_model})"
    return MAX_NUM_SEQS, f"vLLM's default below 70 GiB per GPU and on A100 ({spec.accelerator_model})"


def default_max_num_batched_tokens(total_bytes: int, accelerator_model: str) -> tuple[int, str]:
    """vLLM's `--max-num-batched-tokens` when unset on this hardware (before the cap at
    max_num_seqs x max_model_len), and the rule. shared/MEASUREMENTS.md confirms 8192 on the H200."""
    if _large_device(total_bytes, accelerator_model):
        return LARGE_DEVICE_MAX_NUM_BATCHED_TOKENS, f"vLLM's default on GPUs reporting >= 70 GiB other than A100 ({accelerator_model})"
    return MAX_NUM_BATCHED_TOKENS, f"vLLM's default below 70 GiB and on A100 ({accelerator_model})"


def scheduler_defaults(max_num_seqs: int | None, max_num_batched_tokens: int | None, max_model_len: int,
                       default_seqs: int, default_tokens: int) -> tuple[int, int]:
    """(max_num_seqs, max_num_batched_tokens) as `_set_default_max_num_seqs_and_batched_tokens_args`
    settles them: an unset token budget is at most max_num_seqs x max_model_len, then an unset
    max_num_seqs is at most the token budget."""
    seqs = max_num_seqs or default_seqs
    tokens = max_num_batched_tokens or min(default_tokens, seqs * max_model_len)
    if max_num_seqs is None:
        seqs = min(seqs, tokens)
    return seqs, tokens
