"""The vendor schedulers some accelerators need, pinned: which pods use them, which images run them.

"The scheduler extension is required for scheduling Pods that request more than one Neuron core or
device resource" (awsdocs-neuron.readthedocs-hosted.com/en/latest/deploy/infrastructure/scheduler.html):
it allocates contiguous NeuronCores. EKS cannot reconfigure its own scheduler, so the extension runs
behind a second kube-scheduler, `my-scheduler`, that multi-core pods name
(.../containers/tutorials/k8s-multiple-scheduler.html). AcceleratorTraits.multi_unit_scheduler says
which accelerators need one; this table pins its images.

Versions: the neuron-helm-chart README that lists device plugin 2.29.148.0 (the plugin this project
pins, values.yaml @ 3419bfe7) lists the scheduler extension at 2.29.148.0 and kube-scheduler
`v1.31.12-eks-1-31-30` (charts/neuron-helm-chart/README.md). kube-scheduler may be at most one minor
version older than the API server (kubernetes.io/releases/version-skew-policy), so the image follows
the cluster's version: EKS Distro tags v1.32.9-eks-1-32-24, v1.33.4-eks-1-33-13 and v1.35.2-eks-1-35-8
are the ones AWS Neuron workshop repositories pin (NeuronCore operator and helm values read through
the code search; no registry was queried). A cluster version without a pinned tag is an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .accelerators import ACCELERATORS
from .errors import ConfigIssue

if TYPE_CHECKING:
    from .model import ModelConfig
    from .stack import StackConfig


@dataclass(frozen=True)
class VendorScheduler:
    scheduler_name: str
    """The second kube-scheduler's profile name, which pods set as schedulerName."""
    extension_name: str
    extension_image: str
    extension_port: int
    managed_resources: tuple[str, ...]
    """Extended resources the scheduler hands to the extension's filter and bind."""
    kube_scheduler_repository: str
    kube_scheduler_tags: dict[str, str]
    """Kubernetes minor version -> EKS Distro kube-scheduler tag."""


SCHEDULERS: dict[str, VendorScheduler] = {
    "my-scheduler": VendorScheduler(
        scheduler_name="my-scheduler",
        extension_name="k8s-neuron-scheduler",
        extension_image="public.ecr.aws/neuron/neuron-scheduler:2.29.148.0",
        extension_port=12345,
        managed_resources=("aws.amazon.com/neuron", "aws.amazon.com/neuroncore"),
        kube_scheduler_repository="public.ecr.aws/eks-distro/kubernetes/kube-scheduler",
        kube_scheduler_tags={
            "1.31": "v1.31.12-eks-1-31-30", "1.32": "v1.32.9-eks-1-32-24",
            "1.33": "v1.33.4-eks-1-33-13", "1.35": "v1.35.2-eks-1-35-8",
        },
    ),
}


def model_scheduler(model: ModelConfig) -> str | None:
    """The vendor scheduler a model's pods must use, or None for the cluster's default."""
    name = ACCELERATORS[model.accelerator].multi_unit_scheduler
    return name if name is not None and model.accelerators_per_pod > 1 else None


def schedulers_needed(stack: StackConfig) -> list[str]:
    """Vendor schedulers some model of the stack needs, in first-use order."""
    return list(dict.fromkeys(name for model in stack.models if (name := model_scheduler(model)) is not None))


def kube_scheduler_image(scheduler: VendorScheduler, kubernetes_version: str) -> str:
    return f"{scheduler.kube_scheduler_repository}:{scheduler.kube_scheduler_tags[kubernetes_version]}"


def scheduler_issues(stack: StackConfig) -> list[ConfigIssue]:
    issues = []
    version = stack.cluster.kubernetes_version
    for name in schedulers_needed(stack):
        scheduler = SCHEDULERS[name]
        if version not in scheduler.kube_scheduler_tags:
            users = [(i, model) for i, model in enumerate(stack.models) if model_scheduler(model) == name]
            known = ", ".join(sorted(scheduler.kube_scheduler_tags))
            unit = ACCELERATORS[users[0][1].accelerator].unit_name
            issues.append(ConfigIssue("cluster.kubernetesVersion", (
                f"{', '.join(f'models[{i}]' for i, _ in users)} request more than one {unit} "
                f"per pod, which needs {scheduler.extension_name} behind a second kube-scheduler ({name}) at the "
                f"cluster's version, and no kube-scheduler image is pinned for Kubernetes {version} (pinned: {known}); "
                f"use one of those versions, or add its EKS Distro tag to config/scheduler_catalog.py")))
    return issues
