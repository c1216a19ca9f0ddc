"""Outputs the mock engine returns for resources whose real outputs come from a cloud.

A mocked resource echoes its inputs; this adds the computed outputs components read
(ids, ARNs, kubeconfig), shaped like the real provider's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

_ACCOUNT = "123456789012"
_REGION = "us-west-2"

_OutputsFor = Callable[[str, dict[str, Any]], dict[str, Any]]


def _arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{_REGION}:{_ACCOUNT}:{resource}"


def _kubeconfig(cluster_name: str) -> dict[str, Any]:
    # The shape pulumi-eks returns: an exec credential plugin calling `aws eks get-token`.
    server = f"https://{cluster_name.upper()}0123456789ABCDEF.gr7.{_REGION}.eks.amazonaws.com"
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "kubernetes", "cluster": {"server": server, "certificate-authority-data": "LS0tLS1CRUdJTi0tLS0t"}}],
        "contexts": [{"name": "aws", "context": {"cluster": "kubernetes", "user": "aws"}}],
        "current-context": "aws",
        "users": [{"name": "aws", "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "aws",
            "args": ["eks", "get-token", "--cluster-name", cluster_name, "--output", "json"],
        }}}],
    }


def _eks_cluster(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    cluster_name = inputs.get("name") or f"{name}-eksCluster-0123abc"
    kubeconfig = _kubeconfig(cluster_name)
    issuer = f"oidc.eks.{_REGION}.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF"
    return {
        "kubeconfig": kubeconfig,
        "kubeconfigJson": json.dumps(kubeconfig),
        # With skipDefaultSecurityGroups both are the EKS-created cluster security group.
        "clusterSecurityGroupId": "sg-0c1a55e7c0ffee001",
        "nodeSecurityGroupId": "sg-0c1a55e7c0ffee001",
        "oidcIssuer": issuer,
        "oidcProviderUrl": f"https://{issuer}",
        "oidcProviderArn": f"arn:aws:iam::{_ACCOUNT}:oidc-provider/{issuer}" if inputs.get("createOidcProvider") else "",
    }


def _iam_role(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    physical = inputs.get("name") or f"{name}-0123abc"
    return {"name": physical, "arn": f"arn:aws:iam::{_ACCOUNT}:role/{physical}", "uniqueId": "AROA0123456789EXAMPLE"}


def _availability_zones(_: str, inputs: dict[str, Any]) -> dict[str, Any]:
    # An account that opted in to the Los Angeles Local Zone: EC2 lists it with the region's zones,
    # sorted by name, unless the call filters on opt-in-status.
    zones = [(f"{_REGION}-lax-1a", "usw2-lax1-az1", "opted-in")]
    zones += [(f"{_REGION}{suffix}", f"usw2-az{i}", "opt-in-not-required") for i, suffix in enumerate("abcd", 1)]
    for wanted in inputs.get("filters") or []:
        if wanted.get("name") == "opt-in-status":
            zones = [zone for zone in zones if zone[2] in wanted.get("values", [])]
    return {"names": [z[0] for z in zones], "zoneIds": [z[1] for z in zones], "id": _REGION}


_OUTPUTS: dict[str, _OutputsFor] = {
    "eks:index:Cluster": _eks_cluster,
    "aws:iam/role:Role": _iam_role,
    "aws:ec2/launchTemplate:LaunchTemplate": lambda name, inputs: {
        "latestVersion": 1, "defaultVersion": 1, "arn": _arn("ec2", f"launch-template/lt-{abs(hash(name)) % 10**8:08d}"),
    },
    "aws:eks/nodeGroup:NodeGroup": lambda name, inputs: {
        "nodeGroupName": inputs.get("nodeGroupName") or f"{name}-0123abc", "status": "ACTIVE",
        "arn": _arn("eks", f"nodegroup/{inputs.get('clusterName')}/{name}-0123abc/0"),
    },
    "aws:eks/addon:Addon": lambda name, inputs: {
        "addonVersion": inputs.get("addonVersion") or "v1.0.0-eksbuild.1",
        "arn": _arn("eks", f"addon/{inputs.get('clusterName')}/{inputs.get('addonName')}/0"),
    },
    "aws:efs/fileSystem:FileSystem": lambda name, inputs: {
        "arn": _arn("elasticfilesystem", f"file-system/{name}-id"),
        "dnsName": f"{name}-id.efs.{_REGION}.amazonaws.com",
    },
    "aws:ec2/securityGroup:SecurityGroup": lambda name, inputs: {"arn": _arn("ec2", f"security-group/{name}-id")},
    "aws:ec2/vpc:Vpc": lambda name, inputs: {"arn": _arn("ec2", f"vpc/{name}-id"), "defaultSecurityGroupId": f"{name}-default-sg"},
    "aws:index/getAvailabilityZones:getAvailabilityZones": _availability_zones,
    # ACM answers a DNS-validated request with one CNAME per name (aws_acm_certificate domain_validation_options).
    "aws:acm/certificate:Certificate": lambda name, inputs: {
        "arn": _arn("acm", f"certificate/{name}-0000"),
        "domainValidationOptions": [
            {"domainName": domain, "resourceRecordName": f"_x{index}.{domain}.", "resourceRecordType": "CNAME",
             "resourceRecordValue": f"_y{index}.acm-validations.aws."}
            for index, domain in enumerate([inputs.get("domainName"), *(inputs.get("subjectAlternativeNames") or [])])
        ],
    },
    "aws:route53/record:Record": lambda name, inputs: {"fqdn": str(inputs.get("name", "")).rstrip(".")},
    "aws:index/getRegion:getRegion": lambda _, inputs: {"name": _REGION, "region": _REGION, "id": _REGION},
    "aws:index/getPartition:getPartition": lambda _, inputs: {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"},
    "aws:sqs/queue:Queue": lambda name, inputs: {
        "name": inputs.get("name") or f"{name}-0123abc", "arn": _arn("sqs", inputs.get("name") or f"{name}-0123abc"),
        "url": f"https://sqs.{_REGION}.amazonaws.com/{_ACCOUNT}/{inputs.get('name') or name + '-0123abc'}",
    },
    "aws:cloudwatch/eventRule:EventRule": lambda name, inputs: {
        "name": inputs.get("name") or f"{name}-0123abc", "arn": _arn("events", f"rule/{name}-0123abc"),
    },
    "aws:eks/getCluster:getCluster": lambda _, inputs: {"arn": _arn("eks", f"cluster/{inputs.get('name')}"), "name": inputs.get("name")},
    # The identity the offline preview pretends to run as: a session of a deployer role.
    "aws:index/getCallerIdentity:getCallerIdentity": lambda _, inputs: {
        "accountId": _ACCOUNT, "arn": f"arn:aws:sts::{_ACCOUNT}:assumed-role/vllm-eks-deployer/preview",
        "userId": "AROA0123456789EXAMPLE:preview", "id": _ACCOUNT,
    },
}


def mock_outputs(type_: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """Computed outputs for `type_` (a resource type or invoke token); {} when none are needed."""
    outputs_for = _OUTPUTS.get(type_)
    return outputs_for(name, inputs) if outputs_for else {}
