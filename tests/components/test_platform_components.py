"""The platform registered under the offline engine: real arguments, dependencies and providers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.config.stacks import REACHABLE_CLUSTER
from vllm_eks.components import _efs_args
from vllm_eks.components.eks_cluster import EksCluster, EksClusterArgs
from vllm_eks.components.platform import build_platform, model_dependencies
from vllm_eks.config.errors import ConfigError
from vllm_eks.config.loader import load_stack_file, parse_stack_config, validate_stack_config
from vllm_eks.config.platform.cluster import DEFAULT_KUBERNETES_VERSION, ClusterConfig
from vllm_eks.config.platform.rules import endpoint_issues
from vllm_eks.config.stack import StackConfig
from vllm_eks.config.validation import validate_stack
from vllm_eks.preview.engine import Recording, run_program

PROJECT_DIR = Path(__file__).resolve().parents[2]
CLUSTER_SG = "sg-0c1a55e7c0ffee001"  # the EKS-created cluster security group in preview/mock_outputs.py
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
ADDON = "aws:eks/addon:Addon"


def record(stack) -> tuple[Recording, dict]:
    built = {}
    recording = run_program(lambda: built.setdefault("platform", build_platform(validate_stack(stack))), stack="dev")
    return recording, built


@pytest.fixture(scope="module")
def dev():
    return record(load_stack_file(PROJECT_DIR / "Pulumi.dev.yaml"))


@pytest.fixture(scope="module")
def mixed():
    """GPU and Neuron groups on an existing VPC, with IRSA for the CSI driver."""
    return record(parse_stack_config({
        "nodeGroups": [
            {"name": "inf2", "instanceType": "inf2.8xlarge"},
            {"name": "l40s", "instanceType": "g6e.xlarge", "minSize": 0, "maxSize": 2, "capacityType": "SPOT"},
        ],
        "cluster": {"existingVpc": {
            "vpcId": "vpc-0123456789abcdef0",
            "privateSubnets": [
                {"id": "subnet-0aaaaaaaaaaaaaaaa", "availabilityZone": "us-west-2a"},
                {"id": "subnet-0cccccccccccccccc", "availabilityZone": "us-west-2a"},
                {"id": "subnet-0bbbbbbbbbbbbbbbb", "availabilityZone": "us-west-2b"},
            ],
        }},
        "efs": {"identity": "irsa"},
    }))


def names(recording: Recording, type_: str) -> list[str]:
    return [r.name for r in recording.by_type(type_)]


def test_dev_platform_registers_every_part_the_issue_lists(dev):
    recording, _ = dev
    types = {r.type for r in recording.resources}
    for expected in [
        "eks:index:Cluster", NODE_GROUP, "aws:efs/fileSystem:FileSystem", "aws:efs/mountTarget:MountTarget",
        ADDON, "kubernetes:storage.k8s.io/v1:StorageClass", "kubernetes:apps/v1:DaemonSet", "aws:ec2/vpc:Vpc",
        "aws:ec2/natGateway:NatGateway", "pulumi:providers:kubernetes",
    ]:
        assert expected in types
    assert sorted(names(recording, NODE_GROUP)) == ["platform-inf2", "platform-system"]
    assert sorted(names(recording, ADDON)) == [
        "platform-cache-csi-driver", "platform-coredns", "platform-eks-pod-identity-agent", "platform-kube-proxy", "platform-vpc-cni",
    ]


def test_cluster_skips_default_nodes_authenticates_by_access_entries_and_uses_the_private_subnets(dev):
    recording, _ = dev
    cluster = recording.one("eks:index:Cluster", "platform")
    assert cluster.inputs["name"] == "vllm-eks-dev"
    assert cluster.inputs["version"] == DEFAULT_KUBERNETES_VERSION
    assert cluster.inputs["skipDefaultNodeGroup"] is True
    assert cluster.inputs["authenticationMode"] == "API"
    assert cluster.inputs["enabledClusterLogTypes"] == ["api", "audit", "authenticator", "controllerManager", "scheduler"]
    assert cluster.inputs["publicAccessCidrs"] == ["0.0.0.0/0"]
    assert cluster.inputs["privateSubnetIds"] == ["platform-0-private-id", "platform-1-private-id"]
    assert cluster.inputs["publicSubnetIds"] == ["platform-0-public-id", "platform-1-public-id"]
    zones = [recording.one("aws:ec2/subnet:Subnet", f"platform-{i}-private").inputs["availabilityZone"] for i in (0, 1)]
    assert zones == ["us-west-2a", "us-west-2b"]
    private = recording.one("aws:ec2/subnet:Subnet", "platform-0-private").inputs["tags"]
    public = recording.one("aws:ec2/subnet:Subnet", "platform-0-public").inputs["tags"]
    assert private["kubernetes.io/role/internal-elb"] == "1" and public["kubernetes.io/role/elb"] == "1"


def test_neuron_node_group_gets_the_neuron_ami_taint_labels_and_an_imdsv2_launch_template(dev):
    recording, _ = dev
    group = recording.one(NODE_GROUP, "platform-inf2").inputs
    assert group["instanceTypes"] == ["inf2.xlarge"]
    assert group["amiType"] == "AL2023_x86_64_NEURON"
    assert group["taints"] == [{"key": "aws.amazon.com/neuron", "value": "true", "effect": "NO_SCHEDULE"}]
    assert group["labels"] == {"vllm-eks/node-group": "inf2", "vllm-eks/instance-family": "inf2", "vllm-eks/accelerator": "neuron"}
    assert group["scalingConfig"] == {"minSize": 2, "desiredSize": 2, "maxSize": 3}
    # No autoscaler runs, so the config's desiredSize must keep applying after creation.
    assert recording.one(NODE_GROUP, "platform-inf2").ignore_changes == []
    assert group["clusterName"] == "vllm-eks-dev"
    assert group["launchTemplate"] == {"id": "platform-inf2-lt-id", "version": "1"}
    template = recording.one("aws:ec2/launchTemplate:LaunchTemplate", "platform-inf2-lt").inputs
    assert template["metadataOptions"]["httpTokens"] == "required"
    assert template["blockDeviceMappings"][0]["ebs"]["volumeSize"] == 200
    policies = {r.inputs["policyArn"] for r in recording.resources
                if r.type == "aws:iam/rolePolicyAttachment:RolePolicyAttachment" and r.name.startswith("platform-inf2-node-role")}
    assert policies == {
        "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy", "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
        "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
    }


def test_system_node_group_is_cpu_without_taints_and_coredns_waits_for_it(dev):
    recording, _ = dev
    system = recording.one(NODE_GROUP, "platform-system")
    assert (system.inputs["amiType"], system.inputs["instanceTypes"], system.inputs.get("taints", [])) == (
        "AL2023_x86_64_STANDARD", ["m6i.large"], [])
    coredns = recording.one(ADDON, "platform-coredns")
    assert system.urn in coredns.dependencies
    vpc_cni = recording.one(ADDON, "platform-vpc-cni")
    assert json.loads(vpc_cni.inputs["configurationValues"]) == {"enableNetworkPolicy": "true"}
    assert vpc_cni.urn in recording.one(NODE_GROUP, "platform-inf2").dependencies


def test_efs_is_encrypted_protected_mounted_in_each_node_subnet_and_open_to_nodes_only(dev):
    recording, _ = dev
    file_system = recording.one("aws:efs/fileSystem:FileSystem", "platform-cache")
    assert file_system.inputs["encrypted"] is True
    assert (file_system.protect, file_system.retain_on_delete) == (True, True)
    mounts = recording.by_type("aws:efs/mountTarget:MountTarget")
    assert sorted(m.inputs["subnetId"] for m in mounts) == ["platform-0-private-id", "platform-1-private-id"]
    assert {tuple(m.inputs["securityGroups"]) for m in mounts} == {("platform-cache-nfs-id",)}
    [rule] = recording.by_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert rule.inputs == {
        "securityGroupId": "platform-cache-nfs-id", "referencedSecurityGroupId": CLUSTER_SG,
        "ipProtocol": "tcp", "fromPort": 2049, "toPort": 2049, "description": "NFS from EKS nodes",
    }
    sg = recording.one("aws:ec2/securityGroup:SecurityGroup", "platform-cache-nfs").inputs
    assert "ingress" not in sg and "egress" not in sg
    policy = recording.one("aws:efs/fileSystemPolicy:FileSystemPolicy", "platform-cache-tls-only").inputs
    assert policy["fileSystemId"] == "platform-cache-id"
    arn = "arn:aws:elasticfilesystem:us-west-2:123456789012:file-system/platform-cache-id"
    assert json.loads(policy["policy"]) == json.loads(_efs_args.file_system_policy(arn))


def test_csi_driver_addon_gets_its_role_through_pod_identity_after_the_agent_and_system_nodes(dev):
    recording, _ = dev
    addon = recording.one(ADDON, "platform-cache-csi-driver")
    role = recording.one("aws:iam/role:Role", "platform-cache-csi-driver")
    assert addon.inputs["addonName"] == "aws-efs-csi-driver"
    assert addon.inputs["podIdentityAssociations"] == [{
        "roleArn": "arn:aws:iam::123456789012:role/platform-cache-csi-driver-0123abc", "serviceAccount": "efs-csi-controller-sa",
    }]
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    attachment = recording.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "platform-cache-csi-driver")
    assert attachment.inputs["policyArn"] == "arn:aws:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy"
    for needed in ("platform-eks-pod-identity-agent",):
        assert recording.one(ADDON, needed).urn in addon.dependencies
    assert recording.one(NODE_GROUP, "platform-system").urn in addon.dependencies


def test_storage_class_provisions_tls_access_points_retains_data_and_waits_for_driver_and_mounts(dev):
    recording, _ = dev
    storage_class = recording.one("kubernetes:storage.k8s.io/v1:StorageClass", "platform-cache-efs")
    assert storage_class.inputs["metadata"]["name"] == "efs"
    assert storage_class.inputs["provisioner"] == "efs.csi.aws.com"
    assert storage_class.inputs["parameters"] == {
        "provisioningMode": "efs-ap", "fileSystemId": "platform-cache-id", "directoryPerms": "700",
        "basePath": "/dynamic_provisioning",
    }
    assert storage_class.inputs["mountOptions"] == ["tls"]
    assert storage_class.inputs["reclaimPolicy"] == "Retain"
    needed = {recording.one(ADDON, "platform-cache-csi-driver").urn, *(m.urn for m in recording.by_type("aws:efs/mountTarget:MountTarget"))}
    assert needed <= set(storage_class.dependencies)


def test_every_kubernetes_resource_uses_the_clusters_provider_fed_by_its_kubeconfig(dev):
    recording, _ = dev
    [provider] = recording.by_type("pulumi:providers:kubernetes")
    assert provider.inputs["kubeconfig"] == "[secret]"
    objects = recording.kubernetes_objects()
    assert len(objects) == 5 + 12  # device plugin and StorageClass, and the Neuron scheduler (two-core pods)
    assert {obj.provider.rsplit("::", 1)[0] for obj in objects} == {provider.urn}


def test_dev_gets_only_the_neuron_device_plugin_selecting_and_tolerating_neuron_nodes(dev):
    recording, built = dev
    assert list(built["platform"].device_plugins) == ["neuron"]
    assert names(recording, "vllm-eks:index:NvidiaDevicePlugin") == []
    [daemonset] = recording.by_type("kubernetes:apps/v1:DaemonSet")
    pod = daemonset.inputs["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"vllm-eks/accelerator": "neuron"}
    assert {"key": "aws.amazon.com/neuron", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]


def test_mixed_stack_gets_both_plugins_gpu_group_and_one_mount_target_per_zone(mixed):
    recording, built = mixed
    assert sorted(kind.value for kind in built["platform"].device_plugins) == ["gpu", "neuron"]
    gpu = recording.one(NODE_GROUP, "platform-l40s").inputs
    assert (gpu["amiType"], gpu["instanceTypes"], gpu["capacityType"]) == ("AL2023_x86_64_NVIDIA", ["g6e.xlarge"], "SPOT")
    assert gpu["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]
    assert gpu["subnetIds"] == ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0cccccccccccccccc", "subnet-0bbbbbbbbbbbbbbbb"]
    assert sorted(m.inputs["subnetId"] for m in recording.by_type("aws:efs/mountTarget:MountTarget")) == [
        "subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
    assert recording.by_type("aws:ec2/vpc:Vpc") == []
    daemonsets = {d.inputs["metadata"]["name"]: d.inputs["spec"]["template"]["spec"] for d in recording.by_type("kubernetes:apps/v1:DaemonSet")}
    assert daemonsets["nvidia-device-plugin-daemonset"]["nodeSelector"] == {"vllm-eks/accelerator": "gpu"}


def test_irsa_creates_the_oidc_provider_and_a_web_identity_role_for_the_controller(mixed):
    recording, _ = mixed
    assert recording.one("eks:index:Cluster", "platform").inputs["createOidcProvider"] is True
    addon = recording.one(ADDON, "platform-cache-csi-driver").inputs
    assert addon["serviceAccountRoleArn"] == "arn:aws:iam::123456789012:role/platform-cache-csi-driver-0123abc"
    assert "podIdentityAssociations" not in addon
    trust = json.loads(recording.one("aws:iam/role:Role", "platform-cache-csi-driver").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Action"] == "sts:AssumeRoleWithWebIdentity"


def test_model_dependencies_are_its_storage_class_device_plugin_node_group_and_its_scheduler(dev):
    _, built = dev
    platform = built["platform"]
    stack = load_stack_file(PROJECT_DIR / "Pulumi.dev.yaml")
    needs = model_dependencies(platform, stack.models[0])
    assert needs == [platform.storage_class, platform.device_plugins[stack.models[0].accelerator], platform.node_groups["inf2"],
                     platform.schedulers["my-scheduler"]]


def test_a_private_only_endpoint_in_a_new_vpc_fails_before_anything_registers():
    # Built without the loader (which would refuse it), as a library caller might.
    stack = StackConfig(node_groups=[{"name": "inf2", "instanceType": "inf2.xlarge"}])
    recording = run_program(lambda: build_platform(validate_stack(stack)), capture_error=True)
    assert isinstance(recording.error, ConfigError)
    assert recording.error.issues == endpoint_issues(stack.cluster)
    assert [issue.path for issue in recording.error.issues] == ["cluster.endpointPublicAccessCidrs"]
    assert recording.resources == []


@pytest.mark.parametrize("values, path", [
    ({"nodeGroups": [{"name": "inf2", "instanceType": "inf2.huge"}]}, "nodeGroups[0].instanceType"),
    ({"nodeGroups": [{"name": "inf2", "instanceType": "inf2.xlarge", "labels": {"k8s.io/x": "y"}}]}, "nodeGroups[0].labels.k8s.io/x"),
    ({"cluster": {"vpc": {"availabilityZones": ["us-west-2a"]}, **REACHABLE_CLUSTER}}, "cluster.vpc.availabilityZones"),
])
def test_invalid_platform_config_fails_before_any_resource_is_registered(values, path):
    recording = run_program(lambda: build_platform(validate_stack_config(values)), capture_error=True)
    assert isinstance(recording.error, ConfigError)
    assert [issue.path for issue in recording.error.issues] == [path]
    assert recording.resources == []


def test_an_eks_cluster_built_directly_refuses_an_unreachable_private_endpoint_before_registering():
    recording = run_program(lambda: EksCluster("c", EksClusterArgs(cluster=ClusterConfig(), name="c")), capture_error=True)
    assert isinstance(recording.error, ConfigError)
    assert [issue.path for issue in recording.error.issues] == ["cluster.endpointPublicAccessCidrs"]
    assert recording.resources == []


def test_new_subnets_go_in_availability_zones_only_never_an_opted_in_local_zone(dev):
    recording, _ = dev
    zones = sorted({subnet.inputs["availabilityZone"] for subnet in recording.by_type("aws:ec2/subnet:Subnet")})
    # The mock account lists us-west-2-lax-1a first, as EC2 does once the Local Zone is opted in.
    assert zones == ["us-west-2a", "us-west-2b"]


def test_more_zones_than_the_region_has_fail_with_the_key_before_anything_registers():
    cluster = ClusterConfig(vpc={"availabilityZoneCount": 5}, **REACHABLE_CLUSTER)
    recording = run_program(
        lambda: EksCluster("c", EksClusterArgs(cluster=cluster, name="c")),
        config={"aws:region": "us-west-2"}, capture_error=True,
    )
    assert isinstance(recording.error, ConfigError)
    assert [(issue.path, issue.message) for issue in recording.error.issues] == [(
        "cluster.vpc.availabilityZoneCount",
        "5 zones asked for, but region 'us-west-2' has 4 Availability Zones (us-west-2a, us-west-2b, us-west-2c, "
        "us-west-2d); set availabilityZoneCount to 4 or fewer, or choose a region with more zones",
    )]
    assert recording.resources == []


def test_the_identity_running_pulumi_up_gets_no_access_entry_but_every_other_admin_does():
    # preview/mock_outputs.py runs as a session of role vllm-eks-deployer in account 123456789012.
    cluster = ClusterConfig(admins=[
        {"principalArn": "arn:aws:iam::123456789012:role/ci/vllm-eks-deployer"},
        {"principalArn": "arn:aws:iam::123456789012:role/platform-admins"},
    ], **REACHABLE_CLUSTER)
    recording = run_program(lambda: EksCluster("c", EksClusterArgs(cluster=cluster, name="c")))
    entries = recording.one("eks:index:Cluster", "c").inputs["accessEntries"]
    assert sorted(entries) == ["admin-1"]
    assert entries["admin-1"]["principalArn"] == "arn:aws:iam::123456789012:role/platform-admins"


def test_a_ci_run_with_the_creator_recorded_keeps_cis_entry_and_adds_none_for_the_creator():
    # The mock caller is CI (a session of vllm-eks-deployer); the cluster was created by platform-admins.
    cluster = ClusterConfig(admins=[
        {"principalArn": "arn:aws:iam::123456789012:role/ci/vllm-eks-deployer"},
        {"principalArn": "arn:aws:iam::123456789012:role/platform-admins"},
    ], creator_arn="arn:aws:iam::123456789012:role/platform-admins", **REACHABLE_CLUSTER)
    recording = run_program(lambda: EksCluster("c", EksClusterArgs(cluster=cluster, name="c")))
    entries = recording.one("eks:index:Cluster", "c").inputs["accessEntries"]
    assert sorted(entries) == ["admin-0"]
    assert entries["admin-0"]["principalArn"] == "arn:aws:iam::123456789012:role/ci/vllm-eks-deployer"


def test_cache_claims_wait_for_the_storage_class_and_its_csi_driver(dev_recording):
    names_by_urn = {r.urn: r.name for r in dev_recording.resources}
    for claim in dev_recording.by_type("kubernetes:core/v1:PersistentVolumeClaim"):
        needs = {names_by_urn[urn] for urn in claim.dependencies}
        assert {"vllm-namespace", "platform-cache-efs", "platform-cache-csi-driver"} <= needs


def test_setting_only_the_system_instance_type_keeps_the_default_name_sizes_and_disk():
    recording, _ = record(parse_stack_config({"cluster": REACHABLE_CLUSTER, "systemNodeGroup": {"instanceType": "m5.xlarge"}}))
    system = recording.one(NODE_GROUP, "platform-system")
    assert system.inputs["instanceTypes"] == ["m5.xlarge"]
    assert system.inputs["scalingConfig"] == {"minSize": 2, "desiredSize": 2, "maxSize": 3}
    template = recording.one("aws:ec2/launchTemplate:LaunchTemplate", "platform-system-lt").inputs
    assert template["blockDeviceMappings"][0]["ebs"]["volumeSize"] == 50


def test_a_region_with_too_few_zones_fails_the_platform_before_even_the_platform_component_registers():
    stack = parse_stack_config({"cluster": {"vpc": {"availabilityZoneCount": 5}, **REACHABLE_CLUSTER}})
    recording = run_program(lambda: build_platform(validate_stack(stack)), capture_error=True)
    assert isinstance(recording.error, ConfigError)
    assert [issue.path for issue in recording.error.issues] == ["cluster.vpc.availabilityZoneCount"]
    assert recording.resources == []


@pytest.mark.parametrize("config, profile_args", [
    ({"aws:profile": "team-prod"}, ["--profile", "team-prod"]),
    ({}, []),
])
def test_the_kubernetes_provider_authenticates_with_the_stacks_aws_profile(config, profile_args):
    seen = {}

    def program():
        cluster = EksCluster("c", EksClusterArgs(cluster=ClusterConfig(**REACHABLE_CLUSTER), name="c"))
        cluster.provider_kubeconfig.apply(lambda text: seen.setdefault("provider", json.loads(text)))
        cluster.kubeconfig.apply(lambda text: seen.setdefault("exported", json.loads(text)))

    run_program(program, config=config)
    get_token = ["eks", "get-token", "--cluster-name", "c", "--output", "json"]
    assert seen["provider"]["users"][0]["user"]["exec"]["args"] == get_token + profile_args
    # The exported kubeconfig stays as pulumi-eks builds it, so each user's own credentials apply.
    assert seen["exported"]["users"][0]["user"]["exec"]["args"] == get_token
