"""The security baseline every container and pod of the project gets, stated once.

What is left out, where a workload needs it, is listed with its reason in _scanner_exceptions.py.
"""

from __future__ import annotations

from typing import Any

POD_SECURITY_CONTEXT: dict[str, Any] = {"seccompProfile": {"type": "RuntimeDefault"}}


def container_security_context(read_only_root_filesystem: bool = True) -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": read_only_root_filesystem,
        # ALL includes the workshop's NET_RAW; neither vLLM nor the device plugins need a capability.
        "capabilities": {"drop": ["ALL"]},
        # The vendors' device plugins leave seccomp unset; they only use gRPC over a hostPath
        # socket, which the runtime's default profile allows, as it does everything vLLM calls.
        "seccompProfile": {"type": "RuntimeDefault"},
    }
