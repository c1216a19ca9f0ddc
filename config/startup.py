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
"""

from __future__ import annotations

from dataclasses import dataclass

from .accelerators import ACCELERATORS
from .model import ModelConfig, ModelSource
from .model_catalog import resolve_architecture
from .sizing.precision import checkpoint_bytes, weight_precision, weights_size

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


def model_startup(model: ModelConfig, cache_filled: bool = False) -> ModelStartup:
    """One pod's start. `cache_filled`: a compile Job ran first (components/_compile_job_objects.py), so the
    checkpoint is in the shared hub cache and the graphs in the Neuron cache: no download, no compile."""
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
    load = max(checkpoint, served) / rate + traits.engine_start_seconds
    return ModelStartup(
        pull_seconds=image / PULL_BYTES_PER_SECOND, download_seconds=download, compile_seconds=compile_seconds,
        load_seconds=load, image_bytes=image, checkpoint_bytes=checkpoint, notes=tuple(notes),
    )


def describe(startup: ModelStartup) -> str:
    parts = [f"pull {minutes(startup.pull_seconds)} ({startup.image_bytes / GB:.0f} GB)"]
    if startup.download_seconds:
        parts.append(f"download {minutes(startup.download_seconds)} ({startup.checkpoint_bytes / GB:.0f} GB)")
    if startup.compile_seconds:
        parts.append(f"Neuron compile {minutes(startup.compile_seconds)}")
    parts.append(f"load {minutes(startup.load_seconds)}")
    return ", ".join(parts + list(startup.notes))


def minutes(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    whole = int(round(seconds))
    return f"{whole // 60}m{whole % 60:02d}s"
