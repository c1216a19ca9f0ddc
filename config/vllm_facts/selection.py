"""The engine (V0/V1) and model runner (V1/V2) a vLLM version picks for a model on a GPU, as that
version's source decides it; the data each rule reads is in the generated table (data/<version>.json,
`rules`), the decision logic is cited beside each branch.

- Engine: versions whose source has `EngineArgs._is_v1_supported_oracle` (0.8 to 0.10) run V1 unless a
  feature listed there is set; then `_raise_or_fallback` logs "<feature> is not supported by the V1
  Engine. Falling back to V0" (or raises with VLLM_USE_V1=1). The one such feature the stack can set
  is `--kv-cache-dtype`: an fp8 cache is V1-capable per `is_kv_cache_dtype_supported`
  (vllm/platforms/cuda.py @ 0.10.2) only on Blackwell (10.x), with FlashAttention only where
  `flash_attn_supports_fp8` (FA3 on compute capability 9), with FLASHINFER always, with
  TRITON_ATTN_VLLM_V1 from 8.9. A draft-model speculative config is refused outright there
  (NotImplementedError, "Speculative decoding with draft model is not supported yet").
  Versions before the oracle (0.7.2) run V0 unless VLLM_USE_V1=1 (vllm/envs.py default "0");
  versions after it (0.11+) have no V0.
- Runner: versions with `DEFAULT_V2_MODEL_RUNNER_ARCHITECTURES` (vllm/config/vllm.py
  `VllmConfig.use_v2_model_runner`) run Model Runner V2 for dense generative models unless
  VLLM_USE_V2_MODEL_RUNNER=0 or `_get_v2_model_runner_unsupported_features` lists something: a
  speculative method in its refused set (ngram, ngram_gpu) or outside its supported set (a draft
  model). Earlier versions have only the V1 runner.
- CUDA graphs come out of the KV budget where `Worker.determine_available_memory` subtracts
  `cudagraph_memory_estimate_applied` (0.21+) and the runner is V1 (V2's `profile_cudagraph_memory`
  returns 0, vllm/v1/worker/gpu/model_runner.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import VllmFacts

if TYPE_CHECKING:
    from ..architecture import Architecture
    from ..model import ModelConfig

FLASH_ATTN = "FLASH_ATTN_VLLM_V1"
"""0.10.2's default attention backend for non-MLA models (`is_kv_cache_dtype_supported`)."""


@dataclass(frozen=True)
class EngineChoice:
    """What vLLM runs a model with, and why."""

    version: str
    engine: str
    """"V1" or "V0"."""
    runner: str
    """"V2" (Model Runner V2), "V1" (GPUModelRunner), or "-" on V0."""
    graphs_in_budget: bool
    """vLLM subtracts its CUDA-graph estimate from the KV cache."""
    reasons: tuple[str, ...] = ()
    """vLLM's own words for each switch it makes."""
    refusal: str | None = None
    """Why this version refuses to start with these settings (None: it starts)."""
    refusal_key: str = "speculativeConfig"
    """The model key the refusal is reported at."""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def label(self) -> str:
        return f"engine {self.engine}" + ("" if self.runner == "-" else f", runner {self.runner}")


def _rules(facts: VllmFacts) -> dict[str, Any]:
    rules: dict[str, Any] = facts.raw.get("rules", {})
    return rules


def speculative_method(model: ModelConfig) -> str | None:
    """The method vLLM runs: the one named; else, for a draft model, the one vLLM infers from its name
    (`SpeculativeConfig.__post_init__`, vllm/config/__init__.py @ 0.10.2, vllm/config/speculative.py later:
    "eagle-" in the name -> eagle, "eagle3" -> eagle3), else `draft_model` (vLLM also recognises medusa,
    mlp_speculator and MTP drafts by their config.json's model_type, which the planner does not read: name
    the method for those); None without speculative decoding."""
    spec = model.speculative_config
    if spec is None:
        return None
    if spec.method:
        return spec.method
    if not spec.model:
        return None
    name = spec.model.lower()
    if "eagle-" in name:
        return "eagle"
    if "eagle3" in name:
        return "eagle3"
    return "draft_model"


