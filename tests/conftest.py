"""Shared fixtures: stacks rendered once per session through the real program under mocks."""

from __future__ import annotations

from pathlib import Path

import pytest

from vllm_eks.config.loader import load_stack_file
from vllm_eks.preview.engine import Recording
from vllm_eks.preview.render import manifests
from vllm_eks.preview.runner import run_stack

PROJECT_DIR = Path(__file__).resolve().parent.parent


def kubernetes_version(stack: str) -> str:
    """The Kubernetes version the stack's cluster runs; its objects are checked against it."""
    return load_stack_file(PROJECT_DIR / f"Pulumi.{stack}.yaml").cluster.kubernetes_version


def committed_stacks() -> list[str]:
    return sorted(path.name[len("Pulumi."):-len(".yaml")] for path in PROJECT_DIR.glob("Pulumi.*.yaml"))


_RECORDINGS: dict[str, Recording] = {}


def recording_for(stack: str) -> Recording:
    if stack not in _RECORDINGS:
        _RECORDINGS[stack] = run_stack(PROJECT_DIR, stack)
    return _RECORDINGS[stack]


@pytest.fixture(scope="session")
def dev_recording() -> Recording:
    return recording_for("dev")


@pytest.fixture(scope="session")
def dev_objects(dev_recording: Recording) -> dict[tuple[str, str], dict]:
    """Rendered dev objects keyed by (kind, name)."""
    return {(obj["kind"], obj["metadata"]["name"]): obj for obj in manifests(dev_recording)}
