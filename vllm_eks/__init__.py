"""vllm-eks: Pulumi components for self-hosted vLLM serving on EKS (Inferentia2 and NVIDIA GPUs).

The public API, importable from here; `vllm_eks.config` alone imports no Pulumi:

- Components: `VllmModel`/`VllmModelArgs`, `ModelNamespace`/`ModelNamespaceArgs`, `Platform`,
  `build_platform`, `EksCluster`/`EksClusterArgs`, `AcceleratorNodeGroup`/`AcceleratorNodeGroupArgs`,
  `EfsStorage`/`EfsStorageArgs`, `NeuronDevicePlugin`, `NvidiaDevicePlugin`, `DevicePluginArgs`.
- Config: `ModelConfig`, `NodeGroupConfig`, `StackConfig`, `ClusterConfig`, `EfsConfig`, `CacheVolumesConfig`,
  `NetworkPolicyConfig`, `MonitoringConfig`, `AcceleratorKind`, `ModelSource`.
- Validation: `validate_stack`, `validate_stack_config`, `load_stack_file`, `ValidatedStack`, `ConfigError`.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.2.0"

_EXPORTS = {
    "VllmModel": "components.vllm_model", "VllmModelArgs": "components.vllm_model",
    "ModelNamespace": "components.model_namespace", "ModelNamespaceArgs": "components.model_namespace",
    "Platform": "components.platform", "build_platform": "components.platform",
    "EksCluster": "components.eks_cluster", "EksClusterArgs": "components.eks_cluster",
    "AcceleratorNodeGroup": "components.node_group", "AcceleratorNodeGroupArgs": "components.node_group",
    "EfsStorage": "components.efs_storage", "EfsStorageArgs": "components.efs_storage",
    "NeuronDevicePlugin": "components.device_plugins", "NvidiaDevicePlugin": "components.device_plugins",
    "DevicePluginArgs": "components.device_plugins",
    "ModelConfig": "config.model", "ModelSource": "config.model", "NodeGroupConfig": "config.platform.node_groups",
    "StackConfig": "config.stack", "CacheVolumesConfig": "config.stack", "NetworkPolicyConfig": "config.stack",
    "MonitoringConfig": "config.stack", "ClusterConfig": "config.platform.cluster", "EfsConfig": "config.platform.efs",
    "AcceleratorKind": "config.accelerators",
    "validate_stack": "config.validation", "ValidatedStack": "config.validation",
    "validate_stack_config": "config.loader", "load_stack_file": "config.loader", "ConfigError": "config.errors",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Load on first use, so `import vllm_eks.config` stays free of Pulumi."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'vllm_eks' has no attribute {name!r}")
    return getattr(importlib.import_module(f"vllm_eks.{_EXPORTS[name]}"), name)
