"""What the boot harness knows of the images the stacks run: WORKDIR, files, where it says so.

A container's relative paths (a chat template such as `examples/...jinja`) resolve against its
workingDir or, without one, the image's WORKDIR; the harness needs to know which images hold
which files to say whether the real pod would find them. Only facts with a source are listed.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ImageFacts:
    workdir: str | None
    """The image's WORKDIR, or None where no source establishes it."""
    holds: dict[str, str] = field(default_factory=dict)
    """Directory prefixes the image is known to hold, each with its source."""
    source: str = ""
    path: str | None = None
    """The image's PATH, when known; the runtime default otherwise."""

    def provides(self, path: str) -> str | None:
        for prefix, source in self.holds.items():
            if path.startswith(prefix):
                return source
        return None


_VLLM_DOCKERFILE = "vllm-project/vllm docker/Dockerfile, vllm-base stage: WORKDIR /vllm-workspace; COPY examples examples"

_NEURON_DLC = ("aws-neuron/deep-learning-containers vllm/inference/0.9.1/Dockerfile.neuronx @ 7470987: "
               "WORKDIR /opt/vllm, vLLM editable-installed there (examples/ included)")

IMAGES: dict[str, ImageFacts] = {
    "vllm/vllm-openai": ImageFacts(
        workdir="/vllm-workspace",
        holds={"/vllm-workspace/examples/": _VLLM_DOCKERFILE},
        source=_VLLM_DOCKERFILE,
    ),
    # The workshop images are FROM the 0.9.1 Neuron DLC and add only the HF cache and the compiled
    # graphs (aws-samples/sample-genai-on-eks-starter-kit builder/neuron/Dockerfile.* @ 816491c); the DLC
    # clones vLLM to /opt/vllm, `WORKDIR /opt/vllm`, `pip install -e .`, so examples/ is /opt/vllm/examples
    # (aws-neuron/deep-learning-containers vllm/inference/0.9.1/Dockerfile.neuronx @ 7470987, as read
    # for the Neuron image catalog, config/image_catalog.py on the `neuron` branch).
    "public.ecr.aws/t0h7h1e6/vllm-neuron": ImageFacts(
        workdir="/opt/vllm",
        holds={"/opt/vllm/examples/": _NEURON_DLC},
        source=_NEURON_DLC,
    ),
}

UNKNOWN = ImageFacts(workdir=None, source="an image the harness has no facts for")


def image_repository(image: str) -> str:
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name[: len(name) - len(last)] + last.split(":", 1)[0]
    return name


def image_facts(image: str) -> ImageFacts:
    return IMAGES.get(image_repository(image), UNKNOWN)