def fp8_kv_cache_runs_on_v1(facts: VllmFacts, capability: tuple[int, int] | None, backend: str | None) -> bool | None:
    """`is_kv_cache_dtype_supported` for an fp8 KV cache on a non-MLA model; None when the capability is unknown.

    A version whose table has no `is_kv_cache_dtype_supported` (0.9.1) decides in the oracle itself: V1 only
    when FlashAttention will run (no VLLM_ATTENTION_BACKEND, or FLASH_ATTN_VLLM_V1) and
    `flash_attn_supports_fp8()` (FA3, capability major 9): vllm/engine/arg_utils.py @ 0.9.1 ("No Fp8 KV cache
    so far", `will_use_fa`), so no other backend keeps it on V1 there."""
    if capability is None:
        return None
    if not _rules(facts).get("fp8_kv_cache_v1", {}).get("source"):
        return backend in (None, FLASH_ATTN) and capability[0] == 9
    backend = backend or FLASH_ATTN
    if capability == (10, 0):  # `is_device_capability(100)`, an exact match: "All Blackwell backends support fp8"
        return True
    if backend == FLASH_ATTN:  # flash_attn_supports_fp8: FA3 and capability major 9
        return capability[0] == 9
    if backend == "FLASHINFER":
        return True
    if backend == "TRITON_ATTN_VLLM_V1":  # supports_fp8: has_device_capability(89)
        return capability >= (8, 9)
    return False


def choose(model: ModelConfig, facts: VllmFacts, capability: tuple[int, int] | None,
           architecture: Architecture | None = None) -> EngineChoice:
    """Engine and runner for a model on a GPU of this compute capability, as `facts.version` decides
    (`architecture`, when known, says whether the model is MoE and its config.json class)."""
    rules = _rules(facts)
    env = model.env
    reasons: list[str] = []
    notes: list[str] = []
    refusal: str | None = None
    refusal_key = "speculativeConfig"
    method = speculative_method(model)
    oracle = rules.get("v0_fallback", {})
    env_defaults = rules.get("env_defaults", {})
    if oracle.get("source"):
        engine = "V0" if env.get("VLLM_USE_V1") == "0" else "V1"
        if engine == "V0":
            reasons.append("VLLM_USE_V1=0 selects the V0 engine")
        if method == "draft_model" and "draft_model" in oracle.get("v1_refuses_speculative_methods", []):
            named = bool(model.speculative_config and model.speculative_config.method)
            refusal = (f"vLLM {facts.version} does not run a draft-model speculativeConfig: " + (
                "NotImplementedError 'Speculative decoding with draft model is not supported yet' "
                "(vllm/engine/arg_utils.py _is_v1_supported_oracle)" if named else
                "without a method it infers draft_model from the draft's name and config and raises NotImplementedError "
                "'Speculative decoding with draft model is not supported yet' (SpeculativeConfig.__post_init__, "
                "vllm/config/__init__.py)")
                + "; use method ngram, eagle, eagle3, medusa or deepseek_mtp (name the method when the draft is one), "
                  "or a newer image")
        kv = model.kv_cache_dtype or "auto"
        if engine == "V1" and kv.startswith("fp8") and "--kv-cache-dtype" in oracle.get("features", []):
            backend = env.get("VLLM_ATTENTION_BACKEND")
            runs = fp8_kv_cache_runs_on_v1(facts, capability, backend)
            if runs is False and env.get("VLLM_USE_V1", "0") not in ("", "0"):
                # `_raise_or_fallback` raises instead of falling back when VLLM_USE_V1 is set to true
                # (vllm/engine/arg_utils.py @ 0.10.2): "VLLM_USE_V1=1 is not supported with --kv-cache-dtype."
                refusal_key = "kvCacheDtype"
                refusal = (f"vLLM {facts.version} refuses to start: NotImplementedError 'VLLM_USE_V1=1 is not supported "
                           f"with --kv-cache-dtype.' (vllm/engine/arg_utils.py _raise_or_fallback: an fp8 KV cache with "
                           f"{backend or FLASH_ATTN} is not V1-capable on this GPU); drop VLLM_USE_V1 or kvCacheDtype")
            elif runs is False:
                engine = "V0"
                reasons.append(
                    f"--kv-cache-dtype is not supported by the V1 Engine. Falling back to V0 (fp8 KV cache with "
                    f"{backend or FLASH_ATTN} on compute capability {capability[0]}.{capability[1]}: "
                    f"vllm/platforms/cuda.py is_kv_cache_dtype_supported)" if capability else "")
            elif runs is None:
                notes.append("fp8 KV cache: the GPU's compute capability is unknown, so whether V1 runs it is not checked")
    elif env_defaults.get("VLLM_USE_V1") == "0":
        engine = "V1" if env.get("VLLM_USE_V1") == "1" else "V0"
        if engine == "V0":
            reasons.append(f"vLLM {facts.version} runs the V0 engine unless VLLM_USE_V1=1 (vllm/envs.py)")
    else:
        engine = "V1"
    runner = "-" if engine == "V0" else "V1"
    v2 = rules.get("model_runner_v2", {})
    if engine == "V1" and v2.get("default_architectures") is not None:
        runner = "V2"
        methods = v2.get("speculative_methods") or {}
        if env.get("VLLM_USE_V2_MODEL_RUNNER") == "0":
            runner = "V1"
            reasons.append("VLLM_USE_V2_MODEL_RUNNER=0 selects the V1 model runner")
        elif env.get("VLLM_USE_V2_MODEL_RUNNER") == "1":
            pass
        elif (architecture is not None and architecture.is_moe
              and architecture.hf_architecture not in v2.get("default_architectures", [])):
            # VllmConfig._is_default_v2_model_runner_model: an MoE model (is_moe: num_experts > 0) runs V2
            # only when its architectures name one in DEFAULT_V2_MODEL_RUNNER_ARCHITECTURES; no log line.
            runner = "V1"
            reasons.append(f"mixture-of-experts {architecture.hf_architecture or 'architecture'} is not in "
                           f"DEFAULT_V2_MODEL_RUNNER_ARCHITECTURES: the V1 model runner (vllm/config/vllm.py)")
        elif method is not None and (method in methods.get("refused", []) or method not in methods.get("supported", [method])):
            runner = "V1"
            what = "ngram/ngram_gpu speculative decoding" if method in methods.get("refused", []) else f"speculative method '{method}'"
            reasons.append(f"Model Runner V2 does not yet support {what}; using the V1 model runner instead")
    estimates = any("cudagraph_memory_estimate" in line for line in rules.get("kv_budget", {}).get("statements", []))
    graphs_in_budget = engine == "V1" and runner == "V1" and estimates and env.get(
        "VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS", env_defaults.get("VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS")) != "0"
    return EngineChoice(version=facts.version, engine=engine, runner=runner, graphs_in_budget=graphs_in_budget,
                        reasons=tuple(reason for reason in reasons if reason), refusal=refusal,
                        refusal_key=refusal_key, notes=tuple(notes))


