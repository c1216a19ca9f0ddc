"""EfsStorage: encrypted EFS, NFS reachable only from the nodes, the CSI driver, and the StorageClass."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from ..config.platform.efs import EfsConfig, ServiceAccountIdentity
from . import _efs_args as build
from ._kubernetes import metadata_name, register_object


@dataclass
class EfsStorageArgs:
    efs: EfsConfig
    storage_class_name: str
    """Name of the StorageClass the cache PVCs ask for."""
    cluster_name: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    """One subnet per availability zone the nodes run in (EFS allows one mount target per zone)."""
    node_security_group_id: pulumi.Input[str]
    """The security group the nodes carry; the only source NFS is open to."""
    provider: k8s.Provider
    oidc_provider_arn: pulumi.Input[str] | None = None
    oidc_issuer: pulumi.Input[str] | None = None
    """Both required when `efs.identity` is `irsa`."""
    addon_depends_on: Sequence[pulumi.Resource] = ()
    """What the CSI add-on needs before it can become healthy (nodes, the Pod Identity agent)."""
    tags: dict[str, str] = field(default_factory=dict)


class EfsStorage(pulumi.ComponentResource):
    """The file system is `protect`ed and retained on delete: it holds every cached model."""

    file_system: aws.efs.FileSystem
    storage_class: pulumi.CustomResource
    file_system_id: pulumi.Output[str]
    storage_class_name: pulumi.Output[str]

    def __init__(self, resource_name: str, args: EfsStorageArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("vllm-eks:index:EfsStorage", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        security_group = aws.ec2.SecurityGroup(
            f"{resource_name}-nfs",
            vpc_id=args.vpc_id,
            description="NFS to the EFS mount targets from the cluster's nodes only",
            tags={**args.tags, "Name": f"{resource_name}-nfs"},
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{resource_name}-nfs-from-nodes",
            security_group_id=security_group.id,
            referenced_security_group_id=args.node_security_group_id,
            ip_protocol="tcp", from_port=build.NFS_PORT, to_port=build.NFS_PORT,
            description="NFS from EKS nodes",
            opts=child,
        )
        self.file_system = aws.efs.FileSystem(
            resource_name,
            **build.file_system_args(args.efs, resource_name),
            opts=pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True),
        )
        aws.efs.FileSystemPolicy(
            f"{resource_name}-tls-only",
            file_system_id=self.file_system.id,
            policy=self.file_system.arn.apply(build.file_system_policy),
            opts=child,
        )
        mount_targets = [
            aws.efs.MountTarget(
                f"{resource_name}-mount-{index}",
                file_system_id=self.file_system.id, subnet_id=subnet_id, security_groups=[security_group.id],
                opts=child,
            )
            for index, subnet_id in enumerate(args.subnet_ids)
        ]
        addon = self._csi_driver(resource_name, args)
        self.storage_class = register_object(
            f"{resource_name}-{args.storage_class_name}",
            build.storage_class_object(args.storage_class_name, self.file_system.id, args.efs),
            pulumi.ResourceOptions(
                parent=self, provider=args.provider,
                # A PVC of this class binds only once the provisioner runs and a mount target exists.
                depends_on=[addon, *mount_targets],
                # The API server refuses updates to these (kubernetes pkg/apis/storage/validation/validation.go
                # ValidateStorageClassUpdate) and pulumi-kubernetes' forceNew table lists only parameters and
                # provisioner (provider/pkg/provider/diff.go, v4.32.0), so a change replaces the class instead of
                # failing `pulumi up`; claims and volumes already bound keep working (they name the class only).
                replace_on_changes=list(build.STORAGE_CLASS_IMMUTABLE_FIELDS),
                # The engine keeps the provider's DeleteBeforeReplace for a replaceOnChanges replacement
                # (pulumi/pulumi step_generator.go applyReplaceOnChanges), and pulumi-kubernetes sets it only for
                # its own forceNew paths (provider.go Diff, v4.32.0), so the class would be created first under
                # the same name and the create would fail with AlreadyExists (await/await.go, no upsert).
                delete_before_replace=True,
            ),
        )
        self.csi_driver = addon
        self.file_system_id = self.file_system.id
        self.storage_class_name = metadata_name(self.storage_class)
        self.register_outputs({"file_system_id": self.file_system_id, "storage_class_name": self.storage_class_name})

    def _csi_driver(self, resource_name: str, args: EfsStorageArgs) -> aws.eks.Addon:
        child = pulumi.ResourceOptions(parent=self)
        irsa = args.efs.identity is ServiceAccountIdentity.IRSA
        if irsa:
            if args.oidc_provider_arn is None or args.oidc_issuer is None:
                raise ValueError("EfsStorage with identity irsa needs oidc_provider_arn and oidc_issuer")
            trust: pulumi.Input[str] = pulumi.Output.all(args.oidc_provider_arn, args.oidc_issuer).apply(lambda v: build.irsa_trust_policy(v[0], v[1]))
        else:
            trust = build.pod_identity_trust_policy()
        role = aws.iam.Role(
            f"{resource_name}-csi-driver",
            assume_role_policy=trust,
            description="EFS CSI controller: create and delete access points",
            tags=args.tags,
            opts=child,
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{resource_name}-csi-driver", role=role.name, policy_arn=build.CSI_DRIVER_POLICY, opts=child,
        )
        identity = (
            {"service_account_role_arn": role.arn}
            if irsa
            else {"pod_identity_associations": [{"role_arn": role.arn, "service_account": build.CSI_CONTROLLER_SERVICE_ACCOUNT}]}
        )
        return aws.eks.Addon(
            f"{resource_name}-csi-driver",
            cluster_name=args.cluster_name,
            addon_name=build.CSI_DRIVER_ADDON,
            addon_version=args.efs.csi_driver_version,
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            **identity,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[attachment, *args.addon_depends_on]),
        )
