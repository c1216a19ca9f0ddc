"""A node's root volume against the container images it must hold (`nodeGroups[i].diskSizeGib`).

Where images live on the nodes this project creates (EKS AL2023, managed node groups and Karpenter alike):
- containerd keeps them under /var/lib/containerd on the root volume, with `discard_unpacked_layers = true`, so what
  stays after a pull is each layer unpacked (awslabs/amazon-eks-ami nodeadm/internal/containerd/config.template.toml
  @ 81fec2e8);
- the kubelet's image garbage collector starts deleting unused images above `imageGCHighThresholdPercent`, default 85
  (k8s.io/kubelet config/v1beta1/types.go, kubernetes/kubelet @ 63b3249; nodeadm does not set it): a model's image
  that is not running at that moment is pulled again, for minutes, on its next start;
- nodeadm's kubelet config sets `evictionHard` `nodefs.available: 10%` (nodeadm/internal/kubelet/config.go
  @ 81fec2e8): with less free, the node reports DiskPressure, is tainted against new pods and evicts running ones.

So a node whose one model pod's images pass 90% of the volume cannot run it (an error), and a group whose images
together pass 85% keeps deleting and pulling them again (a warning). Sizes are estimates: config/startup.py's
IMAGE_BYTES (compressed, as the registry lists them) times UNPACK_RATIO, and an image-served model's checkpoint at
its own size. Not counted: the AMI's own files, logs, and DaemonSet images other than the device plugin's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ..accelerators import ACCELERATORS
from ..errors import ConfigIssue, Fix
from ..model import ModelConfig, ModelSource
from ..platform.node_groups import NodeGroupConfig
from ..startup import DEFAULT_IMAGE_BYTES, IMAGE_BYTES, image_repository, model_startup
from ..units import GB, GIB
from .records import PlacedModel

UNPACK_RATIO = 3.3
"""Unpacked bytes on disk per compressed byte of an image's software layers. Measured on the kind of content these
images hold: the vLLM 0.32.0 CPU environment's site-packages (.venv-boot, torch and its native libraries) is
4,671,624,020 bytes (`du -sb`) and 1,422,143,511 bytes through `tar cf - | gzip -6` (gzip is the layer compression
registries serve): 3.28. An estimate for CUDA and Neuron libraries; a checkpoint's weights barely compress and are
counted at their size."""
GC_HIGH_THRESHOLD = 0.85
"""imageGCHighThresholdPercent's default (kubelet config v1beta1)."""
EVICTION_FREE = 0.10
"""nodeadm's evictionHard nodefs.available."""
SIZE_STEP_GIB = 10


def _software_bytes(image: str) -> float:
    return IMAGE_BYTES.get(image_repository(image), DEFAULT_IMAGE_BYTES) * UNPACK_RATIO


def _baked_checkpoint(model: ModelConfig) -> float:
    return model_startup(model).checkpoint_bytes if model.source is ModelSource.IMAGE else 0.0


def _device_plugin_bytes(group: NodeGroupConfig) -> float:
    if group.accelerator is None:
        return 0.0
    return IMAGE_BYTES.get(ACCELERATORS[group.accelerator].device_plugin_repository, 0) * UNPACK_RATIO


def _gb(value: float) -> str:
    return f"{value / GIB:.1f} GiB"


def _pod_images(placed: PlacedModel) -> tuple[float, str]:
    """What one pod of the model needs on its node, and how that is made up."""
    model = placed.model
    software, baked = _software_bytes(model.image), _baked_checkpoint(model)
    plugin = _device_plugin_bytes(placed.group)
    compressed = IMAGE_BYTES.get(image_repository(model.image), DEFAULT_IMAGE_BYTES)
    text = f"{model.image} {compressed / GB:g} GB compressed x {UNPACK_RATIO:g} unpacked = {_gb(software)}"
    if baked:
        text += f", + its {_gb(baked)} checkpoint (source: image)"
    if plugin:
        text += f", + the device plugin's {_gb(plugin)}"
    return software + baked + plugin, text


