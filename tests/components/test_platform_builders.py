"""Pure platform builders: the objects and arguments the components register."""

from __future__ import annotations

import json

import kubernetes_validate
import pytest

from vllm_eks.components import _cluster_args, _device_plugin_objects, _efs_args, _node_group_args
from vllm_eks.config.accelerators import AcceleratorKind
from vllm_eks.config.platform.access import ClusterCreator, is_same_principal
from vllm_eks.config.platform.cluster import DEFAULT_KUBERNETES_VERSION, ClusterConfig, VpcConfig
from vllm_eks.config.platform.efs import EfsConfig
from vllm_eks.config.platform.node_groups import NodeGroupConfig

KUBERNETES_VERSION = DEFAULT_KUBERNETES_VERSION


def group(instance_type: str, **extra) -> NodeGroupConfig:
    return NodeGroupConfig(name="workers", instance_type=instance_type, **extra)


@pytest.mark.parametrize("kind", list(AcceleratorKind))
def test_every_device_plugin_object_is_valid_kubernetes_1_33(kind):
    for obj in _device_plugin_objects.device_plugin_objects(kind):
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_storage_class_is_valid_kubernetes_1_33():
    obj = _efs_args.storage_class_object("efs", "fs-0123456789abcdef0", EfsConfig())
    kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("kind, taint, name, repository", [
    (AcceleratorKind.NEURON, "aws.amazon.com/neuron", "neuron-device-plugin", "public.ecr.aws/neuron/neuron-device-plugin"),
    (AcceleratorKind.GPU, "nvidia.com/gpu", "nvidia-device-plugin-daemonset", "nvcr.io/nvidia/k8s-device-plugin"),
])
def test_device_plugin_selects_only_its_accelerator_nodes_and_tolerates_their_taint(kind, taint, name, repository):
    daemonset = _device_plugin_objects.device_plugin_objects(kind)[-1]
    pod = daemonset["spec"]["template"]["spec"]
    assert {key: value for key, value in daemonset["metadata"].items() if key != "annotations"} == {
        "name": name, "namespace": "kube-system",
        "labels": {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "vllm-eks", "app.kubernetes.io/managed-by": "pulumi"},
    }
    assert pod["nodeSelector"] == {"vllm-eks/accelerator": kind.value}
    assert pod["tolerations"] == [
        {"key": "CriticalAddonsOnly", "operator": "Exists"},
        {"key": taint, "operator": "Exists", "effect": "NoSchedule"},
    ]
    assert pod["priorityClassName"] == "system-node-critical"
    [container] = pod["containers"]
    # Pinned to a release (the version itself is stated once, in DEVICE_PLUGINS), never a moving tag.
    image_repository, tag = container["image"].rsplit(":", 1)
    assert image_repository == repository and (tag[0].isdigit() or tag.startswith("v"))
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["securityContext"] == {"seccompProfile": {"type": "RuntimeDefault"}}
    assert container["resources"] == {"requests": {"cpu": "10m", "memory": "64Mi"}, "limits": {"cpu": "200m", "memory": "256Mi"}}
    assert {"name": container["volumeMounts"][0]["name"], "mountPath": "/var/lib/kubelet/device-plugins"} == container["volumeMounts"][0]


def test_neuron_plugin_gets_the_vendor_rbac_and_a_token_and_nvidia_gets_neither():
    neuron = _device_plugin_objects.device_plugin_objects(AcceleratorKind.NEURON)
    nvidia = _device_plugin_objects.device_plugin_objects(AcceleratorKind.GPU)
    assert [o["kind"] for o in neuron] == ["ServiceAccount", "ClusterRole", "ClusterRoleBinding", "DaemonSet"]
    assert [o["kind"] for o in nvidia] == ["ServiceAccount", "DaemonSet"]
    role = neuron[1]
    assert {(tuple(r["resources"]), tuple(r["verbs"])) for r in role["rules"]} == {
        (("nodes",), ("get", "list", "watch")),
        (("events",), ("create", "patch")),
        (("pods",), ("update", "patch", "get", "list", "watch")),
        (("nodes/status",), ("patch", "update")),
        (("nodes/proxy",), ("get", "list")),
    }
    assert neuron[2]["subjects"] == [{"kind": "ServiceAccount", "name": "neuron-device-plugin", "namespace": "kube-system"}]
    assert neuron[-1]["spec"]["template"]["spec"]["automountServiceAccountToken"] is True
    assert nvidia[-1]["spec"]["template"]["spec"]["automountServiceAccountToken"] is False
    assert nvidia[0]["automountServiceAccountToken"] is False


