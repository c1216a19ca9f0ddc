"""One served model: every vLLM setting the seeds use, plus where and how it runs."""

from __future__ import annotations

import re
from enum import Enum
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from ._base import ConfigModel
from .accelerators import ACCELERATORS, AcceleratorKind
from .autoscaling import AutoscalingConfig
from .errors import ConfigIssue, Fix, FixableError, NestedIssues
from .model_catalog import ArchitectureRef
from .types import (
    CpuQuantity,
    DnsLabel,
    ImageReference,
    MemoryQuantity,
    OwnedNamespace,
    ServiceName,
    ShmQuantity,
    parse_quantity,
)
from .units import GIB

HF_CACHE_PATH = "/root/.cache/huggingface"
NEURON_CACHE_PATH = "/root/.cache/neuron"
VLLM_PORT_NAME = "http"
VLLM_PROCESSES_BYTES = GIB
"""Memory vLLM's own processes take before loading a weight (measured: ResourcesConfig._room_for_vllm); a
memory-backed /dev/shm shares the container's limit with them (config/placement/requests.py)."""

# Flags the typed fields render; passing them again through extraArgs would give vLLM two
# conflicting values, so extraArgs rejects them and names the field to use instead.
MANAGED_FLAGS = {
    "--served-model-name": "servedModelName",
    "--tensor-parallel-size": "tensorParallelSize",
    "--pipeline-parallel-size": "pipelineParallelSize",
    "--max-model-len": "maxModelLen",
    "--max-num-seqs": "maxNumSeqs",
    "--gpu-memory-utilization": "gpuMemoryUtilization",
    "--trust-remote-code": "trustRemoteCode",
    "--enable-auto-tool-choice": "toolCallParser",
    "--tool-call-parser": "toolCallParser",
    "--chat-template": "chatTemplate",
    "--reasoning-parser": "reasoningParser",
    "--quantization": "quantization",
    "--override-neuron-config": "neuronConfig",
    "--additional-config": "neuronConfig",
    "--enable-prefix-caching": "enablePrefixCaching",
    "--no-enable-prefix-caching": "enablePrefixCaching",
    "--port": "port",
    "--kv-cache-dtype": "kvCacheDtype",
    "--max-num-batched-tokens": "maxNumBatchedTokens",
    "--speculative-config": "speculativeConfig",
    "--enable-expert-parallel": "enableExpertParallel",
}
# Flags current vLLM rejects, with what replaced them.
REMOVED_FLAGS = {
    "--speculative-model": "set speculativeConfig: {model: <draft model>, numSpeculativeTokens: 5} instead",
    "--num-speculative-tokens": "set speculativeConfig.numSpeculativeTokens instead",
}

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Env vars the builder sets from the secret; a literal value would put the token in plain text.
_SECRET_ENV = {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"}


class ModelSource(str, Enum):
    IMAGE = "image"
    """Weights (and, on Neuron, compiled graphs) are baked into the image; no cache volume is
    mounted over them and no token is needed."""
    HUB = "hub"
    """`model` is a Hugging Face hub id downloaded into the shared HF cache volume with the
    stack's token; Neuron graphs are compiled into the shared Neuron cache on first start."""


class NeuronConfigArg(str, Enum):
    """How the image's vLLM takes `neuronConfig`; it changed between releases."""

    OVERRIDE_NEURON_CONFIG = "override-neuron-config"
    """`--override-neuron-config=<json>`: vLLM before 0.10.2 (the workshop images)."""
    ADDITIONAL_CONFIG = "additional-config"
    """`--additional-config={"override_neuron_config": <json>}`: the NxD Inference vllm-neuron plugin."""
    ADDITIONAL_CONFIG_NEURON_CONFIG = "additional-config-neuron-config"
    """`--additional-config={"neuron_config": <json>}`: the plugin shipped with Neuron 2.31."""


class SpeculativeConfig(ConfigModel):
    """Speculative decoding, rendered in the form of the image's vLLM: `--speculative-config=<json>` from 0.8.0
    (the guide's `--speculative-model`/`--num-speculative-tokens` were removed after it), the separate flags before."""

    num_speculative_tokens: int = Field(ge=1, le=32)
    """Tokens the draft proposes per step (`num_speculative_tokens`)."""
    model: str | None = None
    """Draft model: a hub id or a path in the image. Its weights and KV cache share the GPUs with the target's,
    and the sizing counts them when the architecture catalog knows it. Unset for methods without one (`ngram`)."""
    method: str | None = None
    """`draft_model`, `eagle`, `eagle3`, `mtp`, `ngram`, ...; vLLM infers it from the draft model when unset."""
    draft_tensor_parallel_size: int | None = Field(None, ge=1)
    """Tensor-parallel size of the draft (`draft_tensor_parallel_size`); vLLM's default is the target's."""

    def to_vllm(self) -> dict[str, Any]:
        """The JSON vLLM's `SpeculativeConfig` takes (vllm/config/speculative.py), keys in its snake_case."""
        fields = {"method": self.method, "model": self.model, "num_speculative_tokens": self.num_speculative_tokens,
                  "draft_tensor_parallel_size": self.draft_tensor_parallel_size}
        return {key: value for key, value in fields.items() if value is not None}


class ResourcesConfig(ConfigModel):
    """CPU and memory for the vLLM container; accelerators are derived from the parallel sizes."""

    cpu: CpuQuantity = "3"
    """CPU request. No CPU limit: throttling a tokenizer thread stalls the accelerator."""
    memory: MemoryQuantity = "12Gi"
    """Memory request, and the limit too (on Neuron raised to what loading the checkpoint needs, see docs/sizing.md), so an over-commit is an OOM kill of this pod, not the node."""  # noqa: E501 (one line: the config reference reads it)

    @field_validator("memory")
    @classmethod
    def _room_for_vllm(cls, value: str) -> str:
        # Measured: importing vLLM 0.32.0's API server (CPU build, .venv-boot) peaks at 592 MiB resident
        # (`/usr/bin/time -v python -c "import vllm, vllm.entrypoints.openai.api_server"`: 606244 kB), and
        # vLLM V1 runs its engine core in a second process that imports it too; below 1 GiB the container
        # is OOM-killed before it loads a weight.
        if parse_quantity(value) >= VLLM_PROCESSES_BYTES:
            return value
        meant = f"{value}Gi" if value.isdigit() and int(value) <= 2048 else "12Gi"
        bare = " (a quantity without a suffix counts bytes)" if value.isdigit() else ""
        raise FixableError(
            f"{value!r} is {parse_quantity(value).normalize():f} bytes{bare}, less than vLLM's processes take before "
            f"loading a weight (the API server alone is 592 MiB resident after importing vLLM 0.32.0, and the engine "
            f"core is a second such process), so the kubelet OOM-kills the container at start; write e.g. {meant!r}",
            Fix("", meant))


class ModelConfig(ConfigModel):
    """One vLLM Deployment and its Service."""

    name: ServiceName
    """Deployment and Service name, unique in the stack; starts with a letter (a Service name is a DNS-1035 label)."""
    namespace: OwnedNamespace = "vllm"
    """Namespace; models naming the same one share its cache volumes and token secret."""
    accelerator: AcceleratorKind
    """`neuron` (Inferentia2/Trainium) or `gpu` (NVIDIA); must match the node group's instances."""
    node_group: DnsLabel
    """Name of the entry in `nodeGroups` the pods are scheduled on."""
    image: ImageReference = Field(min_length=1)
    """Container image with vLLM (and for `source: image`, the model)."""
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] = "IfNotPresent"
    """`IfNotPresent` (the workshop's) reuses the multi-GB image a node already has; pin images by digest so a tag cannot move under it."""
    source: ModelSource = ModelSource.HUB
    """Where weights come from: `hub` (download into the cache volume) or `image` (baked in)."""
    model: str = Field(min_length=1)
    """Hub id (`meta-llama/Llama-3.1-8B-Instruct`) for `source: hub`; path inside the image for `source: image`."""
    served_model_name: str | None = None
    """Name clients send as `model`; defaults to `name`."""
    replicas: int = Field(1, ge=0)
    """Pods. Each needs its own accelerators; updates replace pods one at a time without surging. Leave unset
    with `autoscaling`, which owns the count then."""
    autoscaling: AutoscalingConfig | None = None
    """Replicas between `minReplicas` and `maxReplicas` that follow the model's queue (a KEDA ScaledObject on
    `vllm:num_requests_waiting`; docs/autoscaling.md). Unset: a fixed `replicas`."""
    tensor_parallel_size: int = Field(1, ge=1)
    """Accelerators one replica shards over: GPUs, or NeuronCores on Neuron."""
    pipeline_parallel_size: int = Field(1, ge=1)
    """Pipeline stages; all stages run in one pod here, so the pod requests tensorParallelSize x pipelineParallelSize accelerators."""
    max_model_len: int | None = Field(None, ge=1)
    """Context length; vLLM's default is the model's own."""
    max_num_seqs: int | None = Field(None, ge=1)
    """Sequences batched at once; on Neuron, KV cache for maxNumSeqs x maxModelLen is reserved up front. vLLM's default when unset."""
    gpu_memory_utilization: float | None = Field(None, gt=0, le=1)
    """Share of accelerator memory vLLM may use (ignored by the Neuron backend)."""
    trust_remote_code: bool = False
    """Run the model repository's own Python code (`--trust-remote-code`); only for repositories you trust."""
    tool_call_parser: str | None = None
    """Enables tool calling (`--enable-auto-tool-choice`) with this parser."""
    chat_template: str | None = None
    """`--chat-template`: a path inside the image (e.g. `examples/tool_chat_template_llama3.1_json.jinja`)."""
    reasoning_parser: str | None = None
    """`--reasoning-parser` (e.g. `qwen3`), to return reasoning apart from the answer."""
    architecture: ArchitectureRef | None = None
    """Architecture for memory sizing: a catalog id (`Qwen/Qwen3-8B`, see config/model_catalog.py) or an
    inline block (`parameters`, `layers`, `attentionHeads`, `kvHeads`, `headDim`, `maxPositionEmbeddings`,
    `dtype`) copied from config.json. Defaults to matching `model` (hub id or image path) against the catalog."""
    quantization: str | None = None
    """`--quantization` method (fp8, awq, gptq, ...); Neuron quantization goes in `neuronConfig`."""
    neuron_config: dict[str, Any] | None = None
    """Neuron backend settings, rendered as JSON in the flag `neuronConfigArg` names."""
    neuron_config_arg: NeuronConfigArg = NeuronConfigArg.OVERRIDE_NEURON_CONFIG
    """The flag form `neuronConfig` is rendered in; must match the image's vLLM version (see NeuronConfigArg)."""
    enable_prefix_caching: bool | None = None
    """`true`/`false` renders the flag; unset keeps vLLM's default."""
    kv_cache_dtype: Literal["auto", "bfloat16", "fp8", "fp8_e4m3", "fp8_e5m2"] | None = None
    """`--kv-cache-dtype` (GPU; the values of vllm/config/cache.py CacheDType): `fp8` halves the KV cache's bytes per token, doubling the tokens that fit. Unset
    keeps vLLM's `auto` (the model's 16-bit dtype). On Neuron, set `kv_cache_quant` in neuronConfig instead."""
    max_num_batched_tokens: int | None = Field(None, ge=1)
    """`--max-num-batched-tokens`: the chunked-prefill budget per step, which sets the batch vLLM profiles its peak
    activation with. vLLM's default when unset: 8192 on GPUs reporting >= 70 GiB other than A100, else 2048."""
    speculative_config: SpeculativeConfig | None = None
    """Speculative decoding (`--speculative-config`): `numSpeculativeTokens`, and `model`/`method` of the draft."""
    enable_expert_parallel: bool = False
    """`--enable-expert-parallel`: shard a mixture-of-experts model's experts across the ranks instead of slicing
    each expert with tensor parallelism. Per-GPU memory is the same (the experts are split over the same ranks)."""
    extra_args: list[str] = Field(default_factory=list)
    """Further vLLM flags, verbatim, for settings without a field."""
    env: dict[str, str] = Field(default_factory=dict)
    """Extra environment variables (not secrets: the HF token is wired from the stack's secret)."""
    resources: ResourcesConfig = Field(default_factory=ResourcesConfig)
    """CPU and memory requests; accelerators are derived from the parallel sizes."""
    shm_size: ShmQuantity | None = None
    """Memory-backed `/dev/shm` (counted in the pod's memory); defaults on GPUs to half the memory request, at most 16Gi (NCCL and PyTorch workers need it), none on Neuron."""  # noqa: E501 (one line: the config reference reads it)
    read_only_root_filesystem: bool = True
    """Run with a read-only root filesystem (writable /tmp and /var/tmp; vLLM's caches are
    redirected there). Set false only for an image that must write elsewhere."""
    run_as_user: int | None = Field(None, ge=1)
    """UID for an image built to run as non-root: sets runAsNonRoot, runAsUser, runAsGroup and fsGroup.
    Unset by default because vLLM's and the workshop's published images run as root."""
    port: int = Field(8000, ge=1024, le=65535)
    """Port vLLM listens on and the Service exposes, named `http`."""
    startup_timeout_seconds: int = Field(1800, ge=60)
    """Budget for model load (and Neuron compilation) before the kubelet restarts the pod."""
    wait_for_ready: bool = True
    """Make `pulumi up` wait until pods are Ready (timeout = startup budget x replicas + 10 minutes,
    as a rollout replaces pods one at a time); false sets `pulumi.com/skipAwait` so the apply returns
    once the Deployment is accepted."""

    # Field validators (not model validators) so each error points at the key to edit;
    # fields are validated in declaration order, so `accelerator` is already in `info.data`.

    @field_validator("pipeline_parallel_size")
    @classmethod
    def _pipeline_parallel_where_supported(cls, value: int, info: ValidationInfo) -> int:
        accelerator = info.data.get("accelerator")
        if value > 1 and accelerator is not None and not ACCELERATORS[accelerator].pipeline_parallel:
            raise ValueError(
                f"{value} pipeline stages: the {accelerator.value} backend shards with tensor parallelism only; "
                f"set pipelineParallelSize to 1 and raise tensorParallelSize instead"
            )
        return value

    @field_validator("neuron_config")
    @classmethod
    def _neuron_config_only_on_neuron(cls, value: dict[str, Any] | None, info: ValidationInfo) -> dict[str, Any] | None:
        accelerator = info.data.get("accelerator")
        if value is not None and accelerator is not None and not ACCELERATORS[accelerator].accepts_neuron_config:
            raise FixableError("neuronConfig is only read by the Neuron backend; remove it, or set accelerator: neuron",
                               Fix("", remove=True))
        return value

    @field_validator("quantization")
    @classmethod
    def _quantization_fits_the_accelerator(cls, value: str | None, info: ValidationInfo) -> str | None:
        accelerator = info.data.get("accelerator")
        if value is None or accelerator is None:
            return value
        traits = ACCELERATORS[accelerator]
        if value not in traits.quantization_methods:
            raise FixableError(  # each hint ends in leaving quantization unset, the fix
                f"{value!r} is not a vLLM quantization method on {accelerator.value} "
                f"(supported: {', '.join(sorted(traits.quantization_methods))}); {traits.quantization_hint}",
                Fix("", remove=True))
        return value

    @field_validator("kv_cache_dtype")
    @classmethod
    def _kv_cache_dtype_on_gpus(cls, value: str | None, info: ValidationInfo) -> str | None:
        accelerator = info.data.get("accelerator")
        if value is not None and accelerator is not None and not ACCELERATORS[accelerator].kv_cache_dtype_flag:
            raise FixableError(
                f"kvCacheDtype is a flag of vLLM's GPU backend, which {accelerator.value} does not run; remove it and "
                f"set kv_cache_quant: true in neuronConfig for an FP8 KV cache", Fix("", remove=True))
        return value

    @field_validator("extra_args")
    @classmethod
    def _extra_args_do_not_repeat_fields(cls, value: list[str]) -> list[str]:
        # Each refused flag is named at its item (extraArgs[2]), with removing it as the fix.
        issues = []
        for index, arg in enumerate(value):
            flag = arg.split("=", 1)[0]
            if flag in REMOVED_FLAGS:
                issues.append(ConfigIssue(f"[{index}]", f"{flag!r} no longer exists in vLLM; {REMOVED_FLAGS[flag]}",
                                          (Fix(f"[{index}]", remove=True),)))
            elif flag in MANAGED_FLAGS:
                issues.append(ConfigIssue(f"[{index}]", f"{flag!r} is set by a field; remove it and use {MANAGED_FLAGS[flag]} instead",
                                          (Fix(f"[{index}]", remove=True),)))
        if issues:
            raise NestedIssues(issues)
        return value

    @field_validator("env")
    @classmethod
    def _env_names_are_valid(cls, value: dict[str, str]) -> dict[str, str]:
        # Named at the variable (env.HF_TOKEN), not the whole mapping.
        issues = []
        for key in value:
            if not _ENV_NAME.match(key):
                fixed = re.sub(r"[^A-Za-z0-9_]", "_", key)
                fixed = fixed if _ENV_NAME.match(fixed) else f"_{fixed}"
                issues.append(ConfigIssue(key, (
                    f"{key!r} is not a valid environment variable name; use letters, digits and '_', not starting "
                    f"with a digit"), (Fix(key, rename=fixed),)))
            elif key in _SECRET_ENV:
                issues.append(ConfigIssue(key, (
                    f"{key} would put the token in plain text; remove it and set the token with "
                    f"`pulumi config set --secret hfToken <token>`"), (Fix(key, remove=True),)))
        if issues:
            raise NestedIssues(issues)
        return value

    @property
    def resolved_served_model_name(self) -> str:
        return self.served_model_name or self.name

    @property
    def has_compile_cache(self) -> bool:
        """Whether the model keeps compiled graphs in the namespace's second cache volume."""
        return ACCELERATORS[self.accelerator].has_compile_cache

    @property
    def accelerators_per_pod(self) -> int:
        """Extended-resource units one pod requests: every tensor- and pipeline-parallel rank."""
        return self.tensor_parallel_size * self.pipeline_parallel_size

    @property
    def resolved_shm_size(self) -> str | None:
        """GPU default: half the memory request, at most 16Gi (the guide's size).

        A memory-backed /dev/shm is charged to the pod's memory limit, so a fixed 16Gi beside
        the default 12Gi request would let shared memory alone OOM-kill the pod.
        """
        if self.shm_size is not None:
            return self.shm_size
        if not ACCELERATORS[self.accelerator].shm_from_memory_request:
            return None
        half_memory_gib = int(parse_quantity(self.resources.memory) / GIB / 2)
        return f"{max(1, min(16, half_memory_gib))}Gi"
