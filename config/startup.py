"""How long one model pod takes from scheduled to Ready: image pull, weight download, Neuron compile, load.

The deploy rehearsal (preview/rehearsal/) and the autoscaler's windows (config/scale_out.py) both read it.

Stated assumptions (estimates as of 2026-12-01, each a constant below so a test or a reader can
see it; none is a measurement of this project's images):
- pull + unpack at 100 MB/s per node (containerd unpacks layers one by one; an EC2 node pulls
  from ECR Public or Docker Hub well below its network line rate);
- hub download at 100 MB/s per model (Hugging Face's CDN through one NAT gateway into EFS with
  elastic throughput), shared by the replicas (huggingface_hub locks each file, so one replica
  downloads and the others wait for it);
- load at 200 MB/s from EFS and 500 MB/s from the node's own disk (weights baked into the image);
- engine start after load and the compile of a hub checkpoint on a first start are accelerator
  traits (config/accelerators.py `engine_start_seconds`, `hub_compile_seconds_per_billion_parameters`):
  2 minutes on GPUs (profiling run, CUDA graph capture); on Neuron 3 minutes to load the graphs onto
  the NeuronCores and 3 minutes per billion parameters of neuronx-cc; an image carries its graphs.
Image sizes: the table below (compressed size as the registry lists it, estimates), plus the
checkpoint for an image that carries the model (`source: image`).
`engine_start_seconds` is a cold start: it includes what vLLM rebuilds with empty caches (the accelerator's
`cold_start_terms`, config/cold_start.py). A replica that finds the caches an earlier replica of the same config
left on the namespace's claim (components/_writable_paths.py) skips those terms: `warm_caches`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .accelerators import ACCELERATORS
from .cold_start import ColdTerm, applicable
from .model import ModelConfig, ModelSource
from .model_catalog import resolve_architecture
from .sizing.precision import checkpoint_bytes, weight_precision, weights_size
from .sizing.vllm_memory import image_vllm_version

MB = 1_000_000
GB = 1_000_000_000
PULL_BYTES_PER_SECOND = 100 * MB
DOWNLOAD_BYTES_PER_SECOND = 100 * MB
LOAD_FROM_EFS_BYTES_PER_SECOND = 200 * MB
LOAD_FROM_DISK_BYTES_PER_SECOND = 500 * MB
DEFAULT_IMAGE_BYTES = 10 * GB
IMAGE_BYTES = {
    # repository (no tag) -> compressed size without model weights (estimates)
    "vllm/vllm-openai": 9 * GB,
    "public.ecr.aws/t0h7h1e6/vllm-neuron": 6 * GB,
    "public.ecr.aws/neuron/neuron-device-plugin": int(0.1 * GB),
    "nvcr.io/nvidia/k8s-device-plugin": int(0.2 * GB),
}
DEVICE_PLUGIN_READY_SECONDS = 30
"""Device-plugin pod on a new node: pull a small image, register the resource with the kubelet."""
POD_IP_SECONDS = 5
"""Scheduled to sandbox with an IP (the VPC CNI attaches an address): when a Service sees it."""


@dataclass(frozen=True)
class ModelStartup:
    pull_seconds: float
    download_seconds: float
    compile_seconds: float
    load_seconds: float
    image_bytes: float
    checkpoint_bytes: float
    notes: tuple[str, ...] = ()
    cache_terms: tuple[ColdTerm, ...] = ()
    """What vLLM keeps in this model's persisted caches: rebuilt (and inside load_seconds) on a cold start,
    loaded instead (and left out of load_seconds) on a warm one."""
    warm_caches: bool = False

    @property
    def cache_seconds(self) -> float:
        """The cold-only part: spent in load_seconds when cold, saved when warm."""
        return float(sum(term.seconds for term in self.cache_terms))

    @property
    def after_pull_seconds(self) -> float:
        """Container start to Ready: what the startup probe's budget must cover."""
        return self.download_seconds + self.compile_seconds + self.load_seconds

    @property
    def total_seconds(self) -> float:
        return self.pull_seconds + self.after_pull_seconds


