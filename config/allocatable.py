"""What a node leaves for pods: EKS's kubelet reservations applied to the instance catalog.

Source: awslabs/amazon-eks-ami, nodeadm (the AL2023 bootstrap that EKS managed node groups
run), file nodeadm/internal/kubelet/config.go at commit 81fec2e8:
- kubeReserved cpu: 6% of the first core, 1% of the second, 0.5% of cores 3-4 and 0.25% of
  every core above 4 (`getCPUMillicoresToReserve`);
- kubeReserved memory: 11 MiB x maxPods + 255 MiB (`getMemoryMebibytesToReserve`), where
  maxPods is nodeadm's own figure: ENIs x (IPv4 addresses per ENI - 1) + 2
  (`calculateStandardMaxPods` in eni_max_pods.go), from the ENI figures in
  nodeadm/internal/kubelet/instance-info.jsonl; 110 (the kubelet default nodeadm falls back
  to) for a type it does not list;
- evictionHard memory.available: 100Mi; no systemReserved is set.

The node's actual pod limit is lower on large types: EKS managed node groups (without a custom
AMI) put maxPods = 110 for instance types with fewer than 30 vCPUs and 250 otherwise into the
user data, which takes precedence over nodeadm's figure. Source: Amazon EKS User Guide, "Choose
an optimal Amazon EC2 node instance type", section "How maxPods is determined"
(https://docs.aws.amazon.com/eks/latest/userguide/choosing-instance-type.html#max-pods-precedence).
nodeadm writes that user-data value as a kubelet drop-in file but computes kubeReserved from its
own, uncapped figure (`withDefaultReservedResources`; awslabs/amazon-eks-ami#1698 and #2580), so
the reservation below keeps the ENI figure while `max_pods` applies the cap.

Allocatable is computed from the catalog's memory (the sticker). The kernel reports a few
percent less than that as node capacity, so a request that lands within a few hundred MiB of
this figure can still stay Pending; docs/sizing.md says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from .instance_catalog import INSTANCE_TYPES, InstanceSpec
from .types import parse_quantity
from .units import GIB, MIB

EVICTION_HARD_MEMORY_BYTES = 100 * MIB
DEFAULT_MAX_PODS = 110
# Managed node groups' maxPods cap: 110 below 30 vCPUs, 250 from 30 vCPUs up (EKS User Guide,
# "How maxPods is determined").
MANAGED_NODE_GROUP_MAX_PODS_SMALL = 110
MANAGED_NODE_GROUP_MAX_PODS_LARGE = 250
MANAGED_NODE_GROUP_LARGE_VCPUS = 30

# instance type -> (default ENIs, IPv4 addresses per ENI), from nodeadm's instance-info.jsonl.
ENI_LIMITS: dict[str, tuple[int, int]] = {
    "inf2.xlarge": (4, 15), "inf2.8xlarge": (8, 30), "inf2.24xlarge": (15, 50), "inf2.48xlarge": (15, 50),
    "trn1.2xlarge": (4, 15), "trn1.32xlarge": (5, 50), "trn1n.32xlarge": (5, 50),
    "g5.xlarge": (4, 15), "g5.2xlarge": (4, 15), "g5.4xlarge": (8, 30), "g5.8xlarge": (8, 30),
    "g5.12xlarge": (15, 50), "g5.16xlarge": (8, 30), "g5.24xlarge": (15, 50), "g5.48xlarge": (7, 50),
    "g6.xlarge": (4, 15), "g6.2xlarge": (4, 15), "g6.4xlarge": (8, 30), "g6.8xlarge": (8, 30),
    "g6.12xlarge": (8, 30), "g6.16xlarge": (15, 50), "g6.24xlarge": (15, 50), "g6.48xlarge": (15, 50),
    "g6e.xlarge": (4, 15), "g6e.2xlarge": (4, 15), "g6e.4xlarge": (8, 30), "g6e.8xlarge": (8, 30),
    "g6e.12xlarge": (10, 30), "g6e.16xlarge": (15, 50), "g6e.24xlarge": (10, 50), "g6e.48xlarge": (10, 50),
    "p4d.24xlarge": (15, 50), "p4de.24xlarge": (15, 50),
    "p5.48xlarge": (2, 50), "p5e.48xlarge": (2, 50), "p5en.48xlarge": (4, 50),
    "t3.large": (3, 12), "t3.xlarge": (4, 15),
    "m5.large": (3, 10), "m5.xlarge": (4, 15), "m5.2xlarge": (4, 15),
    "m6i.large": (3, 10), "m6i.xlarge": (4, 15), "m6i.2xlarge": (4, 15),
    "m7i.large": (3, 10), "m7i.xlarge": (4, 15), "m7i.2xlarge": (4, 15),
}


def eni_max_pods(instance_type: str) -> int:
    """nodeadm's figure: what the VPC CNI can address, and what kubeReserved memory is sized for."""
    limits = ENI_LIMITS.get(instance_type)
    if limits is None:
        return DEFAULT_MAX_PODS
    enis, ips_per_eni = limits
    return enis * (ips_per_eni - 1) + 2


