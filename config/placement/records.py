"""The record placement works on: one model with the node group it targets, sized once."""

from __future__ import annotations

from dataclasses import dataclass

from ..accelerators import ACCELERATORS, AcceleratorTraits
from ..image_catalog import as_compiled
from ..instance_catalog import InstanceSpec
from ..model import ModelConfig, ModelSource
from ..platform.node_groups import NodeGroupConfig
from ..sizing.memory import ModelSizing, size_model

RECOMPILE_NOTE = (
    "its graphs are baked into the image, compiled for this tensorParallelSize, maxNumSeqs and maxModelLen, "
    "so changing any of them here is not a quick fix: it means recompiling (serve it with source: hub to "
    "compile into the Neuron cache on first start, or build a new image)"
)


@dataclass(frozen=True)
class PlacedModel:
    """A model whose node group exists and offers its accelerator (others already have an error)."""

    index: int
    """Position in `models`."""
    model: ModelConfig
    group: NodeGroupConfig
    group_index: int
    """Position in `nodeGroups`."""
    sizing: ModelSizing
    """The model sized on the group's instance at its own tensor-parallel size."""

    @property
    def path(self) -> str:
        return f"models[{self.index}]"

    @property
    def group_path(self) -> str:
        return f"nodeGroups[{self.group_index}]"

    @property
    def label(self) -> str:
        return f"models[{self.index}] {self.model.name}"

    @property
    def spec(self) -> InstanceSpec:
        return self.group.instance

    @property
    def traits(self) -> AcceleratorTraits:
        return ACCELERATORS[self.model.accelerator]

    @property
    def compiled_into_image(self) -> bool:
        """Graphs baked into the image fix tensorParallelSize, maxNumSeqs and maxModelLen."""
        return self.traits.has_compile_cache and self.model.source is ModelSource.IMAGE


def place(index: int, model: ModelConfig, group: NodeGroupConfig, group_index: int) -> PlacedModel:
    """The model placed as its image's graphs run it (as_compiled): where its settings differ from them, the image
    check's error is the one error, and placement judges what its fix leaves."""
    model = as_compiled(model)
    return PlacedModel(index, model, group, group_index, size_model(model, index, group.instance))


def unit_name(traits: AcceleratorTraits, count: int = 2) -> str:
    """`NeuronCore`, `GPUs`: the schedulable unit, singular for one."""
    return traits.unit_name if count == 1 else traits.unit_name + "s"
