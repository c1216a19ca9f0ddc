"""NeuronDevicePlugin and NvidiaDevicePlugin: make accelerators allocatable on their nodes.

Both are one component parameterized by accelerator kind; what differs is data in
`components/_device_plugin_objects.DEVICE_PLUGINS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from ..config.accelerators import AcceleratorKind
from . import _device_plugin_objects as objects
from ._kubernetes import register_in_apply_order


@dataclass
class DevicePluginArgs:
    provider: k8s.Provider
    """The cluster's Kubernetes provider."""


class DevicePlugin(pulumi.ComponentResource):
    """ServiceAccount, RBAC (when the vendor's plugin calls the API) and the DaemonSet, in kube-system."""

    kind: AcceleratorKind
    daemonset: pulumi.CustomResource

    def __init__(self, type_name: str, kind: AcceleratorKind, resource_name: str, args: DevicePluginArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__(f"vllm-eks:index:{type_name}", resource_name, None, opts)
        self.kind = kind
        registered = register_in_apply_order(
            objects.device_plugin_objects(kind), lambda obj: f"{resource_name}-{obj['kind'].lower()}",
            frozenset({"DaemonSet"}), pulumi.ResourceOptions(parent=self, provider=args.provider),
        )
        self.daemonset = registered[-1]
        self.register_outputs({"daemonset_name": objects.DEVICE_PLUGINS[kind].daemonset_name})


class NeuronDevicePlugin(DevicePlugin):
    """Advertises `aws.amazon.com/neuroncore` and `aws.amazon.com/neuron` on Neuron nodes."""

    def __init__(self, resource_name: str, args: DevicePluginArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("NeuronDevicePlugin", AcceleratorKind.NEURON, resource_name, args, opts)


class NvidiaDevicePlugin(DevicePlugin):
    """Advertises `nvidia.com/gpu` on NVIDIA GPU nodes."""

    def __init__(self, resource_name: str, args: DevicePluginArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("NvidiaDevicePlugin", AcceleratorKind.GPU, resource_name, args, opts)


# Each class takes (resource_name, args, opts); the base class adds its type and kind.
DEVICE_PLUGIN_COMPONENTS: dict[AcceleratorKind, Callable[[str, DevicePluginArgs, pulumi.ResourceOptions | None], DevicePlugin]] = {
    AcceleratorKind.NEURON: NeuronDevicePlugin,
    AcceleratorKind.GPU: NvidiaDevicePlugin,
}
