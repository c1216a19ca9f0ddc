"""Karpenter as the prod stack registers it: the controller's chart and identity, the interruption queue, the
node role's access entry, and a NodePool + EC2NodeClass per `capacity: karpenter` group whose nodes carry what
models select and tolerate."""

from __future__ import annotations

import json

import pytest

from tests.conftest import PROJECT_DIR, recording_for
from vllm_eks.components import _karpenter_objects as build
from vllm_eks.config.loader import load_stack_file
from vllm_eks.config.platform.node_groups import NodeGroupConfig
from vllm_eks.config.scheduling import node_selector, tolerations
from vllm_eks.preview.render import manifests


@pytest.fixture(scope="module")
def prod():
    return recording_for("prod")


def _of_type(recording, type_):
    return [r for r in recording.resources if r.type == type_]


def test_the_controller_chart_is_pinned_and_runs_on_the_system_nodes_with_the_queue(prod):
    chart = next(r for r in prod.resources if r.type == "kubernetes:helm.sh/v4:Chart" and "karpenter" in r.name)
    assert (chart.inputs["chart"], chart.inputs["version"], chart.inputs["namespace"]) == (
        "oci://public.ecr.aws/karpenter/karpenter", "1.14.1", "kube-system")
    values = chart.inputs["values"]
    assert values["nodeSelector"]["vllm-eks/node-group"] == "system"
    queue = _of_type(prod, "aws:sqs/queue:Queue")[0]
    assert values["settings"]["interruptionQueue"] == f"{queue.name}-0123abc"
    assert values["settings"]["clusterName"] == "vllm-eks-prod"


def test_the_controller_gets_its_role_through_pod_identity_for_the_charts_service_account(prod):
    association = _of_type(prod, "aws:eks/podIdentityAssociation:PodIdentityAssociation")
    karpenter = [a for a in association if a.inputs["serviceAccount"] == "karpenter"]
    assert len(karpenter) == 1 and karpenter[0].inputs["namespace"] == "kube-system"
    policy = json.loads(next(r for r in _of_type(prod, "aws:iam/rolePolicy:RolePolicy") if "karpenter" in r.name).inputs["policy"])
    sids = {statement["Sid"] for statement in policy["Statement"]}
    assert {"AllowScopedEC2InstanceAccessActions", "AllowPassingInstanceRole", "AllowInterruptionQueueActions",
            "AllowAPIServerEndpointDiscovery", "AllowRegionalReadActions"} <= sids


def test_every_interruption_event_reaches_the_queue(prod):
    rules = _of_type(prod, "aws:cloudwatch/eventRule:EventRule")
    detail_types = {json.loads(rule.inputs["eventPattern"])["detail-type"][0] for rule in rules}
    assert detail_types == {"AWS Health Event", "EC2 Spot Instance Interruption Warning",
                            "EC2 Instance Rebalance Recommendation", "EC2 Instance State-change Notification",
                            "EC2 Capacity Reservation Instance Interruption Warning"}
    assert len(_of_type(prod, "aws:cloudwatch/eventTarget:EventTarget")) == len(rules)


def test_karpenters_nodes_join_through_an_ec2_linux_access_entry_and_subnets_carry_the_discovery_tag(prod):
    entries = [r for r in _of_type(prod, "aws:eks/accessEntry:AccessEntry") if "karpenter" in r.name]
    assert [entry.inputs["type"] for entry in entries] == ["EC2_LINUX"]
    tags = _of_type(prod, "aws:ec2/tag:Tag")
    assert {tag.inputs["key"] for tag in tags} == {"karpenter.sh/discovery"}
    assert len(tags) == 3  # two private subnets and the cluster security group


def test_only_managed_groups_become_managed_node_groups(prod):
    names = {r.inputs["labels"]["vllm-eks/node-group"] for r in _of_type(prod, "aws:eks/nodeGroup:NodeGroup")}
    assert names == {"system", "p5"}


def test_each_node_pool_gives_its_nodes_what_the_models_select_and_tolerate():
    stack = load_stack_file(PROJECT_DIR / "Pulumi.prod.yaml")
    pools = {o["metadata"]["name"]: o for o in manifests(recording_for("prod")) if o["kind"] == "NodePool"}
    for model in stack.models:
        group = stack.node_group(model.node_group)
        assert group is not None
        if not group.is_karpenter:
            continue
        template = pools[group.name]["spec"]["template"]
        labels = {**template["metadata"]["labels"], "node.kubernetes.io/instance-type": template["spec"]["requirements"][0]["values"][0]}
        assert node_selector(group).items() <= labels.items()
        assert all(any(t["key"] == taint["key"] for t in tolerations(model)) for taint in template["spec"]["taints"])


@pytest.mark.parametrize("instance_type, resource, units", [
    ("inf2.24xlarge", "aws.amazon.com/neuroncore", 24), ("g6e.xlarge", "nvidia.com/gpu", 2)])
def test_limits_are_max_size_nodes_in_accelerator_units(instance_type, resource, units):
    group = NodeGroupConfig(name="pool", instance_type=instance_type, capacity="karpenter", max_size=2)
    limits = build.node_pool_object(group)["spec"]["limits"]
    assert limits["nodes"] == "2" and limits[resource] == str(units)


def test_no_budget_lets_karpenter_consolidate_a_node_that_runs_pods():
    group = NodeGroupConfig(name="pool", instance_type="g6e.xlarge", capacity="karpenter")
    disruption = build.node_pool_object(group)["spec"]["disruption"]
    assert disruption["consolidationPolicy"] == "WhenEmpty"
    assert {"nodes": "0", "reasons": ["Underutilized"]} in disruption["budgets"]


def test_pods_on_karpenter_nodes_are_protected_while_they_start_and_managed_ones_are_not():
    deployments = {o["metadata"]["name"]: o for o in manifests(recording_for("prod")) if o["kind"] == "Deployment"}
    annotations = deployments["qwen3-32b-fp8"]["spec"]["template"]["metadata"]["annotations"]
    assert annotations == {"karpenter.sh/do-not-disrupt": "1800s"}  # the startup probe's budget
    assert "annotations" not in deployments["llama-3-3-70b"]["spec"]["template"]["metadata"]
