"""Platform config: defaults, and every platform mistake caught with its path and fix before any resource."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.config.stacks import REACHABLE_CLUSTER, warnings_of
from vllm_eks.config.errors import ConfigError, ConfigIssue
from vllm_eks.config.loader import load_stack_file, parse_stack_config
from vllm_eks.config.platform.cluster import ClusterConfig, NatGateways
from vllm_eks.config.platform.efs import ServiceAccountIdentity
from vllm_eks.config.platform.rules import endpoint_issues, platform_warnings

PROJECT_DIR = Path(__file__).resolve().parents[2]
INF2 = {"name": "inf2", "instanceType": "inf2.xlarge"}


def reachable(values: dict) -> dict:
    """The values with a public endpoint listed, unless they use an existing VPC, so each test
    meets only the mistake it is about (a new VPC with a private-only endpoint is one)."""
    cluster = dict(values.get("cluster", {}))
    if "existingVpc" not in cluster:
        cluster.setdefault("endpointPublicAccessCidrs", REACHABLE_CLUSTER["endpointPublicAccessCidrs"])
    return {**values, "cluster": cluster}


def parse(values: dict):
    return parse_stack_config(reachable(values))


def issues_of(values: dict) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as caught:
        parse(values)
    return [(issue.path, issue.message) for issue in caught.value.issues]


def existing_vpc(*subnets: tuple[str, str]) -> dict:
    return {"existingVpc": {
        "vpcId": "vpc-0123456789abcdef0",
        "privateSubnets": [{"id": subnet_id, "availabilityZone": zone} for subnet_id, zone in subnets],
    }}


def test_platform_defaults_are_the_secure_and_documented_ones():
    assert ClusterConfig().endpoint_public_access_cidrs == []  # no public API endpoint unless asked
    stack = parse({"nodeGroups": [INF2]})
    assert stack.cluster.kubernetes_version == "1.35"
    assert stack.cluster.control_plane_logs == ["api", "audit", "authenticator", "controllerManager", "scheduler"]
    assert stack.cluster.vpc.availability_zone_count == 2
    assert stack.cluster.vpc.nat_gateways is NatGateways.SINGLE
    assert stack.cluster.resolved_name("dev") == "vllm-eks-dev"
    assert (stack.system_node_group.name, stack.system_node_group.instance_type) == ("system", "m6i.large")
    assert (stack.system_node_group.min_size, stack.system_node_group.resolved_max_size) == (2, 3)
    assert stack.system_node_group.accelerator is None
    assert stack.efs.identity is ServiceAccountIdentity.POD_IDENTITY
    assert stack.efs.directory_perms == "700"


def test_dev_stack_has_an_inf2_xlarge_group_with_a_node_per_model():
    stack = load_stack_file(PROJECT_DIR / "Pulumi.dev.yaml")
    group = stack.node_group("inf2")
    neuron_models = [model for model in stack.models if model.node_group == "inf2"]
    assert group.instance_type == "inf2.xlarge"
    assert group.resolved_desired_size >= len(neuron_models) == 2
    assert stack.cluster.kubernetes_version == "1.35"


def test_an_instance_type_one_letter_off_a_catalog_type_is_answered_with_that_type():
    assert issues_of({"nodeGroups": [{"name": "big", "instanceType": "inf3.xlarge"}]}) == [(
        "nodeGroups[0].instanceType", "unknown instance type 'inf3.xlarge'; did you mean 'inf2.xlarge'?",
    )]


def test_an_instance_type_far_from_the_catalog_names_the_families_and_how_to_describe_it():
    [(path, message)] = issues_of({"nodeGroups": [{"name": "big", "instanceType": "x2idn.metal"}]})
    assert path == "nodeGroups[0].instanceType"
    assert message.startswith("'x2idn.metal' is not in the instance catalog (families g5, g6, g6e, inf2, m5, m6i, m7i, "
                              "p4d, p4de, p5, p5e, p5en, t3, trn1, trn1n); if AWS offers it, describe")
    assert "instanceFacts: {vcpu: <vCPUs>, memoryGib: <GiB>" in message


def test_reserved_label_prefix_is_rejected_with_a_replacement():
    group = {**INF2, "labels": {"eks.amazonaws.com/instance-family": "inf2"}}
    assert issues_of({"nodeGroups": [group]}) == [(
        "nodeGroups[0].labels.eks.amazonaws.com/instance-family",
        "label 'eks.amazonaws.com/instance-family' uses the reserved prefix 'eks.amazonaws.com/', which the EKS API "
        "rejects on managed node groups; use a prefix of your own such as 'example.com/instance-family'",
    )]


def test_reserved_label_prefix_on_the_system_group_is_rejected_too():
    system = {"name": "system", "instanceType": "m6i.large", "labels": {"node.kubernetes.io/role": "system"}}
    [(path, message)] = issues_of({"systemNodeGroup": system})
    assert path == "systemNodeGroup.labels.node.kubernetes.io/role"
    assert "reserved prefix 'kubernetes.io/'" in message


def test_existing_subnets_in_one_zone_fail_with_the_subnets_and_the_fix():
    cluster = existing_vpc(("subnet-0aaaaaaaaaaaaaaaa", "us-west-2a"), ("subnet-0bbbbbbbbbbbbbbbb", "us-west-2a"))
    assert issues_of({"cluster": cluster}) == [(
        "cluster.existingVpc.privateSubnets",
        "subnets subnet-0aaaaaaaaaaaaaaaa, subnet-0bbbbbbbbbbbbbbbb are all in us-west-2a; EKS needs node subnets in "
        "at least two availability zones; add a private subnet in another zone",
    )]


def test_listed_zones_must_be_two_different_ones():
    assert issues_of({"cluster": {"vpc": {"availabilityZones": ["us-west-2a", "us-west-2a"]}}}) == [(
        "cluster.vpc.availabilityZones",
        "zones us-west-2a, us-west-2a are all in us-west-2a; EKS needs node subnets in at least two availability "
        "zones; list a second, different zone",
    )]


def test_a_single_zone_count_is_rejected_by_its_bound():
    [(path, message)] = issues_of({"cluster": {"vpc": {"availabilityZoneCount": 1}}})
    assert path == "cluster.vpc.availabilityZoneCount"
    assert "greater than or equal to 2" in message


def test_subnets_in_two_zones_are_accepted_and_one_mount_target_subnet_per_zone_is_chosen():
    cluster = existing_vpc(
        ("subnet-0aaaaaaaaaaaaaaaa", "us-west-2a"),
        ("subnet-0cccccccccccccccc", "us-west-2a"),
        ("subnet-0bbbbbbbbbbbbbbbb", "us-west-2b"),
    )
    stack = parse({"cluster": cluster})
    assert [s.id for s in stack.cluster.existing_vpc.subnet_per_zone()] == ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]


def test_setting_both_a_new_and_an_existing_vpc_is_a_contradiction():
    cluster = {**existing_vpc(("subnet-0aaaaaaaaaaaaaaaa", "us-west-2a"), ("subnet-0bbbbbbbbbbbbbbbb", "us-west-2b")),
               "vpc": {"cidrBlock": "10.1.0.0/16"}}
    assert issues_of({"cluster": cluster}) == [(
        "cluster.vpc", "both vpc (create a VPC) and existingVpc (use one) are set; remove one of them",
    )]


def test_an_accelerator_system_group_is_rejected_because_its_taint_repels_coredns():
    [(path, message)] = issues_of({"systemNodeGroup": {"name": "system", "instanceType": "g5.xlarge"}})
    assert path == "systemNodeGroup.instanceType"
    assert message.startswith(
        "'g5.xlarge' has gpu accelerators, whose taint keeps CoreDNS and the EFS CSI controller off it; "
        "use a CPU instance type (m5.2xlarge, m5.large,"
    )


def test_a_node_group_named_like_the_system_group_is_rejected():
    assert issues_of({"nodeGroups": [{"name": "system", "instanceType": "inf2.xlarge"}]}) == [(
        "nodeGroups[0].name",
        "'system' is the system node group's name; rename this group or set systemNodeGroup.name",
    )]


@pytest.mark.parametrize("cidr, message", [
    ("10.0.0.0/24", "'10.0.0.0/24' is too small for node and pod addresses (the VPC CNI gives every pod a VPC address); "
                    "use a /16 to /20 block such as '10.0.0.0/16'"),
    ("10.0.0.0/8", "'10.0.0.0/8' is larger than AWS allows for a VPC (/16 at most); use a /16 to /20 block"),
])
def test_vpc_cidr_must_leave_room_for_pods_and_fit_aws_limits(cidr, message):
    assert issues_of({"cluster": {"vpc": {"cidrBlock": cidr}}}) == [("cluster.vpc.cidrBlock", message)]


def test_public_access_cidr_with_host_bits_is_rejected_with_an_example():
    assert issues_of({"cluster": {"endpointPublicAccessCidrs": ["203.0.113.7/24"]}}) == [(
        "cluster.endpointPublicAccessCidrs[0]",
        "'203.0.113.7/24' is not an IPv4 CIDR block with its host bits zero; write it like '203.0.113.0/24' "
        "(a single address is '203.0.113.7/32')",
    )]


PRIVATE_ENDPOINT_IN_A_NEW_VPC = (
    "[] turns the public API endpoint off, and existingVpc is not set, so the stack creates its own VPC: the "
    "private endpoint answers only inside that new VPC, and pulumi, running outside it, cannot reach the API to "
    "create the cluster's Kubernetes objects on the first `pulumi up`; list the CIDRs pulumi and kubectl run "
    "from (e.g. ['203.0.113.7/32']), or create the network separately, pass it as existingVpc and run pulumi "
    "from inside it"
)


def test_a_private_only_endpoint_in_a_vpc_the_stack_creates_is_rejected_with_both_fixes():
    assert endpoint_issues(ClusterConfig()) == [
        ConfigIssue("cluster.endpointPublicAccessCidrs", PRIVATE_ENDPOINT_IN_A_NEW_VPC),
    ]
    assert endpoint_issues(ClusterConfig(endpoint_public_access_cidrs=["198.51.100.0/24"])) == []


def test_an_existing_vpc_keeps_the_public_endpoint_off_by_default():
    cluster = existing_vpc(("subnet-0aaaaaaaaaaaaaaaa", "us-west-2a"), ("subnet-0bbbbbbbbbbbbbbbb", "us-west-2b"))
    stack = parse({"cluster": cluster})
    assert stack.cluster.endpoint_public_access_cidrs == []
    assert endpoint_issues(stack.cluster) == []


def test_a_stack_that_would_create_an_unreachable_cluster_fails_validation():
    with pytest.raises(ConfigError) as caught:
        parse_stack_config({"nodeGroups": [INF2]})
    assert caught.value.issues == [ConfigIssue("cluster.endpointPublicAccessCidrs", PRIVATE_ENDPOINT_IN_A_NEW_VPC)]


def test_the_committed_stacks_list_public_cidrs_for_the_vpc_they_create():
    for name in ("dev", "prod"):
        assert endpoint_issues(load_stack_file(PROJECT_DIR / f"Pulumi.{name}.yaml").cluster) == []


def test_an_open_public_endpoint_is_a_warning_not_an_error():
    stack = parse({"cluster": {"endpointPublicAccessCidrs": ["0.0.0.0/0"]}})
    [warning] = platform_warnings(stack)
    assert warning.startswith("cluster.endpointPublicAccessCidrs: 0.0.0.0/0 exposes the Kubernetes API endpoint")


def test_a_node_group_no_model_uses_is_a_warning_so_platform_only_stacks_work():
    stack = parse({"nodeGroups": [INF2]})
    assert warnings_of(stack) == [
        "nodeGroups[0] 'inf2' runs no model; its nodes cost money while idle (fine for a platform-only stack)"
    ]


def test_a_model_whose_accelerator_no_node_group_provides_fails_at_its_accelerator():
    dev = load_stack_file(PROJECT_DIR / "Pulumi.dev.yaml")
    model = dev.models[0].model_dump(by_alias=True, exclude_none=True)
    model.update(accelerator="gpu", neuronConfig=None)
    model = {key: value for key, value in model.items() if value is not None}
    issues = issues_of({"nodeGroups": [INF2], "models": [model]})
    paths = [path for path, _ in issues]
    assert "models[0].accelerator" in paths
    message = dict(issues)["models[0].accelerator"]
    assert "gpu" in message and "'inf2'" in message
