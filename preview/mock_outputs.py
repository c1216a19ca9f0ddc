"""Outputs the mock engine returns for resources whose real outputs come from a cloud.

A mocked resource echoes its inputs; this adds the computed outputs components read
(ids, ARNs, kubeconfig), shaped like the real provider's.
"""

from __future__ import annotations

from typing import Any, Callable

_ACCOUNT = "123456789012"
_REGION = "us-west-2"

_OutputsFor = Callable[[str, dict[str, Any]], dict[str, Any]]


def _arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{_REGION}:{_ACCOUNT}:{resource}"


_OUTPUTS: dict[str, _OutputsFor] = {}


def mock_outputs(type_: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """Computed outputs for `type_` (a resource type or invoke token); {} when none are needed."""
    outputs_for = _OUTPUTS.get(type_)
    return outputs_for(name, inputs) if outputs_for else {}
