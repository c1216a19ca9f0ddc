"""vLLM's own accounting of GPU memory, by vLLM version: what it takes before the KV cache, and the
KV cache it is left with. Pure arithmetic from the model's shapes; no checks (placement turns these
figures into verdicts).

What vLLM does at start (vllm/v1/worker/gpu_worker.py, `Worker.init_device` and
`determine_available_memory`, read at v0.10.2 and on main):
1. `init_device` creates the CUDA context (and, for TP > 1, the NCCL communicators), then takes a
   memory snapshot; `requested_memory = total x gpu_memory_utilization`, where `total` is what CUDA
   reports (config/device_memory.py). Memory in use before that snapshot (this process's CUDA
   context) is not charged to the budget: it sits in the `1 - gpu_memory_utilization` share.
2. The weights load; `memory_profiling` (vllm/utils/mem_utils.py) then wraps `profile_run()`
   (vllm/v1/worker/gpu_model_runner.py): `_dummy_run(max_num_tokens)` runs the whole model on a
   dummy batch of `max_num_batched_tokens` tokens split over `min(max_num_seqs, tokens)` requests,
   and `_dummy_sampler_run` computes the logits of each request's last token over the whole
   vocabulary and samples them (the sampler casts the logits to float32). The torch peak of that
   window is "peak activation"; memory allocated outside torch's allocator since the snapshot
   (cuBLAS/cuBLASLt handles, kernel images loaded on first use, NCCL buffers) is "non-torch".
3. KV = requested - weights - peak activation - non-torch, minus, in the versions that subtract it,
   vLLM's estimate of the CUDA-graph pool (`cudagraph_memory_estimate_applied`). The KV cache is cut
   into blocks of `block_size` tokens (16 on CUDA, vllm/config/cache.py) for every layer; vLLM logs
   "GPU KV cache size: N tokens" = whole blocks x block size, and "Maximum concurrency for L tokens
   per request: N / L x".
4. CUDA graphs are captured after the KV cache is allocated. Where the version does not subtract
   them, they come on top of the requested share, next to the CUDA context: both must fit in
   `total x (1 - gpu_memory_utilization)` or the capture runs out of memory.

Peak activation and non-torch memory are derived below from the model's shapes and the library
defaults, not fitted to any measurement; tests/config/test_vllm_agreement.py checks the outcome
against vLLM 0.26.0's own log on an H200 (shared/MEASUREMENTS.md).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..model_catalog import Architecture
from ..units import GIB, MIB
from ..vllm_facts.selection import EngineChoice, cudagraph_capture_sizes
from .moe_activation import ACTIVATION_BYTES, FP32_BYTES, forward_bytes_per_token

# --------------------------------------------------------------------------------------------
# Versions


@dataclass(frozen=True, order=True)
class VllmVersion:
    major: int
    minor: int
    patch: int = 0

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


NEWEST_KNOWN = VllmVersion(0, 26, 0)
"""The newest version whose accounting was measured (shared/MEASUREMENTS.md); an image tag that
names no version (`latest`, a digest, a custom name) is sized as this one, and the table says so."""

_TAG_VERSION = re.compile(r"(?:^|[-_])v?(?P<major>0)\.(?P<minor>\d+)(?:\.(?P<patch>\d+))?")
"""A vLLM version in a tag: at its start or after '-'/'_' (`v0.10.2`, `0.26.0-cu130`, `nightly-0.27.0`),
with major 0 as every vLLM release so far (pypi.org/project/vllm). A model name glued to digits
(`qwen2.5-7b`, `llama-3.1-8b`) is not read as a vLLM version."""


@dataclass(frozen=True)
class ImageVersion:
    version: VllmVersion
    assumed: bool
    """True when the image tag names no version and NEWEST_KNOWN was assumed."""
    tag: str

    def describe(self) -> str:
        if self.assumed:
            shown = f"tag {self.tag!r}" if self.tag else "no tag"
            return f"{self.version} assumed ({shown} names no vLLM version; the newest measured is assumed)"
        return f"{self.version} (image tag {self.tag!r})"


def image_vllm_version(image: str) -> ImageVersion:
    """The vLLM version an image tag names (`vllm/vllm-openai:v0.10.2` -> 0.10.2), else NEWEST_KNOWN."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else ""
    found = _TAG_VERSION.search(tag)
    if not found:
        return ImageVersion(NEWEST_KNOWN, True, tag)
    return ImageVersion(VllmVersion(int(found["major"]), int(found["minor"]), int(found["patch"] or 0)), False, tag)


