"""How attention heads shard across tensor-parallel ranks, per backend, and which degrees are valid.

- vLLM on GPUs (vllm/model_executor/layers/linear.py, QKVParallelLinear): with tensor-parallel
  size >= KV heads each rank keeps one KV head (tp / kv replicas each); otherwise kv / tp heads
  per rank, so total KV heads allocated = max(kv_heads, tp). vLLM refuses a degree that does not
  divide the attention heads, or that neither divides nor is a multiple of the KV heads
  (vllm/config: `verify_with_parallel_config`).
- NxD Inference on Neuron (neuronx_distributed_inference/modules/attention/gqa.py,
  `determine_sharding_strategy` and `get_shardable_head_counts`): query heads are padded up to a
  multiple of the degree; if tp % kv_heads == 0 KV heads are replicated to tp
  (REPLICATE_TO_TP_DEGREE), otherwise the model is converted to MHA and KV heads become the
  padded query-head count (CONVERT_TO_MHA). Any degree runs, at the cost of padding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..model_catalog import Architecture


@dataclass(frozen=True)
class HeadSharding:
    attention_heads: int
    """Query heads after padding to the degree."""
    kv_heads: int
    """KV heads allocated across all ranks (replicas included)."""
    strategy: str
    """'even', 'replicated', and on a backend that pads: 'padded' or 'convert-to-mha'."""

    @property
    def padded(self) -> bool:
        return self.strategy in ("padded", "convert-to-mha")


@dataclass(frozen=True)
class ShardingRule:
    """One backend's head sharding, as data in its AcceleratorTraits."""

    shard: Callable[[Architecture, int], HeadSharding]
    clean_degrees: Callable[[int, int, int], list[int]]
    """(attention heads, KV heads, most ranks) -> degrees that shard without padding."""
    pads_uneven_degrees: bool
    """True: an uneven degree still runs, padded (a warning); False: the backend refuses it (an error)."""
    requirement: str
    """What the backend needs of a degree, as an error states it."""


def _vllm_shard(arch: Architecture, tp: int) -> HeadSharding:
    heads, kv = arch.attention_heads, arch.kv_heads
    if tp >= kv:
        return HeadSharding(heads, tp, "replicated" if tp > kv else "even")
    return HeadSharding(heads, kv, "even")


def _vllm_degrees(heads: int, kv_heads: int, limit: int) -> list[int]:
    """Degrees vLLM accepts: dividing the attention heads, and dividing or being a multiple of the KV heads."""
    return [tp for tp in range(1, limit + 1)
            if heads % tp == 0 and (kv_heads % tp == 0 if tp < kv_heads else tp % kv_heads == 0)]


def _nxd_shard(arch: Architecture, tp: int) -> HeadSharding:
    heads, kv = arch.attention_heads, arch.kv_heads
    padded = heads + (0 if heads % tp == 0 else tp - heads % tp)
    if heads == kv:
        return HeadSharding(padded, padded, "even" if padded == heads else "padded")
    if kv < tp or kv % tp:
        if tp % kv == 0:
            return HeadSharding(padded, tp, "replicated")
        return HeadSharding(padded, padded, "convert-to-mha")
    return HeadSharding(padded, kv, "even" if padded == heads else "padded")


def _nxd_degrees(heads: int, kv_heads: int, limit: int) -> list[int]:
    """Degrees NxD Inference shards without padding query heads or converting to MHA."""
    return [tp for tp in range(1, limit + 1) if heads % tp == 0 and (kv_heads % tp == 0 or tp % kv_heads == 0)]


VLLM_SHARDING = ShardingRule(
    shard=_vllm_shard, clean_degrees=_vllm_degrees, pads_uneven_degrees=False,
    requirement="vLLM needs it to divide the attention heads and to divide, or be a multiple of, the KV heads",
)
NXD_SHARDING = ShardingRule(
    shard=_nxd_shard, clean_degrees=_nxd_degrees, pads_uneven_degrees=True,
    requirement="NxD Inference pads the query heads to a multiple of it",
)


def candidate_degrees(rule: ShardingRule, heads: int, kv_heads: int, limit: int) -> list[int]:
    """Degrees worth suggesting up to `limit`: the clean ones, or any when the backend pads and none is clean."""
    clean = rule.clean_degrees(heads, kv_heads, limit)
    if clean or not rule.pads_uneven_degrees:
        return clean
    return list(range(1, limit + 1))
