"""Who gets a cluster access entry: the one rule, read by EksCluster, the stack warnings and the docs.

What EKS and pulumi-eks do:
- pulumi-eks creates the cluster with `accessConfig.bootstrapClusterCreatorAdminPermissions: true`
  whenever `authenticationMode` is set, and ignores later changes to it (pulumi/pulumi-eks
  nodejs/eks/cluster/cluster.ts, v4.3.0, `accessConfig` of the aws.eks.Cluster); it is not an input of
  the component (pulumi/pulumi-eks#2373, open). So EKS gives the IAM principal that calls CreateCluster an
  access entry with AmazonEKSClusterAdminPolicy itself ("Specifies whether or not the cluster creator IAM
  principal was set as a cluster admin access entry during cluster creation time. The default value is
  true.", EKS API Reference, CreateAccessConfigRequest); that entry is not in Pulumi's state.
- pulumi-eks makes one `aws.eks.AccessEntry` per key of `accessEntries`, named `<cluster>-<key>`
  (nodejs/eks/cluster/authenticationMode.ts `createAccessEntries`, v4.3.0). An entry for a principal that
  already has one (the creator's) fails: EKS CreateAccessEntry answers 409 ResourceInUseException.
- An item dropped from `accessEntries` is a deleted AccessEntry: that principal loses access.

So the entry to leave out is the creator's, and the creator is a fact of the cluster, fixed when it was
created, not of whoever runs `pulumi up` today. `cluster.creatorArn` records it; until it is set the
identity running `pulumi up` is taken to be the creator, which holds only while one identity deploys
(a stack warning says so as soon as `cluster.admins` lists anyone).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .cluster import AdminAccessConfig, ClusterConfig

# arn:aws:iam::123456789012:role/path/name, arn:aws:iam::123456789012:user/name,
# arn:aws:sts::123456789012:assumed-role/name/session (what GetCallerIdentity returns for a role).
_PRINCIPAL = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):(?:iam|sts)::(?P<account>[0-9]{12}):"
    r"(?P<kind>role|user|assumed-role)/(?P<path>.+)$"
)


def principal_key(arn: str) -> tuple[str, str, str, str] | None:
    """(partition, account, role|user, name) of an IAM principal or of an assumed-role session.

    An assumed-role ARN names the role without its path (`assumed-role/<name>/<session>`), and
    role names are unique in an account whatever their path, so a role ARN and a session of it
    compare by name (EKS also records a session's creator as its role). Root and federated-user
    ARNs give None (no access entry can name them)."""
    match = _PRINCIPAL.match(arn)
    if not match:
        return None
    parts = match["path"].split("/")
    if match["kind"] == "assumed-role":
        return match["partition"], match["account"], "role", parts[0]
    return match["partition"], match["account"], match["kind"], parts[-1]


def is_same_principal(principal_arn: str, other_arn: str) -> bool:
    key = principal_key(principal_arn)
    return key is not None and key == principal_key(other_arn)


@dataclass(frozen=True)
class ClusterCreator:
    arn: str
    recorded: bool
    """True: `cluster.creatorArn`; False: the identity running `pulumi up`, assumed to be the creator."""


def cluster_creator(cluster: ClusterConfig, caller_arn: str | None) -> ClusterCreator | None:
    """The principal EKS made an admin when it created the cluster, as far as the stack knows it."""
    if cluster.creator_arn:
        return ClusterCreator(cluster.creator_arn, recorded=True)
    return ClusterCreator(caller_arn, recorded=False) if caller_arn else None


def admins_with_entries(cluster: ClusterConfig, creator: ClusterCreator | None) -> list[tuple[int, AdminAccessConfig]]:
    """(config index, item) of every `cluster.admins` item that gets an access entry: all but the creator's."""
    return [
        (index, admin) for index, admin in enumerate(cluster.admins)
        if creator is None or not is_same_principal(admin.principal_arn, creator.arn)
    ]


def skipped_admins(cluster: ClusterConfig, creator: ClusterCreator) -> list[str]:
    """Paths of the `cluster.admins` items left out because EKS already made them admin (the creator)."""
    kept = {index for index, _ in admins_with_entries(cluster, creator)}
    return [f"cluster.admins[{index}]" for index in range(len(cluster.admins)) if index not in kept]


def caller_has_access(cluster: ClusterConfig, creator: ClusterCreator, caller_arn: str) -> bool:
    """Whether the identity running `pulumi up` can reach the Kubernetes API through this stack's entries."""
    return is_same_principal(creator.arn, caller_arn) or any(
        is_same_principal(admin.principal_arn, caller_arn) for admin in cluster.admins
    )


def access_warnings(cluster: ClusterConfig) -> list[str]:
    """`cluster.admins` without `cluster.creatorArn`: the entries then depend on who runs `pulumi up`."""
    if not cluster.admins or cluster.creator_arn:
        return []
    return [
        "cluster.creatorArn: not set, so the identity running `pulumi up` is taken to be the cluster's creator "
        "(EKS made the creator an admin itself; an access entry for it would fail with 409 ResourceInUseException). "
        "If another identity (CI) runs `pulumi up`, its own cluster.admins entry would be deleted and the creator's "
        "attempted; set cluster.creatorArn to the IAM role or user that created the cluster (for a new cluster: "
        "`aws sts get-caller-identity` as the identity that will run the first `pulumi up`)"
    ]
