"""Node groups: one EKS managed node group of a single instance type, and the labels models select on."""

from __future__ import annotations

import re
from dataclasses import replace
from enum import Enum
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from .._base import ConfigModel
from ..accelerators import AcceleratorKind
from ..device_memory import DEVICE_MEMORY
from ..errors import ConfigIssue, Fix, FixableError, NestedIssues
from ..instance_catalog import INSTANCE_TYPES, InstanceSpec
from ..suggest import closest
from ..types import DnsLabel
from .karpenter import KarpenterPoolConfig, NodeCapacity

# The EKS API rejects managed node group labels under these prefixes.
RESERVED_LABEL_PREFIXES = ("kubernetes.io/", "k8s.io/", "eks.amazonaws.com/")
# Labels this project puts on every node group; models select on them.
NODE_GROUP_LABEL = "vllm-eks/node-group"
INSTANCE_FAMILY_LABEL = "vllm-eks/instance-family"
ACCELERATOR_LABEL = "vllm-eks/accelerator"
INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type"  # set by the kubelet itself


def check_instance_type(value: str, described: bool = False) -> str:
    """A catalog type, or any well-formed type whose facts the node group describes (`instanceFacts`)."""
    if not _INSTANCE_TYPE.match(value):
        raise ValueError(f"{value!r} is not an EC2 instance type name (family.size, such as 'g6e.xlarge')")
    if value in INSTANCE_TYPES or described:
        return value
    nearest = closest(value, INSTANCE_TYPES)
    if nearest is not None:
        raise FixableError(f"unknown instance type {value!r}; did you mean {nearest!r}?", Fix("", nearest))
    families = sorted({spec.family for spec in INSTANCE_TYPES.values()})
    raise ValueError(
        f"{value!r} is not in the instance catalog (families {', '.join(families)}); if AWS offers it, describe "
        f"the facts sizing needs beside it, from `aws ec2 describe-instance-types --instance-types {value}`: "
        f"instanceFacts: {{vcpu: <vCPUs>, memoryGib: <GiB>, acceleratorModel: <device>, acceleratorCount: <devices>}} "
        f"(acceleratorModel one of {', '.join(DEVICE_MODELS)}, or unset for a CPU type)"
    )


DEVICE_MODELS = tuple(DEVICE_MEMORY)
_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9-]+$")


# Label syntax as the API server validates it (k8s.io/apimachinery pkg/util/validation/validation.go:
# IsQualifiedName for keys, an optional DNS-1123 subdomain prefix of at most 253 characters and a name of at
# most 63 matching qualifiedNameFmt; IsValidLabelValue for values, at most 63 matching labelValueFmt, or empty).
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_PREFIX = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def _label_value_fix(value: str) -> str:
    return re.sub(r"[^-A-Za-z0-9_.]+", "-", value)[:63].strip("-_.")


def check_node_labels(labels: dict[str, str]) -> dict[str, str]:
    issues = []
    for key, value in labels.items():
        prefix, _, name = key.rpartition("/")
        reserved = next((p for p in RESERVED_LABEL_PREFIXES if key.startswith(p) or f".{p}" in key), None)
        if reserved:
            issues.append(ConfigIssue(key, (
                f"label {key!r} uses the reserved prefix {reserved!r}, which the EKS API rejects on "
                f"managed node groups; use a prefix of your own such as 'example.com/{name}'"),
                (Fix(key, remove=True),)))
        elif len(name) > 63 or not _LABEL_NAME.match(name) or (prefix and (len(prefix) > 253 or not _LABEL_PREFIX.match(prefix))):
            issues.append(ConfigIssue(key, (
                "is not a label key the API server accepts (an optional DNS subdomain prefix and '/', then at most 63 "
                "letters, digits, '-', '_' or '.', starting and ending with a letter or digit: IsQualifiedName in "
                "k8s.io/apimachinery validation.go); rename it"), (Fix(key, remove=True),)))
        elif len(value) > 63 or (value and not _LABEL_NAME.match(value)):
            fixed = _label_value_fix(value)
            issues.append(ConfigIssue(key, (
                f"{value!r} is not a label value the API server accepts (at most 63 letters, digits, '-', '_' or '.', "
                f"starting and ending with a letter or digit: IsValidLabelValue in k8s.io/apimachinery validation.go), "
                f"so the nodes could not be labelled; write e.g. {fixed!r}"), (Fix(key, fixed),)))
    if issues:
        raise NestedIssues(issues)
    return labels