def image_repository(image: str) -> str:
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return name[: len(name) - len(last)] + last.split(":", 1)[0]


def cache_terms(model: ModelConfig) -> tuple[ColdTerm, ...]:
    """The cold-only terms this model's vLLM keeps in its persisted caches: the accelerator's, from the version
    of vLLM that keeps each (the image tag's version, config/sizing/vllm_memory.py image_vllm_version)."""
    version = image_vllm_version(model.image).version
    return applicable(ACCELERATORS[model.accelerator].cold_start_terms, (version.major, version.minor, version.patch))


def model_startup(model: ModelConfig, cache_filled: bool = False, warm_caches: bool = False) -> ModelStartup:
    """One pod's start. `cache_filled`: a compile Job ran first (components/_compile_job_objects.py), so the
    checkpoint is in the shared hub cache and the graphs in the Neuron cache: no download, no compile.
    `warm_caches`: a replica of the same config started before (a scale-out), so what vLLM keeps in the persisted
    caches is loaded instead of rebuilt (config/cold_start.py)."""
    arch, _ = resolve_architecture(model.model, model.architecture, model.name)
    notes: list[str] = ["cache filled by the compile Job"] if cache_filled else []
    if arch is None:
        checkpoint = served = 0.0
        notes.append("architecture unknown: weights not counted")
    else:
        checkpoint = checkpoint_bytes(model, arch)
        served = weights_size(arch, weight_precision(model, arch))
    image: float = IMAGE_BYTES.get(image_repository(model.image), DEFAULT_IMAGE_BYTES)
    hub = model.source is ModelSource.HUB
    if not hub:
        image += checkpoint  # the weights ship inside the image
    download = checkpoint / DOWNLOAD_BYTES_PER_SECOND if hub and not cache_filled else 0.0
    traits = ACCELERATORS[model.accelerator]
    compile_seconds = 0.0
    if hub and arch is not None and not cache_filled:  # an image carries its compiled graphs
        compile_seconds = arch.parameters / 1e9 * traits.hub_compile_seconds_per_billion_parameters
    rate = LOAD_FROM_EFS_BYTES_PER_SECOND if hub else LOAD_FROM_DISK_BYTES_PER_SECOND
    terms = cache_terms(model)
    saved = sum(term.seconds for term in terms) if warm_caches else 0
    load = max(checkpoint, served) / rate + traits.engine_start_seconds - saved
    return ModelStartup(
        pull_seconds=image / PULL_BYTES_PER_SECOND, download_seconds=download, compile_seconds=compile_seconds,
        load_seconds=load, image_bytes=image, checkpoint_bytes=checkpoint, notes=tuple(notes),
        cache_terms=terms, warm_caches=warm_caches,
    )


def describe(startup: ModelStartup) -> str:
    parts = [f"pull {minutes(startup.pull_seconds)} ({startup.image_bytes / GB:.0f} GB)"]
    if startup.download_seconds:
        parts.append(f"download {minutes(startup.download_seconds)} ({startup.checkpoint_bytes / GB:.0f} GB)")
    if startup.compile_seconds:
        parts.append(f"Neuron compile {minutes(startup.compile_seconds)}")
    parts.append(f"load {minutes(startup.load_seconds)}{cache_note(startup)}")
    return ", ".join(parts + list(startup.notes))


def cache_note(startup: ModelStartup) -> str:
    """How the persisted caches enter the load time: rebuilt (cold) or loaded (warm), with each term."""
    if not startup.cache_terms:
        return ""
    terms = ", ".join(f"{term.name} {term.seconds}s" for term in startup.cache_terms)
    if startup.warm_caches:
        return f" with persisted caches, {startup.cache_seconds:.0f}s saved [{terms}; estimates]"
    return f" incl. {startup.cache_seconds:.0f}s rebuilding empty caches [{terms}; estimates]"


def minutes(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    whole = int(round(seconds))
    return f"{whole // 60}m{whole % 60:02d}s"
