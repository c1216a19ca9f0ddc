"""How each accelerator kind shows up in Kubernetes and EKS, and how vLLM behaves on it.

Everything that differs between Neuron and NVIDIA lives in this table, so sizing, placement,
builders and components have no `if neuron:` forks: a third backend is one more entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .cold_start import MODEL_INSPECTION, TORCH_COMPILE, TRITON_WARMUP, ColdTerm
from .sizing.sharding import NXD_SHARDING, VLLM_SHARDING, ShardingRule


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
    device_plugin_repository: str
    """Its DaemonSet's image repository (components/_device_plugin_objects.py), whose size every node of the kind holds."""
    has_compile_cache: bool
    """Whether models keep compiled graphs in a second cache volume."""
    quantization_methods: frozenset[str]
    """Values vLLM's `--quantization` accepts on this platform."""
    quantization_hint: str
    """How to quantize instead, shown when `quantization` is not one of the methods."""
    pipeline_parallel: bool
    """Whether vLLM on this backend runs pipeline-parallel stages."""
    backend_name: str
    """How messages name the backend ("Neuron")."""
    unit_name: str
    """One unit of `resource_name` in messages ("NeuronCore"); on GPUs the device model is named instead."""
    names_unit_by_device_model: bool
    """Messages name a unit by its device model (`L40S`) rather than `unit_name`."""
    reserves_kv_for_all_sequences: bool
    """KV cache for maxNumSeqs x maxModelLen is allocated up front (else vLLM pages it, and one
    full-length sequence must fit)."""
    honours_memory_utilization: bool
    """`gpuMemoryUtilization` caps the memory vLLM takes (else the backend ignores it)."""
    reports_device_memory: bool
    """The device reports its memory to vLLM, which some defaults depend on (maxNumSeqs)."""
    head_sharding: ShardingRule
    """How attention heads shard across tensor-parallel ranks, and which degrees are valid."""
    kv_cache_dtype_flag: str | None
    """vLLM flag that sets the KV cache dtype on this backend, if any."""
    kv_cache_follows_model_dtype: bool
    """With no KV dtype set, the cache takes the model's dtype (else it is 16-bit)."""
    kv_cache_default_source: str
    """Why the KV cache is 16-bit when nothing sets it, as the sizing table says."""
    accepts_neuron_config: bool
    """The backend reads `neuronConfig` (NxD Inference settings)."""
    loads_hub_checkpoint_in_host_memory: bool
    """A hub model's whole checkpoint is read into host memory before it reaches the devices."""
    shm_from_memory_request: bool
    """Tensor-parallel workers exchange tensors through /dev/shm, sized from the memory request by default."""
    kv_from_memory_profile: bool
    """vLLM profiles a dummy batch at start and gives the KV cache what is left of total x
    gpu-memory-utilization (config/sizing/vllm_memory.py); else KV is reserved as configured."""
    engine_start_seconds: int = 120
    """Estimated start after the weights are loaded, for the deploy rehearsal (preview/rehearsal/model_startup.py)."""
    hub_compile_seconds_per_billion_parameters: int = 0
    """Estimated first-start compile of a hub checkpoint (0: the backend compiles nothing ahead), for the rehearsal."""
    shards_checkpoint_on_every_start: bool = False
    """Every start (hub or pre-compiled image) reads the whole checkpoint into host memory to shard it."""
    working_dir: str | None = None
    """A writable emptyDir the container runs in, for backends that write relative to the working
    directory; None keeps the image's WORKDIR."""
    multi_unit_scheduler: str | None = None
    """schedulerName for pods requesting more than one unit, where the vendor requires its own scheduler."""
    runtime_env: tuple[tuple[str, str], ...] = ()
    """Variables that point this backend's libraries into the writable scratch directory (each value
    a subdirectory of it, components/_writable_paths.py): they write under $HOME by default, and the
    container's root filesystem is read-only."""
    persisted_cache_env: tuple[tuple[str, str], ...] = ()
    """Variables whose caches outlive the pod: each value a subdirectory of the model's keyed directory on the
    namespace's `huggingface-cache` claim (components/_writable_paths.py), so a later replica of the same
    config finds what the first one built. Empty: every cache stays in the pod's scratch."""
    cold_start_terms: tuple[ColdTerm, ...] = ()
    """What a start with empty persisted caches rebuilds and a later replica skips (config/cold_start.py);
    already part of `engine_start_seconds`, which is the cold start."""


