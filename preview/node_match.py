"""Which managed node group a pod template lands on: its node selector against the group's labels (and the
instance type the kubelet sets), and its tolerations against the group's taints. Shared by the deploy
rehearsal and the diff's node-group rolls; both read plan inputs (dicts), as registered."""

from __future__ import annotations

from typing import Any

NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
_TAINT_EFFECTS = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE": "PreferNoSchedule"}
_POD_SPEC_PATHS = {
    "kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
}


def labels_match(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


NODE_POOL_KIND = "NodePool"


def _pool_template(pool: dict[str, Any]) -> dict[str, Any]:
    return dict((pool.get("spec") or {}).get("template") or {})


def node_labels(group: dict[str, Any]) -> dict[str, str]:
    """A node group's own labels (its inputs) plus the instance type the kubelet sets on every node; for a
    Karpenter NodePool, its template's labels and the one instance type its requirements allow."""
    if group.get("kind") == NODE_POOL_KIND:
        template = _pool_template(group)
        found = dict((template.get("metadata") or {}).get("labels") or {})
        for requirement in (template.get("spec") or {}).get("requirements") or []:
            if requirement.get("key") == "node.kubernetes.io/instance-type" and len(requirement.get("values") or []) == 1:
                found["node.kubernetes.io/instance-type"] = requirement["values"][0]
        return found
    labels = dict(group.get("labels") or {})
    instance_types = group.get("instanceTypes") or []
    if len(instance_types) == 1:
        labels["node.kubernetes.io/instance-type"] = instance_types[0]
    return labels


def tolerated(group: dict[str, Any], tolerations: list[dict[str, Any]]) -> bool:
    """Every NoSchedule/NoExecute taint of the group (EKS API spelling, or a NodePool template's) has a matching toleration."""
    taints = (_pool_template(group).get("spec") or {}).get("taints") if group.get("kind") == NODE_POOL_KIND else group.get("taints")
    for taint in taints or []:
        effect = _TAINT_EFFECTS.get(taint.get("effect", ""), taint.get("effect"))
        if effect == "PreferNoSchedule":
            continue
        if not any(
            (t.get("key") == taint.get("key") or (t.get("operator") == "Exists" and not t.get("key")))
            and t.get("effect") in (None, "", effect)
            and (t.get("operator") == "Exists" or t.get("value") == taint.get("value"))
            for t in tolerations
        ):
            return False
    return True


def pod_spec(type_: str, inputs: dict[str, Any]) -> dict[str, Any] | None:
    """The pod template's spec of a workload kind, None for other kinds."""
    path = _POD_SPEC_PATHS.get(type_)
    if path is None:
        return None
    value: Any = inputs
    for key in path:
        value = (value or {}).get(key) if isinstance(value, dict) else None
    return value if isinstance(value, dict) else {}


def runs_on(pod: dict[str, Any], group: dict[str, Any]) -> bool:
    """Whether a pod with this spec can schedule onto the group's nodes."""
    return labels_match(pod.get("nodeSelector") or {}, node_labels(group)) and tolerated(group, pod.get("tolerations") or [])
