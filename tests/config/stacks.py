"""Stack values for tests of model sizing and placement, which need a valid platform around them."""

from __future__ import annotations

from typing import Any

from config import StackConfig, parse_stack_config

# A documentation range (RFC 5737): any listed CIDR keeps a stack that creates its own VPC
# reachable, which the endpoint rule requires.
REACHABLE_CLUSTER = {"endpointPublicAccessCidrs": ["198.51.100.0/24"]}


def parse_stack(values: dict[str, Any]) -> StackConfig:
    """`parse_stack_config` with a reachable cluster unless the values configure their own."""
    return parse_stack_config({"cluster": REACHABLE_CLUSTER, **values})