@pytest.mark.parametrize("instance_type, ami_type, taints", [
    ("inf2.xlarge", "AL2023_x86_64_NEURON", [{"key": "aws.amazon.com/neuron", "value": "true", "effect": "NO_SCHEDULE"}]),
    ("trn1.32xlarge", "AL2023_x86_64_NEURON", [{"key": "aws.amazon.com/neuron", "value": "true", "effect": "NO_SCHEDULE"}]),
    ("g6e.12xlarge", "AL2023_x86_64_NVIDIA", [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]),
    ("p5.48xlarge", "AL2023_x86_64_NVIDIA", [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]),
    ("m6i.large", "AL2023_x86_64_STANDARD", []),
])
def test_node_group_ami_type_and_taint_follow_the_instance_accelerator(instance_type, ami_type, taints):
    args = _node_group_args.node_group_args(group(instance_type))
    assert args["ami_type"] == ami_type
    assert args["instance_types"] == [instance_type]
    assert args["taints"] == taints


def test_node_group_labels_are_the_ones_models_select_on_and_sizes_are_resolved():
    args = _node_group_args.node_group_args(group("g5.xlarge", min_size=1, max_size=4, labels={"team": "ml"}))
    assert args["labels"] == {
        "team": "ml", "vllm-eks/node-group": "workers", "vllm-eks/instance-family": "g5", "vllm-eks/accelerator": "gpu",
    }
    assert not any(key.startswith(("kubernetes.io/", "k8s.io/", "eks.amazonaws.com/")) for key in args["labels"])
    assert args["scaling_config"] == {"min_size": 1, "desired_size": 1, "max_size": 4}


def test_launch_template_requires_imdsv2_and_sizes_an_encrypted_gp3_root_volume():
    args = _node_group_args.launch_template_args(group("inf2.xlarge", disk_size_gib=300))
    assert args["metadata_options"] == {"http_endpoint": "enabled", "http_tokens": "required", "http_put_response_hop_limit": 1}
    assert args["block_device_mappings"] == [{
        "device_name": "/dev/xvda",
        "ebs": {"volume_size": 300, "volume_type": "gp3", "encrypted": "true", "delete_on_termination": "true"},
    }]
    assert "vpc_security_group_ids" not in args and "image_id" not in args


def test_subnet_plan_gives_each_zone_a_private_eighth_and_a_small_public_subnet():
    plan = _cluster_args.subnet_plan(VpcConfig(availability_zone_count=3, nat_gateways="perZone"))
    assert [(z.private_cidr, z.public_cidr, z.nat_gateway) for z in plan] == [
        ("10.0.0.0/19", "10.0.224.0/22", True),
        ("10.0.32.0/19", "10.0.228.0/22", True),
        ("10.0.64.0/19", "10.0.232.0/22", True),
    ]
    single = _cluster_args.subnet_plan(VpcConfig())
    assert [z.nat_gateway for z in single] == [True, False]


def test_cluster_args_skip_default_nodes_use_access_entries_log_everything_and_close_the_public_endpoint():
    config = ClusterConfig(admins=[{"principalArn": "arn:aws:iam::123456789012:role/platform-admins"}])
    args = _cluster_args.cluster_args(config, "vllm-eks-dev", irsa=False)
    assert args["skip_default_node_group"] is True
    assert args["authentication_mode"] == "API"
    assert args["version"] == DEFAULT_KUBERNETES_VERSION
    assert args["enabled_cluster_log_types"] == ["api", "audit", "authenticator", "controllerManager", "scheduler"]
    assert (args["endpoint_public_access"], args["public_access_cidrs"], args["endpoint_private_access"]) == (False, None, True)
    assert args["access_entries"] == {"admin-0": {
        "principal_arn": "arn:aws:iam::123456789012:role/platform-admins",
        "access_policies": {"cluster-admin": {
            "policy_arn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
            "access_scope": {"type": "cluster"},
        }},
    }}


def test_vpc_cni_addon_turns_network_policy_enforcement_on():
    vpc_cni = next(spec for spec in _cluster_args.CORE_ADDONS if spec.name == "vpc-cni")
    assert json.loads(vpc_cni.args()["configuration_values"]) == {"enableNetworkPolicy": "true"}
    assert vpc_cni.before_nodes