def managed_node_group_max_pods_cap(vcpu: int) -> int:
    return MANAGED_NODE_GROUP_MAX_PODS_SMALL if vcpu < MANAGED_NODE_GROUP_LARGE_VCPUS else MANAGED_NODE_GROUP_MAX_PODS_LARGE


def max_pods(instance_type: str) -> int:
    """Pods a managed node group's node accepts: the ENI figure, capped by the managed node group."""
    spec = INSTANCE_TYPES.get(instance_type)
    eni = eni_max_pods(instance_type)
    return eni if spec is None else min(eni, managed_node_group_max_pods_cap(spec.vcpu))


def kube_reserved_cpu_millicores(vcpu: int) -> int:
    total = vcpu * 1000
    reserved = 0
    for start, end, basis_points in ((0, 1000, 600), (1000, 2000, 100), (2000, 4000, 50), (4000, total, 25)):
        if total > start:
            reserved += (min(total, end) - start) * basis_points // 10000
    return reserved


def kube_reserved_memory_bytes(pods: int) -> int:
    return (11 * pods + 255) * MIB


@dataclass(frozen=True)
class Allocatable:
    instance_type: str
    cpu_millicores: int
    memory_bytes: int
    max_pods: int
    """The node's pod limit (after the managed node group cap)."""
    reserved_for_pods: int
    """The pod count kube-reserved memory is sized for (nodeadm's uncapped ENI figure)."""
    reserved_cpu_millicores: int
    reserved_memory_bytes: int

    def explain_memory(self, capacity_gib: int) -> str:
        cap = "" if self.reserved_for_pods == self.max_pods else (
            f"; nodeadm sizes this for the ENI limit although the node group caps pods at {self.max_pods}")
        return (f"{capacity_gib} GiB - {self.reserved_memory_bytes // MIB} MiB kube-reserved "
                f"(11 MiB x {self.reserved_for_pods} max pods + 255 MiB{cap}) - 100 MiB eviction threshold")

    def explain_cpu(self, vcpu: int) -> str:
        return f"{vcpu} vCPU - {self.reserved_cpu_millicores}m kube-reserved"


def node_allocatable(spec: InstanceSpec) -> Allocatable:
    reserved_for_pods = eni_max_pods(spec.name)
    reserved_cpu = kube_reserved_cpu_millicores(spec.vcpu)
    reserved_memory = kube_reserved_memory_bytes(reserved_for_pods)
    return Allocatable(
        instance_type=spec.name,
        cpu_millicores=spec.vcpu * 1000 - reserved_cpu,
        memory_bytes=spec.memory_gib * GIB - reserved_memory - EVICTION_HARD_MEMORY_BYTES,
        max_pods=min(reserved_for_pods, managed_node_group_max_pods_cap(spec.vcpu)),
        reserved_for_pods=reserved_for_pods,
        reserved_cpu_millicores=reserved_cpu,
        reserved_memory_bytes=reserved_memory,
    )


def cpu_millicores(text: str) -> int:
    """A CPU quantity (`3`, `500m`, `1e3`) in millicores, the unit allocatable is counted in."""
    return round(parse_quantity(text) * 1000)
