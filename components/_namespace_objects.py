"""Pure builders for what a model namespace holds: Namespace, cache claims, token Secret, NetworkPolicy.

No Pulumi here. The components register exactly these dicts, and the offline preview renders
what the components registered, so a test of a builder is a test of `pulumi up`.
"""

from __future__ import annotations

from typing import Any

from ..config.stack import CacheVolumesConfig
from ._labels import recommended_labels

HF_CACHE_CLAIM = "huggingface-cache"
NEURON_CACHE_CLAIM = "neuron-cache"
HF_TOKEN_SECRET = "hf-token"
HF_TOKEN_KEY = "token"

Object = dict[str, Any]


def namespace_object(name: str) -> Object:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "labels": {
                **recommended_labels(name, "model-namespace"),
                # vLLM images run as root, which "restricted" forbids; enforce the strongest
                # level they pass and report what "restricted" would reject.
                "pod-security.kubernetes.io/enforce": "baseline",
                "pod-security.kubernetes.io/warn": "restricted",
                "pod-security.kubernetes.io/audit": "restricted",
            },
        },
    }


def cache_claim_object(name: str, namespace: str, storage_class: str, size: str) -> Object:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": namespace, "labels": recommended_labels(name, "model-cache")},
        "spec": {
            "storageClassName": storage_class,
            # Every replica and every model in the namespace shares one download.
            "accessModes": ["ReadWriteMany"],
            "resources": {"requests": {"storage": size}},
        },
    }


def cache_claim_objects(namespace: str, cache: CacheVolumesConfig, neuron_cache: bool) -> list[Object]:
    claims = [cache_claim_object(HF_CACHE_CLAIM, namespace, cache.storage_class, cache.huggingface_size)]
    if neuron_cache:
        claims.append(cache_claim_object(NEURON_CACHE_CLAIM, namespace, cache.storage_class, cache.neuron_size))
    return claims


def hf_token_secret_object(namespace: str, token: Any) -> Object:
    """`token` is passed through untouched so the component can hand in a Pulumi secret."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": HF_TOKEN_SECRET, "namespace": namespace, "labels": recommended_labels(HF_TOKEN_SECRET, "credentials")},
        "type": "Opaque",
        "stringData": {HF_TOKEN_KEY: token},
    }


def network_policy_object(namespace: str) -> Object:
    """Deny by default: no ingress to any pod of the namespace, and egress to DNS and HTTPS only.

    Each model opens its own port to callers with `model_network_policy_object`, so adding a
    model never changes this shared object. Egress is DNS to kube-system and HTTPS (hub
    downloads) only, so the instance metadata service (plain HTTP on port 80) and every other
    in-VPC service stay unreachable; cache volumes are mounted by the node, not the pod, so NFS
    needs no rule here.
    """
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "vllm-default", "namespace": namespace, "labels": recommended_labels(namespace, "network-policy")},
        "spec": {
            "podSelector": {},
            "policyTypes": ["Ingress", "Egress"],
            "egress": [
                {
                    "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}],
                    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                },
                {
                    "to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}],
                    "ports": [{"protocol": "TCP", "port": 443}],
                },
            ],
        },
    }
