"""The Kubernetes recommended labels every object of the project carries, stated once.

https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/
"""

from __future__ import annotations

from ..config.units import PROJECT

MANAGED_BY = "pulumi"
"""`app.kubernetes.io/managed-by`: the tool that applies the objects."""


def managed_labels(name: str) -> dict[str, str]:
    """For an object that is its own application (a device plugin, the StorageClass)."""
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": PROJECT, "app.kubernetes.io/managed-by": MANAGED_BY}


def recommended_labels(instance: str, component: str) -> dict[str, str]:
    """For the pieces of a model server: one application (`vllm`), one instance per model or namespace."""
    return {
        "app.kubernetes.io/name": "vllm",
        "app.kubernetes.io/instance": instance,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": PROJECT,
        "app.kubernetes.io/managed-by": MANAGED_BY,
    }
