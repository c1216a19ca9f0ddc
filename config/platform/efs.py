"""The encrypted EFS file system behind the cache StorageClass, and how its CSI driver gets credentials."""

from __future__ import annotations

from enum import Enum
from typing import Literal

from .._base import ConfigModel
from .aws_types import KmsKeyArn


class ServiceAccountIdentity(str, Enum):
    POD_IDENTITY = "podIdentity"
    """EKS Pod Identity: no OIDC provider, the role trusts `pods.eks.amazonaws.com`."""
    IRSA = "irsa"
    """IAM roles for service accounts: an OIDC provider and a web-identity trust per role."""


class ThroughputMode(str, Enum):
    ELASTIC = "elastic"
    BURSTING = "bursting"


class EfsConfig(ConfigModel):
    """The shared file system behind the cache StorageClass."""

    identity: ServiceAccountIdentity = ServiceAccountIdentity.POD_IDENTITY
    """How the EFS CSI controller gets AWS credentials: `podIdentity` (default) or `irsa`."""
    throughput_mode: ThroughputMode = ThroughputMode.ELASTIC
    """`elastic` scales with bursts of model downloads and bills per use; `bursting` earns credits
    with stored size and starves a small, fresh file system."""
    kms_key_arn: KmsKeyArn | None = None
    """Customer-managed KMS key for encryption at rest; default: the AWS-managed `aws/elasticfilesystem` key."""
    csi_driver_version: str | None = None
    """`aws-efs-csi-driver` add-on version; default: the one EKS marks default for the cluster version."""
    directory_perms: Literal["700", "750", "755", "770", "775"] = "700"
    """Permissions of each volume's access-point directory; 700 keeps one PVC's data from other PVCs' users."""
