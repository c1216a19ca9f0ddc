"""The benchmark's synthetic stacks stay valid as the rules grow, so benchmarks/ keeps running."""

from __future__ import annotations

import importlib.util

import pytest

from tests.conftest import PROJECT_DIR
from vllm_eks.config.loader import parse_stack_config

_spec = importlib.util.spec_from_file_location("preview_scaling", PROJECT_DIR / "benchmarks" / "preview_scaling.py")
preview_scaling = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(preview_scaling)


@pytest.mark.parametrize("models", preview_scaling.MODEL_COUNTS)
def test_the_benchmark_stack_of_n_models_validates(models):
    stack = parse_stack_config(preview_scaling.stack_values(models).values)
    assert len(stack.models) == models
