"""vllm-eks: Pulumi components for self-hosted vLLM serving on EKS (Inferentia2 and NVIDIA GPUs).

The public API, importable from here; `vllm_eks.config` alone imports no Pulumi:

- Components: `VllmModel`/`VllmModelArgs`, `ModelNamespace`/`ModelNamespaceArgs`, `Platform`,
  `build_platform`, `EksCluster`/`EksClusterArgs`, `AcceleratorNodeGroup`/`AcceleratorNodeGroupArgs`,
  `EfsStorage`/`EfsStorageArgs`, `NeuronDevicePlugin`, `NvidiaDevicePlugin`, `DevicePluginArgs`,
  `Gateway`/`GatewayArgs`, `OpenWebUi`/`OpenWebUiArgs`, `Exposure`/`ExposureArgs`.
- Config: `ModelConfig`, `NodeGroupConfig`, `StackConfig`, `ClusterConfig`, `EfsConfig`, `CacheVolumesConfig`,
  `NetworkPolicyConfig`, `MonitoringConfig`, `GatewayConfig`, `GatewayTeamConfig`, `OpenWebUiConfig`,
  `ExposureConfig`, `AcceleratorKind`, `ModelSource`.
- Validation: `validate_stack`, `validate_stack_config`, `load_stack_file`, `ValidatedStack`, `ConfigError`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

if TYPE_CHECKING:
    # What __getattr__ loads, spelled out for type checkers and IDEs; vllm_eks/config, components and
    # preview are links to the top-level folders, so each of these is a path too.
    from .components.device_plugins import DevicePluginArgs as DevicePluginArgs
    from .components.device_plugins import NeuronDevicePlugin as NeuronDevicePlugin
    from .components.device_plugins import NvidiaDevicePlugin as NvidiaDevicePlugin
    from .components.efs_storage import EfsStorage as EfsStorage
    from .components.efs_storage import EfsStorageArgs as EfsStorageArgs
    from .components.eks_cluster import EksCluster as EksCluster
    from .components.eks_cluster import EksClusterArgs as EksClusterArgs
    from .components.exposure import Exposure as Exposure
    from .components.exposure import ExposureArgs as ExposureArgs
    from .components.gateway import Gateway as Gateway
    from .components.gateway import GatewayArgs as GatewayArgs
    from .components.model_namespace import ModelNamespace as ModelNamespace
    from .components.model_namespace import ModelNamespaceArgs as ModelNamespaceArgs
    from .components.node_group import AcceleratorNodeGroup as AcceleratorNodeGroup
    from .components.node_group import AcceleratorNodeGroupArgs as AcceleratorNodeGroupArgs
    from .components.open_webui import OpenWebUi as OpenWebUi
    from .components.open_webui import OpenWebUiArgs as OpenWebUiArgs
    from .components.platform import Platform as Platform
    from .components.platform import build_platform as build_platform
    from .components.vllm_model import VllmModel as VllmModel
    from .components.vllm_model import VllmModelArgs as VllmModelArgs
    from .config.accelerators import AcceleratorKind as AcceleratorKind
    from .config.errors import ConfigError as ConfigError
    from .config.gateway import ExposureConfig as ExposureConfig
    from .config.gateway import GatewayConfig as GatewayConfig
    from .config.gateway import GatewayTeamConfig as GatewayTeamConfig
    from .config.gateway import OpenWebUiConfig as OpenWebUiConfig
    from .config.loader import load_stack_file as load_stack_file
    from .config.loader import validate_stack_config as validate_stack_config
    from .config.model import ModelConfig as ModelConfig
    from .config.model import ModelSource as ModelSource
    from .config.platform.cluster import ClusterConfig as ClusterConfig
    from .config.platform.efs import EfsConfig as EfsConfig
    from .config.platform.node_groups import NodeGroupConfig as NodeGroupConfig
    from .config.stack import CacheVolumesConfig as CacheVolumesConfig
    from .config.stack import MonitoringConfig as MonitoringConfig
    from .config.stack import NetworkPolicyConfig as NetworkPolicyConfig
    from .config.stack import StackConfig as StackConfig
    from .config.validation import ValidatedStack as ValidatedStack
    from .config.validation import validate_stack as validate_stack


_EXPORTS = {
    "VllmModel": "components.vllm_model", "VllmModelArgs": "components.vllm_model",
    "ModelNamespace": "components.model_namespace", "ModelNamespaceArgs": "components.model_namespace",
    "Platform": "components.platform", "build_platform": "components.platform",
    "EksCluster": "components.eks_cluster", "EksClusterArgs": "components.eks_cluster",
    "AcceleratorNodeGroup": "components.node_group", "AcceleratorNodeGroupArgs": "components.node_group",
    "EfsStorage": "components.efs_storage", "EfsStorageArgs": "components.efs_storage",
    "NeuronDevicePlugin": "components.device_plugins", "NvidiaDevicePlugin": "components.device_plugins",
    "DevicePluginArgs": "components.device_plugins",
    "Gateway": "components.gateway", "GatewayArgs": "components.gateway",
    "OpenWebUi": "components.open_webui", "OpenWebUiArgs": "components.open_webui",
    "Exposure": "components.exposure", "ExposureArgs": "components.exposure",
    "GatewayConfig": "config.gateway", "GatewayTeamConfig": "config.gateway", "OpenWebUiConfig": "config.gateway",
    "ExposureConfig": "config.gateway",
    "ModelConfig": "config.model", "ModelSource": "config.model", "NodeGroupConfig": "config.platform.node_groups",
    "StackConfig": "config.stack", "CacheVolumesConfig": "config.stack", "NetworkPolicyConfig": "config.stack",
    "MonitoringConfig": "config.stack", "ClusterConfig": "config.platform.cluster", "EfsConfig": "config.platform.efs",
    "AcceleratorKind": "config.accelerators",
    "validate_stack": "config.validation", "ValidatedStack": "config.validation",
    "validate_stack_config": "config.loader", "load_stack_file": "config.loader", "ConfigError": "config.errors",
}
__all__ = sorted(_EXPORTS)  # noqa: PLE0605 (the TYPE_CHECKING block names them for static tools)


def __getattr__(name: str) -> Any:
    """Load on first use, so `import vllm_eks.config` stays free of Pulumi."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'vllm_eks' has no attribute {name!r}")
    return getattr(importlib.import_module(f"vllm_eks.{_EXPORTS[name]}"), name)
