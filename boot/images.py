"""What the boot harness knows of the images the stacks run: WORKDIR, files, where it says so.

A container's relative paths (a chat template such as `examples/...jinja`) resolve against its
workingDir or, without one, the image's WORKDIR; the harness needs to know which images hold
which files to say whether the real pod would find them. Only facts with a source are listed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional


@dataclass(frozen=True)
class ImageFacts:
    workdir: Optional[str]
    """The image's WORKDIR, or None where no source establishes it."""
    holds: dict[str, str] = field(default_factory=dict)
    """Directory prefixes the image is known to hold, each with its source."""
    source: str = ""
    path: Optional[str] = None
    """The image's PATH, when known; the runtime default otherwise."""

    def provides(self, path: str) -> Optional[str]:
        for prefix, source in self.holds.items():
            if path.startswith(prefix):
                return source
        return None


_VLLM_DOCKERFILE = "vllm-project/vllm docker/Dockerfile, vllm-base stage: WORKDIR /vllm-workspace; COPY examples examples"

IMAGES: dict[str, ImageFacts] = {
    "vllm/vllm-openai": ImageFacts(
        workdir="/vllm-workspace",
        holds={"/vllm-workspace/examples/": _VLLM_DOCKERFILE},
        source=_VLLM_DOCKERFILE,
    ),
    # The workshop images (aws-samples/sample-genai-on-eks-starter-kit builder/neuron/Dockerfile.*)
    # are FROM public.ecr.aws/neuron/pytorch-inference-vllm-neuronx:0.9.1-neuronx-py311-sdk2.26.0-ubuntu22.04
    # and add only the HF cache and the compiled graphs; the base's WORKDIR and whether it holds
    # vLLM's examples/ are not established by any source read for this harness.
    "public.ecr.aws/t0h7h1e6/vllm-neuron": ImageFacts(
        workdir=None,
        source="starter kit builder/neuron/Dockerfile.*: FROM pytorch-inference-vllm-neuronx:0.9.1 (DLC), "
               "adds the HF cache and Neuron graphs only; its WORKDIR and examples/ are unverified",
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
