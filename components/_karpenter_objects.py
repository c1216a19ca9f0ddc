"""Pure builders for Karpenter: a NodePool and EC2NodeClass per `capacity: karpenter` node group, the controller
chart's values, and the interruption queue's EventBridge rules.

Field semantics: aws/karpenter-provider-aws v1.14.1, website/content/en/docs/concepts/nodepools.md (NP),
nodeclasses.md (NC) and disruption.md (DI). Rendered objects are checked against the CRDs of the same release
(tests/components/test_karpenter.py).
"""

from __future__ import annotations

import json
from typing import Any

from ..config.accelerators import ACCELERATORS
from ..config.charts import KARPENTER_CHART, KARPENTER_CONTROLLER_IMAGE
from ..config.platform.node_groups import NODE_GROUP_LABEL, SYSTEM_NODE_GROUP_NAME, CapacityType, NodeGroupConfig
from ..config.scheduling import node_taints
from ._labels import managed_labels
from ._node_group_args import IMDS_HOP_LIMIT, ROOT_DEVICE

Object = dict[str, Any]
DISCOVERY_TAG = "karpenter.sh/discovery"
"""Tag on the private subnets and the cluster security group that the EC2NodeClass selects them by (NC,
subnetSelectorTerms / securityGroupSelectorTerms `tags`; the getting-started guide tags both with this key)."""
SERVICE_ACCOUNT = "karpenter"
"""The chart's service account: its fullname, `karpenter` for a release of that name (charts/karpenter _helpers.tpl)."""
# NP `karpenter.sh/capacity-type` values.
_CAPACITY_TYPES = {CapacityType.ON_DEMAND: "on-demand", CapacityType.SPOT: "spot"}
# The interruption events Karpenter acts on, as its CloudFormation template routes them to the queue
# (getting-started-with-karpenter/cloudformation.yaml: ScheduledChangeRule, SpotInterruptionRule,
# RebalanceRule, InstanceStateChangeRule, CapacityReservationInterruptionRule).
INTERRUPTION_EVENTS: dict[str, Object] = {
    "scheduled-change": {"source": ["aws.health"], "detail-type": ["AWS Health Event"]},
    "spot-interruption": {"source": ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"]},
    "rebalance": {"source": ["aws.ec2"], "detail-type": ["EC2 Instance Rebalance Recommendation"]},
    "state-change": {"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"]},
    "capacity-reservation-interruption": {
        "source": ["aws.ec2"], "detail-type": ["EC2 Capacity Reservation Instance Interruption Warning"]},
}
QUEUE_RETENTION_SECONDS = 300
"""The template's MessageRetentionPeriod: an interruption notice older than five minutes is past acting on."""


def event_pattern(reason: str) -> str:
    return json.dumps(INTERRUPTION_EVENTS[reason])


def limits(group: NodeGroupConfig) -> dict[str, str]:
    """At most maxSize nodes, stated in nodes and in the accelerator units models request (NP spec.limits:
    "If a limit has been exceeded, nodes provisioning is prevented"; Karpenter counts `aws.amazon.com/neuroncore`
    and `nvidia.com/gpu` in an instance's capacity, pkg/providers/instancetype/types.go)."""
    spec, nodes = group.instance, group.resolved_max_size
    found = {"nodes": str(nodes), "cpu": str(spec.vcpu * nodes)}
    if group.accelerator is not None:
        found[ACCELERATORS[group.accelerator].resource_name] = str(spec.schedulable_accelerators * nodes)
    return found


def disruption_budgets() -> list[Object]:
    """Per reason (DI, NodePool Disruption Budgets, Reasons): never consolidate a node that holds pods
    (Underutilized: 0), replace drifted nodes one at a time, remove empty nodes freely."""
    return [
        {"nodes": "0", "reasons": ["Underutilized"]},
        {"nodes": "1", "reasons": ["Drifted"]},
        {"nodes": "100%", "reasons": ["Empty"]},
    ]


