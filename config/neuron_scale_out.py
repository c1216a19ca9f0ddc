"""Neuron models scale out only onto compiled graphs.

A Neuron replica serves from graphs neuronx-cc compiled for its exact shapes. A new replica finds them in one of
two places: the namespace's Neuron cache, which a compile Job fills once before the Deployment for a hub model
with more than one replica or an autoscaler (components/_compile_job_objects.py, NEURON_COMPILED_ARTIFACTS on the
neuron-cache claim), or the image, which carries them at the path NEURON_COMPILED_ARTIFACTS names
(config/image_catalog.py lists the images known to). Anywhere else, vLLM's NxD Inference loader compiles into
`local-models/...` relative to the working directory (upstreaming-to-vllm vllm/model_executor/model_loader/
neuronx_distributed.py `load_weights` @ dd417b31), an emptyDir of that pod: every new replica compiles again,
for minutes per billion parameters, while the queue that asked for it waits.
"""

from __future__ import annotations

from .accelerators import ACCELERATORS
from .autoscaling import replica_bounds
from .errors import ConfigIssue, Fix
from .image_catalog import image_reference, neuron_image
from .model import ModelConfig, ModelSource


def compile_job_fills_cache(model: ModelConfig) -> bool:
    """A hub model whose first start would race other replicas, or whose later replicas an autoscaler starts:
    a Job compiles the graphs into the Neuron cache before the Deployment (components/_compile_job_objects.py)."""
    return (model.has_compile_cache and model.source is ModelSource.HUB
            and (replica_bounds(model)[1] > 1 or model.autoscaling is not None))


def image_carries_graphs(model: ModelConfig) -> bool:
    """An image-served model whose image is known to hold its graphs, or whose env names where the image does."""
    facts = neuron_image(model.image)
    known = facts is not None and facts.compiled is not None
    return model.source is ModelSource.IMAGE and (known or "NEURON_COMPILED_ARTIFACTS" in model.env)


def compiled_scale_out_issues(index: int, model: ModelConfig) -> list[ConfigIssue]:
    """An autoscaled model on a compiling backend whose new replicas would find no compiled graphs."""
    if model.autoscaling is None or not model.has_compile_cache:
        return []
    if compile_job_fills_cache(model) or image_carries_graphs(model):
        return []
    traits = ACCELERATORS[model.accelerator]
    path = f"models[{index}].autoscaling"
    return [ConfigIssue(path, (
        f"{model.name} is autoscaled on {traits.backend_name}, but {image_reference(model.image)} is not known to carry "
        f"compiled graphs (config/image_catalog.py) and env.NEURON_COMPILED_ARTIFACTS names none, so every new replica "
        f"compiles its graphs with neuronx-cc in its own scratch directory before it serves (an estimated "
        f"{traits.hub_compile_seconds_per_billion_parameters // 60} minutes per billion parameters) while the queue "
        f"that asked for it waits; serve it with source: hub (a compile Job fills the namespace's Neuron cache once, "
        f"before the Deployment), set env.NEURON_COMPILED_ARTIFACTS to where the image holds its graphs, or remove "
        f"autoscaling for a fixed replica count"), (Fix(path, remove=True),))]
