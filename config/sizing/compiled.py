"""Image-served Neuron models are sized from the graphs their image holds, not from the override the
stack passes: with NEURON_COMPILED_ARTIFACTS present, vLLM's NxD loader builds the model from the
artifacts' own neuron config and copies it over vLLM's (upstreaming-to-vllm
`vllm/model_executor/model_loader/neuronx_distributed.py` `load_weights` @ dd417b31), so an
`--override-neuron-config` the graphs were not compiled with changes nothing in memory. The compiled
dtype is recorded per image in config/image_catalog.py (CompiledGraphs.dtype, docs/neuron-images.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..model_catalog import DTYPE_BYTES

if TYPE_CHECKING:
    from ..model import ModelConfig


def compiled_dtype(model: ModelConfig) -> tuple[str, float, str] | None:
    """(label, bytes per element, source) of the graphs an image-served model runs, for its weights and KV
    cache; None when it is not image-served or the image catalog does not know its graphs."""
    from ..image_catalog import image_reference, neuron_image
    from ..model import ModelSource

    facts = neuron_image(model.image)
    if model.source is not ModelSource.IMAGE or facts is None or facts.compiled is None:
        return None
    dtype = facts.compiled.dtype
    label = {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32"}.get(dtype, dtype)
    return (label, DTYPE_BYTES.get(dtype, 2),
            f"graphs compiled at {dtype} in {image_reference(model.image)} (config/image_catalog.py)")