SPECULATIVE_CONFIG_SINCE = VllmVersion(0, 8, 0)
"""The first vLLM that takes `--speculative-config=<json>` (vllm-project/vllm PR #14434 deprecated the
separate `--speculative-model`/`--num-speculative-tokens` flags, PR #15466 removed them); older images
take only the separate flags."""


@dataclass(frozen=True)
class Accounting:
    """How one range of vLLM versions sizes the KV cache."""

    since: VllmVersion
    graphs_in_budget: bool
    """True: vLLM subtracts its CUDA-graph estimate from the KV cache; False: graphs come on top."""
    source: str


ACCOUNTING: list[Accounting] = [
    Accounting(VllmVersion(0, 0, 0), False,
               "vllm/v1/worker/gpu_worker.py determine_available_memory (v0.10.2): available_kv_cache_memory_bytes = "
               "requested_memory - profile_result.non_kv_cache_memory; capture_model runs after the KV cache exists"),
    Accounting(VllmVersion(0, 21, 0), True,
               "vllm/v1/worker/gpu_worker.py determine_available_memory: available_kv_cache_memory_bytes = requested_memory "
               "- non_kv_cache_memory - cudagraph_memory_estimate_applied, with VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS on "
               "('CUDA graph memory profiling is enabled (default since v0.21.0)', its own log line)"),
    Accounting(VllmVersion(0, 25, 1), False,
               "from 0.25.1 dense models run on Model Runner V2, whose profile_cudagraph_memory() returns 0, so nothing "
               "is subtracted although VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS stays on (vllm-project/vllm#49224; "
               "vllm/v1/worker/gpu/model_runner.py); measured in 0.26.0 on an H200 (shared/MEASUREMENTS.md): KV 98.93 GiB "
               "= 139.8 x 0.95 - 32.07 - 1.59 - 0.22, CUDA graphs (1.79 GiB) on top. MoE models not in "
               "DEFAULT_V2_MODEL_RUNNER_ARCHITECTURES (Qwen3-MoE, Mixtral) stay on the V1 runner, which subtracts "
               "(config/vllm_facts/selection.py)"),
]


def accounting(version: VllmVersion) -> Accounting:
    return [rule for rule in ACCOUNTING if rule.since <= version][-1]


# --------------------------------------------------------------------------------------------
# Scheduler defaults

BLOCK_SIZE = 16
"""`--block-size` default on CUDA (vllm/config/cache.py)."""

# --------------------------------------------------------------------------------------------
# What vLLM takes before the KV cache


NON_TORCH_BYTES = 256 * MIB
"""Non-torch memory of one GPU process after vLLM's snapshot: cuBLAS/cuBLASLt workspaces, kernel
images loaded on first use. It depends on the libraries, not on the model's shapes, so it is a
constant: the largest single-GPU figure in public vLLM logs (0.03 GiB on a 48 GB card, 0.07 GiB on an
H100 with 0.11, 0.22 GiB on the H200 with 0.26.0 in shared/MEASUREMENTS.md), rounded up."""

NCCL_BUFFSIZE = 4 * MIB
"""NCCL_BUFFSIZE default (NCCL environment-variable docs): the buffer per channel and peer for the
Simple protocol; LL128 allocates about as much again."""
NCCL_CHANNELS = {True: 32, False: 2}
"""Channels NCCL opens between GPUs: up to 32 over NVLink/NVSwitch, 2 over PCIe (NCCL_MAX_NCHANNELS
default 32; PCIe rings rarely use more than 2)."""
CUSTOM_ALL_REDUCE_BYTES = 2 * 8 * MIB
"""vLLM's custom all-reduce on NVLink (vllm/distributed/device_communicators/custom_all_reduce.py,
max_size 8 MiB): an IPC buffer and its metadata per rank; disabled over PCIe with more than 2 GPUs."""

CUDA_CONTEXT_BYTES = round(0.51 * GIB)
"""This process's CUDA context, held before vLLM's snapshot and so outside its budget: 139.8 - 139.29
GiB free at start on the H200 (shared/MEASUREMENTS.md)."""

GRAPH_BYTES_PER_PIECE_AND_SIZE = round(0.56 * MIB)
"""CUDA-graph pool per captured batch size and per piecewise graph (the model cut at each attention
layer: layers + 1 pieces). Graph memory is what the CUDA driver allocates per captured graph, which
vLLM's source does not determine; this figure is scaled from vLLM 0.26.0's own log on the H200
(shared/MEASUREMENTS.md: 1.79 GiB for 64 layers, 0.98 GiB for 32 layers, 51 capture sizes), the
one input here read off a measurement. It only matters for the headroom check outside the budget
(0.26.0 does not subtract graphs from the KV cache)."""