ACCELERATORS: dict[AcceleratorKind, AcceleratorTraits] = {
    AcceleratorKind.NEURON: AcceleratorTraits(
        kind=AcceleratorKind.NEURON,
        resource_name="aws.amazon.com/neuroncore",
        taint_key="aws.amazon.com/neuron",
        ami_type="AL2023_x86_64_NEURON",
        device_plugin="neuron-device-plugin",
        device_plugin_repository="public.ecr.aws/neuron/neuron-device-plugin",
        has_compile_cache=True,
        # vLLM's Neuron platform (vllm/platforms/neuron.py, supported_quantization).
        quantization_methods=frozenset({"neuron_quant", "fbgemm_fp8"}),
        quantization_hint=(
            "on Neuron, quantize through neuronConfig (quantized: true, and quantization_dtype: f8e4m3 "
            "for fp8) and leave quantization unset"
        ),
        # vLLM's Neuron worker (and the NxD Inference plugin) build tensor-parallel groups only.
        pipeline_parallel=False,
        backend_name="Neuron",
        unit_name="NeuronCore",
        names_unit_by_device_model=False,
        # NxD Inference allocates the KV cache up front with shape (max batch, KV heads per rank,
        # max length, head dim) per layer (modules/kvcache/kv_cache_manager.py), and vLLM's Neuron
        # worker ignores gpu-memory-utilization (ARCHITECTURE.md, the workshop's starter kit).
        reserves_kv_for_all_sequences=True,
        honours_memory_utilization=False,
        reports_device_memory=False,
        head_sharding=NXD_SHARDING,
        kv_cache_dtype_flag=None,
        kv_cache_follows_model_dtype=False,
        kv_cache_default_source="Neuron default (16-bit)",
        accepts_neuron_config=True,
        # With `source: hub` NxD Inference reads the checkpoint into host memory to shard and
        # compile it, and every later start shards it again (save_sharded_checkpoint defaults to
        # False): config/placement/host_memory.py.
        loads_hub_checkpoint_in_host_memory=True,
        shm_from_memory_request=False,
        # Estimates (preview/rehearsal/model_startup.py): loading precompiled graphs onto the
        # NeuronCores; neuronx-cc over every bucket of the tensor-parallel degree on a first start.
        engine_start_seconds=180,
        # Nothing persisted besides the Neuron cache: what a Neuron start compiles is NxD Inference's graphs, which
        # go to NEURON_COMPILED_ARTIFACTS (the neuron-cache claim, or the image); the workshop images' vLLM 0.9.1
        # keeps no model-class cache (vllm/model_executor/models/registry.py @ 0.9.1 inspects in a subprocess
        # every time) and its Neuron platform runs vllm.worker.neuron_worker.NeuronWorker (vllm/platforms/neuron.py
        # check_and_update_config @ 0.9.1) on NxD Inference's traced graphs, not vLLM's torch.compile, so
        # $VLLM_CACHE_ROOT would hold nothing a later replica reuses.
        hub_compile_seconds_per_billion_parameters=180,
        kv_from_memory_profile=False,
        shards_checkpoint_on_every_start=True,
        # vLLM's NxD Inference loader saves a hub model to `local-models/<id>` and, without
        # NEURON_COMPILED_ARTIFACTS, compiles into `local-models/...`, both relative to the working
        # directory (upstreaming-to-vllm vllm/model_executor/model_loader/neuronx_distributed.py
        # `load_weights` @ dd417b31); the DLCs' WORKDIR /opt/vllm is on the read-only root.
        working_dir="/var/lib/vllm-neuron",
        # "The scheduler extension is required for scheduling Pods that request more than one Neuron
        # core or device resource"; EKS runs it beside a second scheduler named my-scheduler
        # (awsdocs-neuron.readthedocs-hosted.com/en/latest/deploy/infrastructure/scheduler.html and
        # .../containers/tutorials/k8s-multiple-scheduler.html).
        multi_unit_scheduler="my-scheduler",
    ),
    AcceleratorKind.GPU: AcceleratorTraits(
        kind=AcceleratorKind.GPU,
        resource_name="nvidia.com/gpu",
        taint_key="nvidia.com/gpu",
        ami_type="AL2023_x86_64_NVIDIA",
        device_plugin="nvidia-device-plugin",
        device_plugin_repository="nvcr.io/nvidia/k8s-device-plugin",
        has_compile_cache=False,
        # vLLM's QuantizationMethods (vllm/model_executor/layers/quantization/__init__.py).
        quantization_methods=frozenset({
            "awq", "awq_marlin", "gptq", "gptq_marlin", "fp8", "fbgemm_fp8", "modelopt", "modelopt_fp4",
            "gguf", "compressed-tensors", "bitsandbytes", "experts_int8", "quark", "moe_wna16", "torchao",
            "inc", "mxfp4", "gpt_oss_mxfp4",
        }),
        quantization_hint="pick one of the listed methods, or leave quantization unset to use the checkpoint's own",
        pipeline_parallel=True,
        backend_name="GPU",
        unit_name="GPU",
        names_unit_by_device_model=True,
        # vLLM pages the KV cache in blocks (vllm/v1/core/kv_cache_utils.py): the pool must hold one
        # max_model_len sequence, and max_num_seqs reserves nothing.
        reserves_kv_for_all_sequences=False,
        honours_memory_utilization=True,
        reports_device_memory=True,
        head_sharding=VLLM_SHARDING,
        kv_cache_dtype_flag="--kv-cache-dtype",
        kv_cache_follows_model_dtype=True,
        kv_cache_default_source="vLLM kv-cache-dtype auto (the model's 16-bit dtype)",
        accepts_neuron_config=False,
        # vLLM on GPUs streams safetensors shards to the device.
        loads_hub_checkpoint_in_host_memory=False,
        shm_from_memory_request=True,
        # Estimate (preview/rehearsal/model_startup.py): vLLM's profiling run and CUDA graph capture, on a
        # cold start (torch.compile, model inspection and Triton included: cold_start_terms below).
        engine_start_seconds=120,
        # vllm/v1/worker/gpu_worker.py determine_available_memory (config/sizing/vllm_memory.py).
        kv_from_memory_profile=True,
        runtime_env=(
            # vLLM's CUDA images import FlashInfer, which at import runs
            # os.makedirs(FLASHINFER_WORKSPACE_DIR) and opens flashinfer_jit.log there, under
            # $FLASHINFER_WORKSPACE_BASE or Path.home() (flashinfer-python 0.6.13 flashinfer/jit/env.py
            # and jit/core.py; the same in 0.2.8 to 0.3.1): on a read-only root that is
            # OSError [Errno 30] and CrashLoopBackOff. Proven by the boot stage (boot/run.py).
            ("FLASHINFER_WORKSPACE_BASE", "flashinfer"),
            # The CUDA driver's JIT cache defaults to ~/.nv/ComputeCache (CUDA C++ Programming Guide,
            # "CUDA Environment Variables": CUDA_CACHE_PATH); unwritable, the driver silently
            # recompiles PTX on every start. Not observable on the CPU build.
            ("CUDA_CACHE_PATH", "cuda-cache"),
            # PyTorch's NVRTC (jiterator) kernel cache: PYTORCH_KERNEL_CACHE_PATH, else
            # $XDG_CACHE_HOME/torch/kernels, else ~/.cache/torch/kernels; unwritable, it warns and caches
            # nothing (aten/src/ATen/native/cuda/jit_utils.cpp get_cache_dir). Image-served models keep
            # the image's XDG_CACHE_HOME, so only this variable moves it for them.
            ("PYTORCH_KERNEL_CACHE_PATH", "torch-kernels"),
        ),
        # Kept on the claim (components/_writable_paths.py says why these and not the others):
        # vLLM's compile cache and model-class cache ($VLLM_CACHE_ROOT: torch_compile_cache/, modelinfos/,
        # deep_gemm/; vllm envs.py VLLM_CACHE_ROOT, compilation/backends.py, utils/deep_gemm.py @ 0.10.2);
        # Triton's kernel cache (triton knobs.py cache.dir from TRITON_CACHE_DIR, default ~/.triton/cache, 3.9.0);
        # and inductor's: vLLM 0.10.2's default standalone compile (VLLM_USE_STANDALONE_COMPILE=1, torch 2.8)
        # leaves TORCHINDUCTOR_CACHE_DIR alone (compiler_interface.py InductorStandaloneAdaptor.initialize_cache),
        # so inductor's FX graph and kernel caches go where it says, else tempfile.gettempdir()/torchinductor_<user>
        # (torch/_inductor/runtime/cache_dir_utils.py cache_dir). 0.32.0's AOT compile moves it under
        # $VLLM_CACHE_ROOT itself (compilation/decorators.py). What torch writes to default_cache_dir() directly
        # (precompiled headers, its on-disk caches: _inductor/codecache.py, cache.py, torch 2.13) ignores the
        # variable and stays in the pod's /tmp: 148.6 MiB on the boot stage's CPU build.
        persisted_cache_env=(("VLLM_CACHE_ROOT", "vllm"), ("TRITON_CACHE_DIR", "triton"),
                             ("TORCHINDUCTOR_CACHE_DIR", "inductor")),
        cold_start_terms=(TORCH_COMPILE, MODEL_INSPECTION, TRITON_WARMUP),
    ),
}

CPU_AMI_TYPE = "AL2023_x86_64_STANDARD"