def node_pool_object(group: NodeGroupConfig) -> Object:
    pool = group.karpenter
    return {
        "apiVersion": "karpenter.sh/v1",
        "kind": "NodePool",
        "metadata": {"name": group.name, "labels": managed_labels(f"{group.name}-node-pool")},
        "spec": {
            "template": {
                # NP spec.template.metadata.labels: put on every node, so models select the same labels as on
                # managed groups (the kubelet sets node.kubernetes.io/instance-type, Karpenter its
                # karpenter.k8s.aws/instance-family, the label the GPU guide meant).
                "metadata": {"labels": group.node_labels},
                "spec": {
                    "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": group.name},
                    # One instance type, as placement sized the models against it (config/placement/).
                    "requirements": [
                        {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": [group.instance_type]},
                        {"key": "karpenter.sh/capacity-type", "operator": "In", "values": [_CAPACITY_TYPES[group.capacity_type]]},
                    ],
                    "taints": node_taints(group),
                    "expireAfter": pool.expire_after,
                    "terminationGracePeriod": pool.termination_grace_period,
                },
            },
            "limits": limits(group),
            "disruption": {
                # WhenEmpty: only nodes without running pods are consolidated (DI, Consolidation).
                "consolidationPolicy": "WhenEmpty",
                "consolidateAfter": pool.consolidate_after,
                "budgets": disruption_budgets(),
            },
        },
    }


def ec2_node_class_object(group: NodeGroupConfig, node_role: Any, discovery: str) -> Object:
    """`node_role` is the node role's name (an Output at run time). The AL2023 alias picks the Neuron or NVIDIA
    variant of the EKS-optimized AMI by instance type (pkg/providers/amifamily/al2023.go: variants standard,
    nvidia, neuron); `amiVersion` pins the release."""
    selector = [{"tags": {DISCOVERY_TAG: discovery}}]
    return {
        "apiVersion": "karpenter.k8s.aws/v1",
        "kind": "EC2NodeClass",
        "metadata": {"name": group.name, "labels": managed_labels(f"{group.name}-node-class")},
        "spec": {
            "role": node_role,
            "amiSelectorTerms": [{"alias": f"al2023@{group.karpenter.ami_version}"}],
            "subnetSelectorTerms": selector,
            "securityGroupSelectorTerms": selector,
            # The managed groups' launch template, restated (components/_node_group_args.py).
            "metadataOptions": {"httpEndpoint": "enabled", "httpTokens": "required",
                                "httpPutResponseHopLimit": IMDS_HOP_LIMIT},
            "blockDeviceMappings": [{"deviceName": ROOT_DEVICE, "ebs": {
                "volumeSize": f"{group.disk_size_gib}Gi", "volumeType": "gp3", "encrypted": True, "deleteOnTermination": True}}],
            "tags": {"Name": f"vllm-eks-{group.name}"},
        },
    }


def chart_values(cluster_name: Any, queue_name: Any) -> Object:
    """The controller on the system nodes (keys of charts/karpenter/values.yaml at 1.14.1). The chart's own
    affinity already keeps it off nodes Karpenter launched (karpenter.sh/nodepool DoesNotExist)."""
    return {
        "settings": {"clusterName": cluster_name, "interruptionQueue": queue_name},
        "serviceAccount": {"name": SERVICE_ACCOUNT},
        "nodeSelector": {"kubernetes.io/os": "linux", NODE_GROUP_LABEL: SYSTEM_NODE_GROUP_NAME},
        # The release's own image, not whatever a chart tree names (config/charts.py KARPENTER_CONTROLLER_IMAGE).
        "controller": {"image": {"repository": KARPENTER_CONTROLLER_IMAGE.repository, "tag": KARPENTER_CONTROLLER_IMAGE.tag,
                                 "digest": KARPENTER_CONTROLLER_IMAGE.digest}},
    }


def chart_args() -> Object:
    return {"chart": KARPENTER_CHART.chart, "version": KARPENTER_CHART.version, "namespace": KARPENTER_CHART.namespace}