@dataclass(frozen=True)
class Activation:
    """The torch peak of vLLM's profile run, per GPU, and the phase that sets it."""

    forward_bytes: int
    sampler_bytes: int
    tokens: int
    requests: int

    @property
    def peak_bytes(self) -> int:
        return max(self.forward_bytes, self.sampler_bytes)

    @property
    def phase(self) -> str:
        if self.forward_bytes >= self.sampler_bytes:
            return f"forward pass over {self.tokens} tokens"
        return f"sampler over {self.requests} requests x the vocabulary in float32"


SPEC_SAMPLER_BYTES = 2 * ACTIVATION_BYTES + ACTIVATION_BYTES + 2 * FP32_BYTES + FP32_BYTES + 8 + FP32_BYTES
"""Bytes per (request x vocabulary entry) at the peak of the V1 runner's speculative profile
(vllm/v1/worker/gpu_model_runner.py `_dummy_sampler_run` @ 0.26.0: one draft token per request, so
`logits = torch.randn(num_tokens + num_reqs, vocab)` holds 2 rows per request in the model dtype; then
vllm/v1/sample/rejection_sampler.py `forward` gathers the target rows (model dtype), casts them to float32
and clones them, and top-k/top-p (`apply_top_k_top_p`) sorts them: float32 values and int64 indices, then a
float32 softmax). Derived from the source's tensor shapes, not fitted; the number of speculative tokens
does not enter the profile run."""


def peak_activation(arch: Architecture, tokens: int, max_num_seqs: int, tensor_parallel_size: int,
                    quantized_activations: bool, speculative_sampler: bool = False) -> Activation:
    """Peak of the profile run on one rank, from the model's shapes.

    Forward pass (the largest layer is the MLP): config/sizing/moe_activation.py, the dense MLP or the
    MoE layer on the Triton fused_moe path. Sampler: with the forward's output (tokens x hidden) still referenced, the
    logits of `requests = min(max_num_seqs, tokens)` last tokens over the whole vocabulary (gathered
    on every rank) in the model dtype, their float32 copy and the float32 probabilities top-k/top-p
    sampling computes.

    This is the V1 runner's profile run (vllm/v1/worker/gpu_model_runner.py). From 0.25.1 dense
    models run on Model Runner V2 (vllm/v1/worker/gpu/model_runner.py), whose profile_run calls
    `_dummy_run(max_num_tokens, skip_attn=True)` and a sampler that "may skip top_k, top_p, and
    logprobs"; it is not derived separately here, and the 0.26.0 agreement test is what bounds it
    (Llama 3.1 8B: 1.29 GiB derived against 1.10 GiB logged).
    """
    hidden, vocab = arch.hidden_size, arch.vocab_size
    per_token = forward_bytes_per_token(arch, tensor_parallel_size, quantized_activations)
    requests = min(max_num_seqs, tokens)
    per_entry = SPEC_SAMPLER_BYTES if speculative_sampler else ACTIVATION_BYTES + 2 * FP32_BYTES
    sampler = (tokens * hidden * ACTIVATION_BYTES + requests * hidden * ACTIVATION_BYTES
               + requests * vocab * per_entry)
    return Activation(tokens * per_token, sampler, tokens, requests)


def non_torch_memory(tensor_parallel_size: int, nvlink: bool) -> int:
    """Non-torch memory of one rank: the library constant, plus for TP > 1 NCCL's buffers (channels x
    2 ring peers x Simple and LL128 buffers) and, over NVLink, vLLM's custom all-reduce buffers.

    A known underestimate on NVSwitch systems: public vLLM logs on H200s show 1.38 GiB of non-torch
    memory at TP 2 and 1.74 GiB at TP 8 against about 0.77 GiB derived here; NCCL's NVLink SHARP (NVLS)
    buffers and the graph-registered all-reduce buffers are not modelled. The KV cache is then about
    1 GiB per GPU smaller than planned, well under 3% of a large GPU's."""
    if tensor_parallel_size <= 1:
        return NON_TORCH_BYTES
    nccl = NCCL_CHANNELS[nvlink] * 2 * 2 * NCCL_BUFFSIZE
    custom = CUSTOM_ALL_REDUCE_BYTES if nvlink or tensor_parallel_size == 2 else 0
    return NON_TORCH_BYTES + nccl + custom


def cuda_graph_memory(arch: Architecture, max_num_seqs: int, max_num_batched_tokens: int | None = None,
                      num_speculative_tokens: int = 0, rule: str = "step8_16") -> int:
    """The CUDA-graph pool of one rank: capture sizes x (layers + 1) piecewise graphs."""
    sizes = cudagraph_capture_sizes(max_num_seqs, max_num_batched_tokens, num_speculative_tokens, rule)
    return sizes * (arch.layers + 1) * GRAPH_BYTES_PER_PIECE_AND_SIZE


