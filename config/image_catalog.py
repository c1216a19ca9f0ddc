"""What is inside the Neuron images the stacks use: facts the mock engine cannot see.

Each entry is read from the Dockerfile the image was built from and the manifests that ran it;
the source is cited beside the entry, and docs/neuron-images.md gives the evidence in full
(including what the sources cannot settle). Builders and placement read these facts; nothing
here branches on an image name outside this table.

- Base images: aws-neuron/deep-learning-containers `vllm/inference/0.9.1/Dockerfile.neuronx`
  (@ 7470987 for Neuron 2.26.0, @ 14b1f0d for 2.26.1): `git clone ... upstreaming-to-vllm.git
  /opt/vllm`, `WORKDIR /opt/vllm`, `pip install -e .` (vLLM is an editable install in /opt/vllm,
  so its `examples/` chat templates are at /opt/vllm/examples), NxD Inference 0.6.10598. The 0.7.2
  Dockerfile (@ 7470987) instead installs vLLM editable from `/tmp/upstreaming-to-vllm`, where an
  emptyDir at /tmp would hide it.
- Workshop images: aws-samples/sample-genai-on-eks-starter-kit `builder/neuron/Dockerfile.*`
  (added 816491c, base bumped to sdk2.26.0 in 74e6040, archived in 39d3bd1 as `builder/archive/neuron/`),
  pushed as `public.ecr.aws/t0h7h1e6/vllm-neuron:<tag>` (`builder/pod-buildah.yaml` @ 03eeb313).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .errors import ConfigIssue
    from .model import ModelConfig

VLLM_SOURCE_DIR = "/opt/vllm"
"""Where the 0.9.1 Neuron DLCs clone and editable-install vLLM (Dockerfile.neuronx `WORKDIR /opt/vllm`)."""


@dataclass(frozen=True)
class CompiledGraphs:
    """What a pre-compiled image holds: graphs are fixed for these settings (NxD Inference traces
    one batch size, sequence length and TP degree; vLLM loads whatever NEURON_COMPILED_ARTIFACTS
    holds and copies its neuron config over its own, upstreaming-to-vllm
    `vllm/model_executor/model_loader/neuronx_distributed.py` `load_weights` @ dd417b31)."""

    model_path: str
    """The snapshot directory with config.json and the safetensors (vLLM's model argument)."""
    artifacts_path: str
    """NEURON_COMPILED_ARTIFACTS: the directory holding model.pt and neuron_config.json."""
    tensor_parallel_size: int
    max_num_seqs: int
    max_model_len: int
    dtype: str
    """Weights and KV cache dtype the graphs were compiled for."""
    neuron_config: dict[str, Any] | None
    """The override the image's own manifests pass (None: none), which serving must repeat."""


@dataclass(frozen=True)
class NeuronImage:
    vllm_source_dir: str | None
    """Directory of vLLM's editable install (its `examples/` chat templates live under it); None if unknown."""
    tmp_holds_vllm: bool
    """vLLM is installed under /tmp, so an emptyDir there would hide it: scratch moves elsewhere."""
    digest: str | None = None
    """`sha256:...` of the image when a source publishes it; rendered as `image@digest`."""
    compiled: CompiledGraphs | None = None
    """Pre-compiled graphs baked into the image, for `source: image`."""
    source: str = ""
    vllm_version: str | None = None
    """The vLLM release the image's vLLM is forked from (the DLC's `vllm/inference/<version>/` folder), which
    its flags, parsers and engine follow (config/vllm_facts); None when unknown."""


_DLC_091 = NeuronImage(
    vllm_source_dir=VLLM_SOURCE_DIR, tmp_holds_vllm=False, vllm_version="0.9.1",
    source="aws-neuron/deep-learning-containers vllm/inference/0.9.1/Dockerfile.neuronx @ 7470987 / 14b1f0d",
)

_LLAMA_SNAPSHOT = "/opt/vllm/huggingface-cache/Llama-3.1-8B-Instruct/snapshots/0e9e39f249a16976918f6564b8830bc894c89659"
_QWEN_SNAPSHOT = "/root/.cache/huggingface/hub/models--Qwen--Qwen3-8B/snapshots/b968826d9c46dd6066d109eabc6255188de91218"

NEURON_IMAGES: dict[str, NeuronImage] = {
    "public.ecr.aws/neuron/pytorch-inference-vllm-neuronx:0.9.1-neuronx-py310-sdk2.25.0-ubuntu22.04": _DLC_091,
    "public.ecr.aws/neuron/pytorch-inference-vllm-neuronx:0.9.1-neuronx-py311-sdk2.26.0-ubuntu22.04": _DLC_091,
    "public.ecr.aws/neuron/pytorch-inference-vllm-neuronx:0.9.1-neuronx-py311-sdk2.26.1-ubuntu22.04": _DLC_091,
    "public.ecr.aws/neuron/pytorch-inference-vllm-neuronx:0.7.2-neuronx-py310-sdk2.24.1-ubuntu22.04": NeuronImage(
        vllm_source_dir=None, tmp_holds_vllm=True, vllm_version="0.7.2",
        source="aws-neuron/deep-learning-containers vllm/inference/0.7.2/Dockerfile.neuronx @ 7470987 (`cd /tmp && git clone ... && pip install -e .`)",
    ),
    # FROM the 0.9.1 DLC; COPY the hub cache folder models--meta-llama--Llama-3.1-8B-Instruct (blobs/ refs/
    # snapshots/, no config.json at its top) to /opt/vllm/huggingface-cache/Llama-3.1-8B-Instruct, and the graphs
    # compiled into neuron/meta-llama/Llama-3.1-8B-Instruct-int8 to /opt/vllm/neuron-cache/Llama-3.1-8B-Instruct-int8.
    # The revision is the one the starter kit's template names (components/llm-model/vllm/archive/
    # model-llama-3-1-8b-int8-neuron.template.yaml @ 15df73fc), whose compile run (TP 2, 4 seqs, 8192 tokens,
    # NEURON_COMPILED_ARTIFACTS .../Llama-3.1-8B-Instruct-int8) produced the copied graphs.
    "public.ecr.aws/t0h7h1e6/vllm-neuron:llama-3-1-8b-int8": NeuronImage(
        vllm_source_dir=VLLM_SOURCE_DIR, tmp_holds_vllm=False, vllm_version="0.9.1",
        compiled=CompiledGraphs(
            model_path=_LLAMA_SNAPSHOT,
            artifacts_path="/opt/vllm/neuron-cache/Llama-3.1-8B-Instruct-int8",
            tensor_parallel_size=2, max_num_seqs=4, max_model_len=8192, dtype="bfloat16",
            neuron_config={"quantized": True, "quantized_checkpoints_path": _LLAMA_SNAPSHOT, "kv_cache_quant": True},
        ),
        source="starter kit builder/neuron/Dockerfile.llama-3-1-8b-int8-neuron @ 816491c, 74e6040",
    ),
    # FROM the 0.9.1 DLC; COPY models--Qwen--Qwen3-8B to /root/.cache/huggingface/hub/ and neuron/Qwen/Qwen3-8B to
    # /root/.cache/neuron/Qwen/Qwen3-8B. The template that introduced this tag (model-qwen3-8b-neuron.template.yaml
    # @ b1c21c2) compiles and serves it with the snapshot path, TP 2, --max-num-seqs=1, --max-model-len=16384, no
    # override (so the checkpoint's bfloat16, no fp8, no KV quantization) and NEURON_COMPILED_ARTIFACTS
    # /root/.cache/neuron/Qwen/Qwen3-8B; the fp8 override only ever ran with the stock DLC compiling from the hub
    # into .../Qwen3-8B-fp8 (model-qwen3-8b-fp8-neuron.template.yaml @ fa8b959..39d3bd1).
    "public.ecr.aws/t0h7h1e6/vllm-neuron:qwen3-8b": NeuronImage(
        vllm_source_dir=VLLM_SOURCE_DIR, tmp_holds_vllm=False, vllm_version="0.9.1",
        compiled=CompiledGraphs(
            model_path=_QWEN_SNAPSHOT, artifacts_path="/root/.cache/neuron/Qwen/Qwen3-8B",
            tensor_parallel_size=2, max_num_seqs=1, max_model_len=16384, dtype="bfloat16", neuron_config=None,
        ),
        source="starter kit builder/neuron/Dockerfile.qwen3-8b-neuron @ 816491c, 74e6040; template @ b1c21c2",
    ),
}


def image_reference(image: str) -> str:
    """`repo:tag` without a digest, the key of NEURON_IMAGES."""
    return image.split("@", 1)[0]


def neuron_image(image: str) -> NeuronImage | None:
    """The catalog's facts for an image reference (digest ignored), or None when unknown."""
    return NEURON_IMAGES.get(image_reference(image))


def pinned_image(image: str) -> str:
    """`image@sha256:...` when the catalog knows the digest of a tag-only reference."""
    facts = neuron_image(image)
    if "@" in image or facts is None or facts.digest is None:
        return image
    return f"{image}@{facts.digest}"


# --------------------------------------------------------------------------------------------
# Rules: a model must serve what its image holds.


def resolved_chat_template(model: ModelConfig) -> str | None:
    """The chat template as an absolute path. Neuron containers run in a writable working directory
    (the NxD loader writes `local-models/` relative to it), not the image's WORKDIR, so a path
    relative to vLLM's source tree (`examples/...`) is resolved against the image's vLLM install."""
    template = model.chat_template
    if template is None or template.startswith("/") or not _moves_working_dir(model):
        return template
    facts = neuron_image(model.image)
    if facts is None or facts.vllm_source_dir is None:
        return template  # image_issues reports it
    return f"{facts.vllm_source_dir}/{template}"


# Image repositories built for one accelerator's runtime only: the vLLM project's `vllm/vllm-openai` is built FROM
# nvidia/cuda (vllm-project/vllm docker/Dockerfile), with no Neuron runtime; the Neuron images carry the Neuron
# SDK and NxD Inference (aws-neuron/deep-learning-containers Dockerfile.neuronx, see above), no CUDA.
IMAGE_RUNTIMES: dict[str, tuple[str, str]] = {
    "vllm/vllm-openai": ("gpu", "vLLM's CUDA image (vllm-project/vllm docker/Dockerfile builds it FROM nvidia/cuda)"),
    "public.ecr.aws/t0h7h1e6/vllm-neuron": ("neuron", "a Neuron image (the workshop's, built on the Neuron DLC)"),
    "public.ecr.aws/neuron/pytorch-inference-vllm-neuronx": ("neuron", "the Neuron deep learning container for vLLM"),
}
_OTHER_RUNTIME = {
    "gpu": "vllm/vllm-openai:<version>",
    "neuron": "public.ecr.aws/neuron/pytorch-inference-vllm-neuronx:<tag> or a model's image built on it",
}


def runtime_issue(index: int, model: ModelConfig) -> ConfigIssue | None:
    """An image built for the other accelerator's runtime: vLLM would find no device it can use."""
    from .errors import ConfigIssue

    repository = image_reference(model.image).rsplit(":", 1)[0] if "/" in model.image else model.image
    known = IMAGE_RUNTIMES.get(repository) or IMAGE_RUNTIMES.get(image_reference(model.image).split(":")[0])
    if known is None or known[0] == model.accelerator.value:
        return None
    return ConfigIssue(f"models[{index}].image", (
        f"{model.image!r} is {known[1]}, built for {known[0]} only, so vLLM in it finds no {model.accelerator.value} "
        f"device and the pod fails at start; use a {model.accelerator.value} image such as "
        f"{_OTHER_RUNTIME[model.accelerator.value]}, or set accelerator: {known[0]}"))


def _moves_working_dir(model: ModelConfig) -> bool:
    from .accelerators import ACCELERATORS
    return ACCELERATORS[model.accelerator].working_dir is not None


def as_compiled(model: ModelConfig) -> ModelConfig:
    """The model with the settings its image's graphs were compiled for, where they differ. image_issues names each
    difference once, with the compiled value as its fix; placement and sizing judge the model as that fix leaves it,
    so one mistake (tensorParallelSize 4 beside graphs compiled for 2) gives one error, not a second at the same key
    with another fix ('run the node group on a larger instance and keep the degree')."""
    from .model import ModelSource

    facts = neuron_image(model.image)
    compiled = facts.compiled if facts is not None else None
    if compiled is None or model.source is not ModelSource.IMAGE or runtime_issue(0, model) is not None:
        return model
    held = {"model": compiled.model_path, "tensor_parallel_size": compiled.tensor_parallel_size,
            "max_num_seqs": compiled.max_num_seqs, "max_model_len": compiled.max_model_len,
            "neuron_config": compiled.neuron_config}
    differ = {field: value for field, value in held.items() if getattr(model, field) != value}
    return model.model_copy(update=differ) if differ else model


def image_issues(index: int, model: ModelConfig) -> list[ConfigIssue]:
    """A relative chat template the image cannot resolve; an image-served model whose settings differ
    from the graphs baked into its image (vLLM would load graphs compiled for other shapes)."""
    from .errors import ConfigIssue, Fix
    from .model import ModelSource

    path, label = f"models[{index}]", f"models[{index}] {model.name}"
    wrong_runtime = runtime_issue(index, model)
    if wrong_runtime is not None:
        return [wrong_runtime]  # one mistake, one error: the image's other facts do not apply to this model
    issues = []
    facts = neuron_image(model.image)
    template = model.chat_template
    if template and not template.startswith("/") and _moves_working_dir(model) and (facts is None or facts.vllm_source_dir is None):
        issues.append(ConfigIssue(f"{path}.chatTemplate", (
            f"{label}: chatTemplate {template!r} is relative, and the container runs in its own writable working "
            f"directory, not the image's; where {model.image} keeps vLLM is not in config/image_catalog.py, so write "
            f"the absolute path inside the image (the 0.9.1 Neuron DLCs install vLLM in {VLLM_SOURCE_DIR}: "
            f"{VLLM_SOURCE_DIR}/{template})")))
    compiled = facts.compiled if facts is not None else None
    if compiled is None or model.source is not ModelSource.IMAGE:
        return issues
    expected = {
        "model": (model.model, compiled.model_path),
        "tensorParallelSize": (model.tensor_parallel_size, compiled.tensor_parallel_size),
        "maxNumSeqs": (model.max_num_seqs, compiled.max_num_seqs),
        "maxModelLen": (model.max_model_len, compiled.max_model_len),
        "neuronConfig": (model.neuron_config, compiled.neuron_config),
        "env.NEURON_COMPILED_ARTIFACTS": (model.env.get("NEURON_COMPILED_ARTIFACTS"), compiled.artifacts_path),
    }
    for key, (value, held) in expected.items():
        if value != held:
            shown = "unset" if value is None else (json.dumps(value) if isinstance(value, dict) else repr(value))
            wanted = "unset" if held is None else (json.dumps(held) if isinstance(held, dict) else repr(held))
            fix = Fix(f"{path}.{key}", remove=True) if held is None else Fix(f"{path}.{key}", held)
            issues.append(ConfigIssue(f"{path}.{key}", (
                f"{label}: {key} is {shown} but {image_reference(model.image)} holds graphs compiled for "
                f"{compiled.dtype}, tensorParallelSize {compiled.tensor_parallel_size}, maxNumSeqs "
                f"{compiled.max_num_seqs}, maxModelLen {compiled.max_model_len} (config/image_catalog.py); set {key} "
                f"to {wanted}, or serve it with source: hub to compile your settings into the Neuron cache"), (fix,)))
    return issues
