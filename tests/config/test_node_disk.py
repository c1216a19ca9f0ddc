"""A node's root volume against the images it must hold (config/placement/disk.py, issue 22): an error where one
pod's images pass the kubelet's eviction line, a warning where the group's images pass the image garbage
collector's threshold, each with the size that fits."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

from tests.config.stacks import warnings_of
from tests.conftest import PROJECT_DIR
from vllm_eks.components._device_plugin_objects import DEVICE_PLUGINS
from vllm_eks.config.accelerators import ACCELERATORS
from vllm_eks.config.loader import load_stack_file
from vllm_eks.config.startup import IMAGE_BYTES, image_repository

DEV = yaml.safe_load((PROJECT_DIR / "Pulumi.dev.yaml").read_text())


def _disk_warnings(size: int, folder: Path) -> list[str]:
    document = copy.deepcopy(DEV)
    document["config"]["vllm-eks:nodeGroups"][0]["diskSizeGib"] = size
    path = folder / "Pulumi.disk.yaml"
    path.write_text(yaml.safe_dump(document))
    return [w for w in warnings_of(load_stack_file(path)) if w.startswith("nodeGroups[0].diskSizeGib")]


def test_the_device_plugin_images_counted_are_the_ones_the_daemonsets_run():
    repositories = {kind: traits.device_plugin_repository for kind, traits in ACCELERATORS.items()}
    assert {kind: image_repository(spec.image) for kind, spec in DEVICE_PLUGINS.items()} == repositories
    assert set(repositories.values()) <= set(IMAGE_BYTES)


def test_two_image_served_models_past_the_garbage_collector_s_threshold_are_a_warning_with_the_size_that_fits(tmp_path):
    assert _disk_warnings(40, tmp_path) == [
        "nodeGroups[0].diskSizeGib: nodeGroups[0] inf2: the images its models run "
        "(public.ecr.aws/t0h7h1e6/vllm-neuron:llama-3-1-8b-int8, public.ecr.aws/t0h7h1e6/vllm-neuron:qwen3-8b, with "
        "the device plugin's) take ~49.0 GiB unpacked, past 85% of the 40 GiB root volume (34.0 GiB), where the "
        "kubelet's image garbage collector deletes images no pod is running (imageGCHighThresholdPercent 85), so a "
        "node that runs another of these models next pulls its image again; raise diskSizeGib to 60"]
    assert _disk_warnings(60, tmp_path) == []


def test_the_committed_stacks_root_volumes_hold_their_images():
    for stack in ("dev", "prod"):
        assert not [w for w in warnings_of(load_stack_file(PROJECT_DIR / f"Pulumi.{stack}.yaml")) if "diskSizeGib" in w]