class DescribedInstance(ConfigModel):
    """The facts sizing needs about an instance type the catalog (config/instance_catalog.py) lacks, as
    `aws ec2 describe-instance-types` states them. The accelerator's kind, memory and NeuronCores per chip
    come from the catalog's entry for the same device; allocatable is computed as for catalog types."""

    vcpu: int = Field(ge=1)
    """vCPUs (`VCpuInfo.DefaultVCpus`)."""
    memory_gib: int = Field(ge=1)
    """Memory in GiB (`MemoryInfo.SizeInMiB` / 1024)."""
    accelerator_model: Literal[DEVICE_MODELS] | None = None  # type: ignore[valid-type]
    """The device (`GpuInfo.Gpus[].Name`, or Inferentia2/Trainium); unset for a CPU type."""
    accelerator_count: int = Field(0, ge=0)
    """Devices per instance: GPUs, or Neuron chips (not NeuronCores)."""

    def spec(self, name: str) -> InstanceSpec:
        if self.accelerator_model is None:
            return InstanceSpec(name, self.vcpu, self.memory_gib)
        same = next(spec for spec in INSTANCE_TYPES.values() if spec.accelerator_model == self.accelerator_model)
        return replace(same, name=name, vcpu=self.vcpu, memory_gib=self.memory_gib, accelerator_count=self.accelerator_count)


class CapacityType(str, Enum):
    ON_DEMAND = "ON_DEMAND"
    SPOT = "SPOT"


class NodeGroupConfig(ConfigModel):
    """Nodes of a single instance type: an EKS managed node group, or a Karpenter NodePool (`capacity`)."""

    name: DnsLabel
    """Node group name; models point at it with `nodeGroup`."""
    instance_facts: DescribedInstance | None = None
    """Facts of an instance type outside the catalog (vCPUs, memory, accelerator model and count); unset for catalog types."""
    instance_type: str
    """EC2 instance type from the catalog, or any other with `instanceFacts` describing it; its accelerator decides AMI type, taint and labels."""
    capacity: NodeCapacity = NodeCapacity.MANAGED
    """`managed`: an EKS managed node group at desiredSize nodes. `karpenter`: a Karpenter NodePool that launches
    nodes of this instance type for pending pods, at most maxSize, and removes empty ones (minSize and desiredSize
    do not apply: the models' replicas decide how many nodes run)."""
    karpenter: KarpenterPoolConfig = Field(default_factory=KarpenterPoolConfig)
    """Node lifetime and disruption of a `capacity: karpenter` group."""
    min_size: int = Field(1, ge=0)
    """Fewest nodes, and the node count when desiredSize is unset. 0 suits a group kept for later:
    a group with models needs as many nodes as their pods fill (checked)."""
    desired_size: int | None = Field(None, ge=0)
    """Node count; defaults to `minSize`. No autoscaler is installed: every `pulumi up` sets the
    group to this count, so raise it (up to `maxSize`) to add nodes."""
    max_size: int | None = Field(None, ge=1, validate_default=True)
    """Most nodes; defaults to `max(minSize, 1)`."""
    DEFAULT_MAX_SIZE: ClassVar[int] = 1
    """The floor of maxSize's default, `max(minSize, DEFAULT_MAX_SIZE)`."""
    disk_size_gib: int = Field(200, ge=20)
    """Root volume size. vLLM and Neuron images are tens of GiB; the default leaves room for two."""
    capacity_type: CapacityType = CapacityType.ON_DEMAND
    """ON_DEMAND or SPOT. Spot accelerators can be reclaimed mid-request."""
    labels: Annotated[dict[str, str], AfterValidator(check_node_labels)] = Field(default_factory=dict)
    """Extra node labels (the project's own labels are always added)."""

    @field_validator("instance_type")
    @classmethod
    def _known_or_described(cls, value: str, info: ValidationInfo) -> str:
        if "instance_facts" not in info.data:
            return value  # the facts block failed and is reported at its own key: one mistake, one error
        return check_instance_type(value, described=info.data.get("instance_facts") is not None)

    @field_validator("min_size", "desired_size")
    @classmethod
    def _node_counts_are_managed(cls, value: int | None, info: ValidationInfo) -> int | None:
        # Runs only on a value the stack sets (neither field validates its default).
        if info.data.get("capacity") is NodeCapacity.KARPENTER and value is not None:
            key = "minSize" if info.field_name == "min_size" else "desiredSize"
            raise FixableError(
                f"a capacity: karpenter group has no fixed node count: Karpenter launches nodes for pending pods and "
                f"removes empty ones; remove {key} and keep capacity running with the models' replicas "
                f"(or autoscaling.minReplicas), or set capacity: managed", Fix("", remove=True))
        return value

    @field_validator("max_size")
    @classmethod
    def _sizes_are_ordered(cls, value: int | None, info: ValidationInfo) -> int | None:
        if "min_size" not in info.data or "desired_size" not in info.data:
            return value  # already reported on their own keys
        minimum = info.data["min_size"]
        desired = minimum if info.data["desired_size"] is None else info.data["desired_size"]
        maximum = value if value is not None else max(minimum, cls.DEFAULT_MAX_SIZE)
        if not minimum <= desired <= maximum:
            raise FixableError(
                f"sizes must satisfy minSize <= desiredSize <= maxSize (got {minimum} <= {desired} <= {maximum}); "
                f"raise maxSize to at least {max(minimum, desired)} or lower minSize/desiredSize",
                Fix("", max(minimum, desired)))
        return value

    @property
    def is_karpenter(self) -> bool:
        return self.capacity is NodeCapacity.KARPENTER

    @property
    def resolved_desired_size(self) -> int:
        """Nodes that run whatever the pods need: none for a Karpenter group, which launches them for pods."""
        if self.is_karpenter:
            return 0
        return self.min_size if self.desired_size is None else self.desired_size

    @property
    def resolved_max_size(self) -> int:
        return self.max_size if self.max_size is not None else max(self.min_size, self.DEFAULT_MAX_SIZE)

    @property
    def instance(self) -> InstanceSpec:
        return self.instance_facts.spec(self.instance_type) if self.instance_facts else INSTANCE_TYPES[self.instance_type]

    @property
    def accelerator(self) -> AcceleratorKind | None:
        return self.instance.accelerator

    @property
    def node_labels(self) -> dict[str, str]:
        """Labels every node of the group carries; models' nodeSelectors are a subset of these."""
        labels = {
            NODE_GROUP_LABEL: self.name,
            INSTANCE_FAMILY_LABEL: self.instance.family,
            ACCELERATOR_LABEL: self.accelerator.value if self.accelerator else "none",
        }
        return {**self.labels, **labels}


