"""Arguments of the EFS file system, its CSI driver's IAM role, and the StorageClass object."""

from __future__ import annotations

import json
from typing import Any

from ..config.platform.efs import EfsConfig
from ._labels import managed_labels

NFS_PORT = 2049
CSI_DRIVER_ADDON = "aws-efs-csi-driver"
CSI_PROVISIONER = "efs.csi.aws.com"
CSI_CONTROLLER_SERVICE_ACCOUNT = "efs-csi-controller-sa"
CSI_NAMESPACE = "kube-system"
CSI_DRIVER_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy"
POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"


def file_system_args(efs: EfsConfig, name: str) -> dict[str, Any]:
    args: dict[str, Any] = {
        "encrypted": True,
        "performance_mode": "generalPurpose",
        "throughput_mode": efs.throughput_mode.value,
        "tags": {"Name": name},
    }
    if efs.kms_key_arn:
        args["kms_key_id"] = efs.kms_key_arn
    return args


def file_system_policy(file_system_arn: str) -> str:
    """Any client that reaches a mount target may mount, write and act as root, but only over TLS.

    A file system without a policy grants exactly that Allow implicitly; once any policy exists
    it replaces that default, so a Deny-only policy would leave no one allowed to mount. The CSI
    driver mounts without the `iam` option, so its clients are anonymous and only a statement for
    Principal `*` admits them. Reaching a mount target already requires the NFS security group,
    which admits only the cluster's nodes. This is the policy the EFS console writes for "enforce
    in-transit encryption for all clients" (see terraform-aws-modules/terraform-aws-efs#20).
    """
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowClientsThroughMountTargets",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": [
                    "elasticfilesystem:ClientMount",
                    "elasticfilesystem:ClientWrite",
                    "elasticfilesystem:ClientRootAccess",
                ],
                "Resource": file_system_arn,
                "Condition": {"Bool": {"elasticfilesystem:AccessedViaMountTarget": "true"}},
            },
            {
                "Sid": "DenyUnencryptedTransport",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "*",
                "Resource": file_system_arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    })


def pod_identity_trust_policy() -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": POD_IDENTITY_PRINCIPAL},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
        }],
    })


def irsa_trust_policy(oidc_provider_arn: str, oidc_issuer: str) -> str:
    """Only the controller's service account may assume the role (`oidc_issuer` without https://)."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": oidc_provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                f"{oidc_issuer}:sub": f"system:serviceaccount:{CSI_NAMESPACE}:{CSI_CONTROLLER_SERVICE_ACCOUNT}",
                f"{oidc_issuer}:aud": "sts.amazonaws.com",
            }},
        }],
    })


STORAGE_CLASS_IMMUTABLE_FIELDS = ("reclaimPolicy", "volumeBindingMode")
"""StorageClass fields the API server refuses to update (kubernetes pkg/apis/storage/validation/validation.go
ValidateStorageClassUpdate, which also refuses parameters and provisioner: pulumi-kubernetes already replaces
on those) and that pulumi-kubernetes would otherwise try to patch in place; EfsStorage replaces on them."""


def storage_class_object(name: str, file_system_id: Any, efs: EfsConfig) -> dict[str, Any]:
    """Dynamic provisioning: one EFS access point (own directory and POSIX identity) per PVC."""
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": name, "labels": managed_labels(name)},
        "provisioner": CSI_PROVISIONER,
        "parameters": {
            "provisioningMode": "efs-ap",
            "fileSystemId": file_system_id,
            "directoryPerms": efs.directory_perms,
            "basePath": "/dynamic_provisioning",
        },
        # TLS is enforced by the file system policy, which refuses unencrypted clients. The driver
        # already mounts access points over TLS; the option keeps that visible in the object.
        # (`encryptInTransit` is a volume attribute of static PVs, which a StorageClass cannot set.)
        "mountOptions": ["tls"],
        # Caches hold downloaded weights and compiled graphs; deleting a PVC must not delete them.
        "reclaimPolicy": "Retain",
        "volumeBindingMode": "Immediate",
    }