# --------------------------------------------------------------------------------------------
# The budget


@dataclass(frozen=True)
class VllmMemory:
    """One rank's memory as vLLM accounts for it, in the order its log line prints it."""

    version: ImageVersion
    accounting: Accounting
    total_bytes: int
    utilization: float
    weights_bytes: float
    activation: Activation
    non_torch_bytes: int
    graph_bytes: int
    kv_bytes_per_token: float
    """Per rank: this rank's share of every layer's K and V for one token."""
    max_num_batched_tokens: int
    max_num_batched_tokens_rule: str
    """Where an unset maxNumBatchedTokens came from; empty when set."""
    context_bytes: int = CUDA_CONTEXT_BYTES
    choice: EngineChoice | None = None
    """Engine and runner as the version's source picks them (config/vllm_facts/selection.py); None where
    the version has no generated table, and `accounting` decides."""

    @property
    def requested_bytes(self) -> float:
        return self.total_bytes * self.utilization

    @property
    def graphs_in_budget(self) -> bool:
        return self.choice.graphs_in_budget if self.choice is not None else self.accounting.graphs_in_budget

    @property
    def kv_cache_bytes(self) -> float:
        kv = self.requested_bytes - self.weights_bytes - self.activation.peak_bytes - self.non_torch_bytes
        if self.graphs_in_budget:
            kv -= self.graph_bytes
        return max(kv, 0.0)

    @property
    def kv_tokens(self) -> int:
        """"GPU KV cache size: N tokens": whole blocks of BLOCK_SIZE tokens."""
        if self.kv_bytes_per_token <= 0:
            return 0
        blocks = int(self.kv_cache_bytes // (BLOCK_SIZE * self.kv_bytes_per_token))
        return blocks * BLOCK_SIZE

    def concurrency(self, max_model_len: int) -> float:
        """"Maximum concurrency for L tokens per request": KV tokens / L."""
        return self.kv_tokens / max_model_len if max_model_len else 0.0

    @property
    def outside_budget_bytes(self) -> int:
        """What must fit in total x (1 - utilization): the CUDA context, and graphs when not in the budget."""
        return self.context_bytes + (0 if self.graphs_in_budget else self.graph_bytes)

    @property
    def headroom_bytes(self) -> float:
        return self.total_bytes - self.requested_bytes

    @property
    def headroom_fits(self) -> bool:
        return self.outside_budget_bytes <= self.headroom_bytes

    def highest_safe_utilization(self) -> float:
        """The largest two-decimal gpu-memory-utilization that leaves the context and graphs their room."""
        return math.floor((self.total_bytes - self.outside_budget_bytes) / self.total_bytes * 100) / 100


def vllm_memory(version: ImageVersion, arch: Architecture, *, total_bytes: int, utilization: float,
                weights_bytes: float, kv_bytes_per_token: float, tensor_parallel_size: int, max_num_seqs: int,
                max_num_batched_tokens: int, max_num_batched_tokens_rule: str, nvlink: bool,
                quantized_activations: bool, devices: int | None = None,
                num_speculative_tokens: int = 0, choice: EngineChoice | None = None,
                capture_rule: str = "step8_16") -> VllmMemory:
    """One rank's accounting. `weights_bytes` and `kv_bytes_per_token` are the replica's totals; they are
    split over `devices` ranks (tensor x pipeline parallel, default the tensor-parallel size).
    `max_num_seqs` and `max_num_batched_tokens` are as vLLM settles them (vllm_defaults.scheduler_defaults)."""
    ranks = devices or tensor_parallel_size
    return VllmMemory(
        version=version, accounting=accounting(version.version), total_bytes=total_bytes, utilization=utilization,
        weights_bytes=weights_bytes / ranks,
        activation=peak_activation(arch, max_num_batched_tokens, max_num_seqs, tensor_parallel_size, quantized_activations,
                                   speculative_sampler=choice is not None and choice.runner == "V1" and num_speculative_tokens > 0),
        non_torch_bytes=non_torch_memory(tensor_parallel_size, nvlink),
        graph_bytes=cuda_graph_memory(arch, max_num_seqs, max_num_batched_tokens, num_speculative_tokens, capture_rule),
        kv_bytes_per_token=kv_bytes_per_token / ranks,
        max_num_batched_tokens=max_num_batched_tokens, max_num_batched_tokens_rule=max_num_batched_tokens_rule,
        choice=choice,
    )
