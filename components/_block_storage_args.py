"""EBS block storage for Prometheus: the EBS CSI add-on's identity and the encrypted gp3 StorageClass.

Prometheus needs a POSIX block file system (its storage docs rule out NFS, EFS included), and EKS
provisions EBS volumes only through the EBS CSI driver. Add-on name, service account and managed
policy: https://docs.aws.amazon.com/eks/latest/userguide/add-ons-aws-ebs-csi-driver.html.
Provisioner and StorageClass parameters: kubernetes-sigs/aws-ebs-csi-driver docs/parameters.md.
"""

from __future__ import annotations

from typing import Any

from ._labels import managed_labels

EBS_CSI_ADDON = "aws-ebs-csi-driver"
EBS_CSI_CONTROLLER_SERVICE_ACCOUNT = "ebs-csi-controller-sa"
EBS_CSI_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
EBS_CSI_PROVISIONER = "ebs.csi.aws.com"
GP3 = "gp3"
"""The StorageClass name the stack creates; `monitoring.prometheus.storageClass` defaults to it."""


def gp3_storage_class_object() -> dict[str, Any]:
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": GP3, "labels": managed_labels(GP3)},
        "provisioner": EBS_CSI_PROVISIONER,
        "parameters": {"type": "gp3", "encrypted": "true"},
        # Metrics history survives a deleted claim until someone removes the volume on purpose.
        "reclaimPolicy": "Retain",
        "allowVolumeExpansion": True,
        # An EBS volume lives in one zone: create it where the Prometheus pod is scheduled.
        "volumeBindingMode": "WaitForFirstConsumer",
    }
