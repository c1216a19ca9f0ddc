"""Stack values for tests of model sizing and placement, which need a valid platform around them."""

from __future__ import annotations

from typing import Any

from vllm_eks.config.loader import parse_stack_config
from vllm_eks.config.sizing.memory import ModelSizing
from vllm_eks.config.stack import StackConfig
from vllm_eks.config.validation import validate_stack

# A documentation range (RFC 5737): any listed CIDR keeps a stack that creates its own VPC
# reachable, which the endpoint rule requires.
REACHABLE_CLUSTER = {"endpointPublicAccessCidrs": ["198.51.100.0/24"]}


def parse_stack(values: dict[str, Any]) -> StackConfig:
    """`parse_stack_config` with a reachable cluster unless the values configure their own."""
    return parse_stack_config({"cluster": REACHABLE_CLUSTER, **values})


def warnings_of(stack: StackConfig) -> list[str]:
    """Every warning the stack's validation prints, those its acceptedWarnings accept included."""
    validated = validate_stack(stack)
    return [*validated.warnings, *(warning for warning, _ in validated.accepted)]


def sizings_of(stack: StackConfig) -> list[ModelSizing]:
    """Each model's sizing on its node group, in `models` order."""
    return [placed.sizing for placed in validate_stack(stack).placed]
