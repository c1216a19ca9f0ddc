"""Other instances and degrees a fix can suggest, searched in the instance catalog."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ..accelerators import AcceleratorKind
from ..errors import Fix
from ..instance_catalog import INSTANCE_TYPES, InstanceSpec
from ..sizing.memory import size_model
from ..sizing.sharding import candidate_degrees
from .records import PlacedModel, unit_name

T = TypeVar("T")


def same_kind_instances(kind: AcceleratorKind | None, family: str = "") -> list[InstanceSpec]:
    """Instances with this accelerator, the given family first, then smallest first."""
    specs = [spec for spec in INSTANCE_TYPES.values() if spec.accelerator is kind]
    return sorted(specs, key=lambda s: (s.family != family, s.schedulable_accelerators, s.accelerator_memory_bytes,
                                        s.vcpu, s.memory_gib))


def first_larger(placed: PlacedModel, accept: Callable[[InstanceSpec, int], T | None]) -> T | None:
    """The best of the larger configurations `accept` takes: on each instance with this accelerator,
    the smallest tensor-parallel degree (above the current one on the current instance) for which
    `accept(spec, degree)` returns the fix's text; ranked this instance first, then this family,
    then the fewest and smallest devices."""
    model, arch, traits = placed.model, placed.sizing.architecture, placed.traits
    assert arch is not None
    current, pp = placed.spec, model.pipeline_parallel_size
    fitting: list[tuple[tuple[bool, bool, int, int, int, int], T]] = []
    for spec in same_kind_instances(model.accelerator, current.family):
        limit = spec.schedulable_accelerators // pp
        for tp in candidate_degrees(traits.head_sharding, arch.attention_heads, arch.kv_heads, limit):
            if spec.name == current.name and tp <= model.tensor_parallel_size:
                continue
            found = accept(spec, tp)
            if found is None:
                continue
            rank = (spec.name != current.name, spec.family != current.family, tp,
                    spec.schedulable_accelerators, spec.accelerator_memory_bytes, spec.vcpu)
            fitting.append((rank, found))
            break
    return min(fitting, key=lambda pair: pair[0])[1] if fitting else None


def change_text(placed: PlacedModel, spec: InstanceSpec, tp: int, also: str = "", outcome: str = "") -> str:
    """`raise tensorParallelSize to 4 (g6e.12xlarge has 4 GPUs)` or `use p5.48xlarge with tensorParallelSize 2`."""
    if spec.name == placed.spec.name:
        detail = f"{spec.name} has {spec.schedulable_accelerators} {unit_name(placed.traits)}"
        return f"raise tensorParallelSize to {tp}{also} ({detail}{f'; {outcome}' if outcome else ''})"
    return f"use {spec.name} with tensorParallelSize {tp}{also}" + (f" ({outcome})" if outcome else "")


def change_fixes(placed: PlacedModel, spec: InstanceSpec, tp: int) -> tuple[Fix, ...]:
    """`change_text`'s change as data: the degree, and the node group's instance type where it is another."""
    degree = Fix(f"{placed.path}.tensorParallelSize", tp)
    return (degree,) if spec.name == placed.spec.name else (degree, Fix(f"{placed.group_path}.instanceType", spec.name))


def larger_configuration(placed: PlacedModel) -> tuple[str, tuple[Fix, ...]] | None:
    """The smallest change that fits: a larger degree on this instance, else the same family, else
    the fewest devices of any instance with this accelerator."""
    def accept(spec: InstanceSpec, tp: int) -> tuple[str, tuple[Fix, ...]] | None:
        candidate = size_model(placed.model, placed.sizing.index, spec, tp)
        # Where KV is paged, ask for room for a second full-length sequence, so the fix does not
        # land on a warning.
        if candidate.fits and (candidate.reserves_all_sequences or candidate.full_sequences >= 2):
            return change_text(placed, spec, tp), change_fixes(placed, spec, tp)
        return None
    return first_larger(placed, accept)