SYSTEM_NODE_GROUP_NAME = "system"


class SystemNodeGroupConfig(NodeGroupConfig):
    """CPU nodes for CoreDNS, the EFS CSI controller and other add-ons; each key has a default, and setting one keeps the others.

    `instanceType` alone, say, still gives the `system` group of 2 to 3 nodes with 50 GiB disks."""

    name: DnsLabel = SYSTEM_NODE_GROUP_NAME
    """Node group name; no model runs here (accelerator node groups may not reuse it)."""
    capacity: NodeCapacity = NodeCapacity.MANAGED
    """Always `managed`: the Karpenter controller itself runs on these nodes, so they cannot be Karpenter's."""
    instance_type: str = "m6i.large"
    """A CPU instance type from the catalog (an accelerated type's taint would keep the add-ons off it)."""
    min_size: int = Field(2, ge=0)
    """Fewest nodes, and the node count when desiredSize is unset; two, so CoreDNS survives losing a node."""
    desired_size: int | None = Field(None, ge=0)
    """Node count; defaults to `minSize`."""
    max_size: int | None = Field(None, ge=1, validate_default=True)
    """Most nodes; defaults to `max(minSize, 3)`."""
    DEFAULT_MAX_SIZE: ClassVar[int] = 3
    disk_size_gib: int = Field(50, ge=20)
    """Root volume size; add-on images are small."""


    @field_validator("capacity")
    @classmethod
    def _system_nodes_are_managed(cls, value: NodeCapacity) -> NodeCapacity:
        if value is not NodeCapacity.MANAGED:
            raise FixableError("the system nodes run the Karpenter controller, which must not run on nodes it manages "
                               "(Karpenter's chart keeps it off karpenter.sh/nodepool nodes); remove capacity here",
                               Fix("", remove=True))
        return value


def default_system_node_group() -> SystemNodeGroupConfig:
    return SystemNodeGroupConfig()