def _group_images(group: NodeGroupConfig, models: Sequence[PlacedModel]) -> float:
    """Every image the group's models run, each repository's software layers once (tags of one repository share
    their base), each image-served checkpoint once, and the device plugin."""
    software: dict[str, float] = {}
    baked: dict[str, float] = {}
    for placed in models:
        software[image_repository(placed.model.image)] = _software_bytes(placed.model.image)
        baked[placed.model.image] = max(baked.get(placed.model.image, 0.0), _baked_checkpoint(placed.model))
    return sum(software.values()) + sum(baked.values()) + _device_plugin_bytes(group)


def _fitting_size(total: float) -> int:
    """The root volume, in whole tens of GiB, that keeps `total` under the garbage collector's threshold."""
    return math.ceil(total / GC_HIGH_THRESHOLD / GIB / SIZE_STEP_GIB) * SIZE_STEP_GIB


@dataclass(frozen=True)
class _GroupDisk:
    """One node group's root volume against its models' images."""

    index: int
    group: NodeGroupConfig
    models: list[PlacedModel]
    eviction_line: float
    """Bytes the kubelet lets the volume fill before DiskPressure."""
    pod_need: tuple[float, str]
    """The largest one pod's images: bytes and the sum that makes them."""
    pod: PlacedModel
    total: float
    """Every image the group's models (and the device plugin) run, unpacked."""

    @property
    def one_pod_fits(self) -> bool:
        return self.pod_need[0] <= self.eviction_line


def _group_disks(placed_models: Sequence[PlacedModel]) -> list[_GroupDisk]:
    groups: dict[int, list[PlacedModel]] = {}
    for placed in placed_models:
        groups.setdefault(placed.group_index, []).append(placed)
    disks = []
    for index, models in sorted(groups.items()):
        group = models[0].group
        need, pod = max(((_pod_images(placed), placed) for placed in models), key=lambda found: found[0][0])
        disks.append(_GroupDisk(index, group, models, group.disk_size_gib * GIB * (1 - EVICTION_FREE), need, pod,
                                _group_images(group, models)))
    return disks


def disk_issues(placed_models: Sequence[PlacedModel]) -> list[ConfigIssue]:
    """A group whose root volume cannot hold one pod's images below the kubelet's eviction line."""
    issues = []
    for disk in _group_disks(placed_models):
        if disk.one_pod_fits:
            continue
        index, group = disk.index, disk.group
        size = _fitting_size(disk.total)
        issues.append(ConfigIssue(f"nodeGroups[{index}].diskSizeGib", (
            f"nodeGroups[{index}] {group.name}: a {group.disk_size_gib} GiB root volume cannot hold the images "
            f"{disk.pod.label} needs on its node: {disk.pod_need[1]} = {_gb(disk.pod_need[0])}, past the "
            f"{_gb(disk.eviction_line)} the kubelet lets the volume fill before it reports DiskPressure and "
            f"evicts pods (nodeadm's evictionHard nodefs.available 10%), so the pod never starts; raise diskSizeGib "
            f"to {size} (what the group's images take, below the image garbage collector's 85%)"),
            (Fix(f"nodeGroups[{index}].diskSizeGib", size),)))
    return issues


def disk_warnings(placed_models: Sequence[PlacedModel]) -> list[str]:
    """A group whose images together pass the kubelet's image garbage-collection threshold."""
    warnings = []
    for disk in _group_disks(placed_models):
        index, group = disk.index, disk.group
        threshold = group.disk_size_gib * GIB * GC_HIGH_THRESHOLD
        if disk.total <= threshold or not disk.one_pod_fits:
            continue  # fits, or an error says so
        images = sorted({placed.model.image for placed in disk.models})
        warnings.append(
            f"nodeGroups[{index}].diskSizeGib: nodeGroups[{index}] {group.name}: the images its models run "
            f"({', '.join(images)}, with the device plugin's) take ~{_gb(disk.total)} unpacked, past 85% of the "
            f"{group.disk_size_gib} GiB root volume ({_gb(threshold)}), where the kubelet's image "
            f"garbage collector deletes images no pod is running (imageGCHighThresholdPercent 85), so a node that "
            f"runs another of these models next pulls its image again; raise diskSizeGib to {_fitting_size(disk.total)}")
    return warnings