def capture_rule(facts: VllmFacts) -> str:
    """Which default CUDA-graph capture list the version builds (vllm/config `_set_cudagraph_sizes`):
    "step8" for `[1, 2, 4] + range(8, min(2 x max_num_seqs, 512) + 1, 8)` (0.10.2, SchedulerConfig
    cuda_graph_sizes default), "step8_16" for steps of 8 below 256 and of 16 from 256 up to
    min(max_num_seqs x decode_query_len x 2, 512) (later versions)."""
    statements = _rules(facts).get("cudagraph_capture_sizes", {}).get("statements", [])
    return "step8_16" if any("range(256" in line for line in statements) else "step8"


def cudagraph_capture_sizes(max_num_seqs: int, max_num_batched_tokens: int | None = None,
                            num_speculative_tokens: int = 0, rule: str = "step8_16") -> int:
    """How many batch sizes vLLM captures CUDA graphs for by default, never above max_num_batched_tokens.
    (With speculative decoding vLLM also rounds each size up to a multiple of decode_query_len and drops
    repeats; that dedup is not modelled, so the count errs high.)"""
    if rule == "step8":
        largest = min(2 * max_num_seqs, 512)
        if max_num_batched_tokens is not None:
            largest = min(largest, max_num_batched_tokens)
        return len([size for size in (1, 2, 4) if size <= largest]) + len(range(8, largest + 1, 8))
    largest = min(2 * max_num_seqs * (1 + num_speculative_tokens), 512)
    if max_num_batched_tokens is not None:
        largest = min(largest, max_num_batched_tokens)
    sizes = [size for size in (1, 2, 4) if size <= largest]
    sizes += [size for size in range(8, 256, 8) if size <= largest]
    sizes += list(range(256, largest + 1, 16))
    return len(sizes)