def test_efs_file_system_policy_lets_mount_target_clients_in_over_tls_only():
    # Any policy replaces EFS's implicit allow-all, so the Allow is what lets the CSI driver's
    # anonymous (non-IAM) mounts in at all; the Deny keeps them on TLS.
    assert json.loads(_efs_args.file_system_policy("arn:aws:elasticfilesystem:us-west-2:123456789012:file-system/fs-1")) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowClientsThroughMountTargets",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite", "elasticfilesystem:ClientRootAccess"],
                "Resource": "arn:aws:elasticfilesystem:us-west-2:123456789012:file-system/fs-1",
                "Condition": {"Bool": {"elasticfilesystem:AccessedViaMountTarget": "true"}},
            },
            {
                "Sid": "DenyUnencryptedTransport",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "*",
                "Resource": "arn:aws:elasticfilesystem:us-west-2:123456789012:file-system/fs-1",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }


def test_storage_class_sets_only_parameters_the_efs_provisioner_reads_and_mounts_with_tls():
    obj = _efs_args.storage_class_object("efs", "fs-0123456789abcdef0", EfsConfig())
    assert obj["parameters"] == {
        "provisioningMode": "efs-ap", "fileSystemId": "fs-0123456789abcdef0", "directoryPerms": "700",
        "basePath": "/dynamic_provisioning",
    }
    assert obj["mountOptions"] == ["tls"]
    # The driver implements no volume expansion, so a claim could never grow.
    assert "allowVolumeExpansion" not in obj


def test_efs_csi_roles_trust_only_pod_identity_or_the_controller_account():
    pod_identity = json.loads(_efs_args.pod_identity_trust_policy())["Statement"][0]
    assert pod_identity["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert pod_identity["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    irsa = json.loads(_efs_args.irsa_trust_policy("arn:oidc", "oidc.eks.example/id/X"))["Statement"][0]
    assert irsa["Condition"]["StringEquals"]["oidc.eks.example/id/X:sub"] == "system:serviceaccount:kube-system:efs-csi-controller-sa"


@pytest.mark.parametrize("admin, caller, same", [
    # GetCallerIdentity names a role session without the role's path.
    ("arn:aws:iam::123456789012:role/teams/ml/deployer", "arn:aws:sts::123456789012:assumed-role/deployer/alice", True),
    ("arn:aws:iam::123456789012:role/deployer", "arn:aws:sts::123456789012:assumed-role/deployer/ci-run-7", True),
    ("arn:aws:iam::123456789012:role/deployer", "arn:aws:sts::210987654321:assumed-role/deployer/alice", False),
    ("arn:aws:iam::123456789012:role/deployer", "arn:aws:sts::123456789012:assumed-role/deployer-2/alice", False),
    ("arn:aws:iam::123456789012:user/alice", "arn:aws:iam::123456789012:user/alice", True),
    ("arn:aws:iam::123456789012:user/alice", "arn:aws:iam::123456789012:role/alice", False),
    ("arn:aws:iam::123456789012:role/root", "arn:aws:iam::123456789012:root", False),
])
def test_an_admin_matches_the_caller_by_account_kind_and_name_whatever_the_roles_path(admin, caller, same):
    assert is_same_principal(admin, caller) is same


def test_access_entries_leave_out_the_creator_and_keep_the_other_entries_keys():
    config = ClusterConfig(admins=[
        {"principalArn": "arn:aws:iam::123456789012:role/platform-admins"},
        {"principalArn": "arn:aws:iam::123456789012:role/deployer"},
    ])
    creator = ClusterCreator("arn:aws:sts::123456789012:assumed-role/deployer/alice", recorded=False)
    assert sorted(_cluster_args.access_entries(config, creator)) == ["admin-0"]
    assert sorted(_cluster_args.access_entries(config)) == ["admin-0", "admin-1"]


def test_the_providers_kubeconfig_calls_get_token_with_the_stacks_aws_profile():
    kubeconfig = {"users": [{"name": "aws", "user": {"exec": {
        "command": "aws", "args": ["eks", "get-token", "--cluster-name", "c", "--output", "json"],
    }}}]}
    with_profile = json.loads(_cluster_args.kubeconfig_with_profile(json.dumps(kubeconfig), "team-prod"))
    assert with_profile["users"][0]["user"]["exec"]["args"] == [
        "eks", "get-token", "--cluster-name", "c", "--output", "json", "--profile", "team-prod",
    ]
    # Applying it twice adds nothing.
    again = json.loads(_cluster_args.kubeconfig_with_profile(json.dumps(with_profile), "team-prod"))
    assert again == with_profile
