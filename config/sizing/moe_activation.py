"""The forward pass's share of vLLM's profile-run peak, per token and per rank: the dense MLP, or a
mixture-of-experts layer on vLLM 0.26.0's Triton fused_moe path. Derived from the tensors vLLM's source
allocates (cited per term), not fitted: no MoE model has been measured here (shared/MEASUREMENTS.md has
dense rows only).

The MoE layer (vllm/model_executor/models/qwen3_moe.py `Qwen3MoeSparseMoeBlock.forward`, mixtral.py
`MixtralMoE.forward` @ 0.26.0) computes router logits with its `gate` (a ReplicatedLinear in the model
dtype: tokens x experts), picks top_k experts per token (`topk_weights` float32, `topk_ids` int32), and
runs the experts through the modular kernel (model_executor/layers/fused_moe/modular_kernel.py
`FusedMoEKernel._fused_experts` -> `_allocate_buffers`). With every token on every rank (tensor parallel
shards each expert's width, no expert parallelism by default):
- `_allocate_buffers` asks the experts for `workspace_shapes(M, N, K, top_k, ...)` with M the batch's
  tokens, N = w13's rows = 2 x moe_intermediate / TP (gate and up), K = hidden, and takes ONE
  allocation from the worker's WorkspaceManager (v1/worker/workspace.py `get_simultaneous`): a common
  buffer of max(workspace13, output) elements and workspace2, in the activation dtype
  (`workspace_dtype` = act dtype). For `TritonExperts` (experts/triton_moe.py `workspace_shapes`):
  workspace13 = (M, top_k, max(N / 2, K)) for a gated activation (`adjust_N_for_activation`),
  workspace2 = (M, top_k, max(N, K)), output = (M, K), so per token
  2 B x top_k x (max(I/TP, hidden) + max(2 I/TP, hidden)). M is the whole batch: 0.26.0 does not chunk
  (`_fused_experts` passes M_full as M_chunk; there is no VLLM_FUSED_MOE_CHUNK_SIZE in its envs.py).
  The workspace outlives the layer (the manager keeps its largest buffer), so it is in the torch peak.
- `TritonExperts.apply` aligns tokens to experts (`_prepare_expert_assignment`: sorted_token_ids,
  int32, M x top_k plus padding per expert) and, for FP8 weights, quantizes its input (prepare step:
  M x hidden, 1 byte) and the SiLU output before the down projection (`moe_kernel_quantize_input` or
  `silu_and_mul_per_block_quant`: M x top_k x I/TP, 1 byte).
- The layer's result is written to an output of M x hidden in the model dtype (the workspace is reused by
  the next layer), next to the residual stream and the normalised input (2 x hidden), as in the dense
  formula; a shared expert (qwen2_moe.py `Qwen2MoeSparseMoeBlock`) adds a dense SwiGLU of its width.

Which kernel vLLM 0.26.0 runs: unquantized experts try FlashInfer TRT-LLM, FlashInfer CUTLASS, then
Triton on CUDA, with both FlashInfer kernels moved behind Triton on Hopper (oracle/unquantized.py
`_get_priority_backends`); TRT-LLM bf16 runs only on Blackwell (experts/trtllm_bf16_moe.py
`_supports_current_device`: capability family 100) and FlashInfer CUTLASS only from 9.0
(flashinfer_cutlass_moe.py). So bf16 experts run Triton below compute capability 10. FP8 experts walk a
longer list (oracle/fp8.py: FlashInfer, DeepGEMM, vLLM CUTLASS before Triton; Triton first on Hopper for
block-FP8 at TP), whose workspaces differ: for them and for every Blackwell GPU the figure is an estimate.
"""

from __future__ import annotations

from ..architecture import Architecture

ACTIVATION_BYTES = 2
"""Activations run in the model dtype: 16-bit for every checkpoint here (FP8 checkpoints compute in
bf16 and quantize the inputs of their linear layers on the fly)."""
FP32_BYTES = 4
INT32_BYTES = 4


def dense_mlp_bytes_per_token(arch: Architecture, tp: int, quantized_activations: bool) -> int:
    """The dense MLP at its peak: the residual stream and the normalised input (2 x hidden), the merged
    gate/up projection (2 x intermediate / TP) and the SiLU-and-multiply output (intermediate / TP), at 16
    bits; an FP8 checkpoint also holds its inputs to gate/up and down quantized to 1 byte."""
    hidden, intermediate = arch.hidden_size, arch.intermediate_size // tp
    per_token = ACTIVATION_BYTES * (2 * hidden + 3 * intermediate)
    if quantized_activations:
        per_token += hidden + intermediate
    return per_token


def triton_moe_workspace_bytes_per_token(hidden: int, moe_intermediate: int, top_k: int, tp: int) -> int:
    """`TritonExperts.workspace_shapes` for a gated activation, both buffers of one `get_simultaneous`
    allocation in the activation dtype: top_k x (max(I/TP, hidden) + max(2 I/TP, hidden)) elements."""
    width = moe_intermediate // tp
    return ACTIVATION_BYTES * top_k * (max(width, hidden) + max(2 * width, hidden))


def moe_layer_bytes_per_token(arch: Architecture, tp: int, quantized_activations: bool) -> int:
    """One MoE layer at its peak on the Triton path, per token and rank (see the module docstring)."""
    hidden, top_k = arch.hidden_size, arch.num_experts_per_tok
    width = arch.moe_intermediate_size // tp
    per_token = ACTIVATION_BYTES * 2 * hidden  # residual stream and normalised input
    per_token += ACTIVATION_BYTES * arch.num_experts  # router logits
    per_token += top_k * (FP32_BYTES + INT32_BYTES)  # topk_weights, topk_ids
    per_token += top_k * INT32_BYTES  # sorted_token_ids
    per_token += triton_moe_workspace_bytes_per_token(hidden, arch.moe_intermediate_size, top_k, tp)
    per_token += ACTIVATION_BYTES * hidden  # the layer's output
    if quantized_activations:
        per_token += hidden + top_k * width  # FP8 inputs of the two expert GEMMs
    shared = arch.shared_expert_intermediate_size // tp
    if shared:
        per_token += ACTIVATION_BYTES * 3 * shared + (shared if quantized_activations else 0)
    return per_token


def forward_bytes_per_token(arch: Architecture, tp: int, quantized_activations: bool) -> int:
    """The largest layer's live tensors per token: the MoE layer for an MoE model (every layer of the
    catalog's MoE models is one: Qwen3-MoE's mlp_only_layers is empty, decoder_sparse_step 1), else the
    dense MLP."""
    if arch.is_moe:
        return moe_layer_bytes_per_token(arch, tp, quantized_activations)
    return dense_mlp_bytes_per_token(arch, tp, quantized_activations)


def moe_kernel_path(arch: Architecture, capability: tuple[int, int] | None, quantized: bool) -> str:
    """Which fused_moe path the activation figure assumes, and whether vLLM 0.26.0 takes it here."""
    if not arch.is_moe:
        return ""
    triton = not quantized and capability is not None and capability < (10, 0)
    if triton:
        return ("Triton fused_moe (vLLM 0.26.0's choice for bf16 experts below compute capability 10, "
                "fused_moe/oracle/unquantized.py)")
    return ("Triton fused_moe assumed: an estimate here, vLLM may pick FlashInfer, DeepGEMM or CUTLASS "
            "(fused_moe/oracle/" + ("fp8.py" if quantized else "unquantized.py") + "), whose workspaces differ")
