"""What a vLLM start rebuilds when its caches are empty and skips when a replica before it left them on the
namespace's claim (components/_writable_paths.py persists them): the startup model's cold-only terms.

Each term names the cache that holds its result, the first vLLM version that keeps it there (read in the
published wheels), its estimated duration and the source of that estimate. Estimates, not measurements of
this project's images: tests/config/test_cold_start.py compares them with shared/MEASUREMENTS.md ("start-up
with cold and with persisted caches", vLLM 0.26.0 on an H200) without fitting them to it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ColdTerm:
    name: str
    seconds: int
    """Estimated time a start spends on it with an empty cache, and saves with a filled one."""
    cache: str
    """Where the result is kept, relative to the persisted variables (`$VLLM_CACHE_ROOT/...`)."""
    since: tuple[int, int, int]
    """The first vLLM version known to keep it there (versions before it rebuild it on every start)."""
    source: str


TORCH_COMPILE = ColdTerm(
    "torch.compile", 20, "$VLLM_CACHE_ROOT/torch_compile_cache",
    (0, 10, 2),
    # vllm/compilation/backends.py VllmBackend.__call__ (0.10.2, 0.26.0): the compiled graphs go to
    # $VLLM_CACHE_ROOT/torch_compile_cache/<hash of env, config, traced code, compiler>, with inductor's and Triton's
    # caches under it (compiler_interface.py InductorAdaptor.initialize_cache), and a later start with the same hash
    # loads them instead of running inductor; Dynamo's bytecode transform still runs on every start. Estimate:
    # "torch.compile took 22.56 s in total" on a cold cache (ai-dynamo/dynamo#10695, a vLLM worker's log), less
    # the Dynamo transform that stays.
    "vllm compilation/backends.py (0.10.2); ai-dynamo/dynamo#10695 log (estimate)",
)
MODEL_INSPECTION = ColdTerm(
    "model-class inspection", 10, "$VLLM_CACHE_ROOT/modelinfos",
    # vllm/model_executor/models/registry.py _LazyRegisteredModel: 0.10.2 inspects the model class in a subprocess
    # that imports vLLM on every start (_run_in_subprocess); 0.26.0, 0.32.0 and 0.34.0 keep the result in
    # $VLLM_CACHE_ROOT/modelinfos/<module>-<class>.json keyed by the module's source hash. The change is
    # vllm-project/vllm#23558; the first release with it was not read, so versions before 0.26.0 count as
    # inspecting every time (the slower, safer prediction). Estimate: 10.1 s uncached against 0.61 s cached,
    # as PR #23558 reported it (quoted in vllm-project/vllm#51746).
    (0, 26, 0),
    "vllm model_executor/models/registry.py (0.10.2, 0.26.0); vllm-project/vllm#23558 (estimate)",
)
TRITON_WARMUP = ColdTerm(
    "Triton kernels and autotuning", 10, "$TRITON_CACHE_DIR",
    (0, 10, 2),
    # Triton kernels vLLM runs outside its compiled graphs (Triton attention, fused MoE, sampling) are compiled
    # on first use into TRITON_CACHE_DIR (triton/runtime/cache.py FileCacheManager, triton 3.9.0: keyed by the
    # kernel's source, options and target), and autotuning results are cached there too from vLLM's
    # TRITON_CACHE_AUTOTUNING=1 (vllm/env_override.py, 0.32.0). Estimate with no published figure to cite:
    # about a second each for the handful of kernels a dense model's first batches hit.
    "triton runtime/cache.py (3.9.0), vllm env_override.py (0.32.0); duration an estimate",
)


def applicable(terms: tuple[ColdTerm, ...], version: tuple[int, int, int]) -> tuple[ColdTerm, ...]:
    """The terms a vLLM of this version keeps a cache for (and so a warm start skips)."""
    return tuple(term for term in terms if version >= term.since)
