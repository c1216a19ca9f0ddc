"""Pure builders for HTTPS exposure: the ALB Ingresses, the two charts' values, and the IAM documents.

Annotations are the AWS Load Balancer Controller's (kubernetes-sigs/aws-load-balancer-controller
docs/guide/ingress/annotations.md at v3.5.0); chart values are keys of each chart's values.yaml at
its pinned version (tests check them against the vendored files).
"""

from __future__ import annotations

import json
from typing import Any

from ..config.gateway import ExposureConfig, GatewayConfig
from ._labels import managed_labels

LBC_NAME = "aws-load-balancer-controller"
LBC_NAMESPACE = "kube-system"
EXTERNAL_DNS_NAME = "external-dns"
EXTERNAL_DNS_CHART_VERSION = "1.21.1"
"""kubernetes-sigs/external-dns charts/external-dns 1.21.1 (tag external-dns-helm-chart-1.21.1, app 0.21.0)."""
EXTERNAL_DNS_REPOSITORY = "https://kubernetes-sigs.github.io/external-dns/"
"""charts/external-dns/README.md: helm repo add external-dns ..."""
GROUP_NAME = "vllm-eks"
"""alb.ingress.kubernetes.io/group.name: both Ingresses share one ALB."""
SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
"""TLS 1.3 and 1.2 only (Elastic Load Balancing, security policies for Application Load Balancers);
the controller's default is ELBSecurityPolicy-2016-08, which still allows TLS 1.0."""
MAX_IDLE_TIMEOUT = 4000
"""An ALB's idle timeout is 1 to 4000 s (idle_timeout.timeout_seconds load balancer attribute). The
default 60 s would cut a non-streamed completion that takes longer."""
Object = dict[str, Any]


def hosts(exposure: ExposureConfig) -> tuple[str, str]:
    """(gateway host, Open WebUI host)."""
    return f"{exposure.gateway_host}.{exposure.domain}", f"{exposure.open_webui_host}.{exposure.domain}"


def public_urls(exposure: ExposureConfig) -> tuple[str, str]:
    gateway, webui = hosts(exposure)
    return f"https://{gateway}/v1", f"https://{webui}"


def ingress_annotations(exposure: ExposureConfig, gateway: GatewayConfig, certificate_arn: Any, health_path: str) -> dict[str, Any]:
    annotations: dict[str, Any] = {
        "alb.ingress.kubernetes.io/group.name": GROUP_NAME,
        "alb.ingress.kubernetes.io/scheme": exposure.scheme,
        # Pod IPs as targets: traffic goes straight to the pods, which the NetworkPolicies admit on their port.
        "alb.ingress.kubernetes.io/target-type": "ip",
        # HTTPS only: no HTTP listener exists to redirect from, or to leak over.
        "alb.ingress.kubernetes.io/listen-ports": '[{"HTTPS": 443}]',
        "alb.ingress.kubernetes.io/certificate-arn": certificate_arn,
        "alb.ingress.kubernetes.io/ssl-policy": SSL_POLICY,
        "alb.ingress.kubernetes.io/healthcheck-path": health_path,
        "alb.ingress.kubernetes.io/load-balancer-attributes":
            f"idle_timeout.timeout_seconds={min(gateway.request_timeout_seconds, MAX_IDLE_TIMEOUT)}",
    }
    if exposure.allowed_cidrs:
        annotations["alb.ingress.kubernetes.io/inbound-cidrs"] = ",".join(exposure.allowed_cidrs)
    return annotations


def ingress_object(name: str, namespace: str, host: str, service: str, annotations: dict[str, Any]) -> Object:
    return {
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": name, "namespace": namespace, "labels": {**managed_labels(name), "app.kubernetes.io/component": "ingress"},
                     "annotations": annotations},
        "spec": {
            "ingressClassName": "alb",
            "rules": [{"host": host, "http": {"paths": [{
                "path": "/", "pathType": "Prefix",
                "backend": {"service": {"name": service, "port": {"name": "http"}}},
            }]}}],
        },
    }


def load_balancer_controller_values(cluster_name: Any, region: str, vpc_id: Any) -> Object:
    """Region and VPC are given: nodes allow one IMDS hop (the launch template), so pods cannot look them up."""
    return {
        "clusterName": cluster_name,
        "region": region,
        "vpcId": vpc_id,
        "serviceAccount": {"create": True, "name": LBC_NAME},
        "replicaCount": 2,
    }


def external_dns_values(exposure: ExposureConfig, owner: Any) -> Object:
    return {
        "provider": {"name": "aws"},
        "sources": ["ingress"],
        # Never deletes records it did not create, and only in the stack's domain and zone.
        "policy": "upsert-only",
        "registry": "txt",
        "txtOwnerId": owner,
        "domainFilters": [exposure.domain],
        "extraArgs": [f"--zone-id-filter={exposure.hosted_zone_id}"],
        "serviceAccount": {"create": True, "name": EXTERNAL_DNS_NAME},
    }


def external_dns_policy(hosted_zone_id: str) -> str:
    """kubernetes-sigs/external-dns docs/tutorials/aws.md's policy, narrowed to the one zone."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow",
         "Action": ["route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets", "route53:ListTagsForResources"],
         "Resource": [f"arn:aws:route53:::hostedzone/{hosted_zone_id}"]},
        {"Effect": "Allow", "Action": ["route53:ListHostedZones"], "Resource": ["*"]},
    ]})


def certificate_names(exposure: ExposureConfig) -> tuple[str, list[str]]:
    """The certificate's domain and its other name: the two hosts, nothing wider (no wildcard)."""
    gateway, webui = hosts(exposure)
    return gateway, [webui]


def validation_record(options: list[dict[str, str]], domain: str) -> dict[str, str]:
    """The CNAME ACM asks for to validate `domain` (aws.acm.Certificate domain_validation_options)."""
    option = next(item for item in options if item["domain_name"] == domain)
    return {"name": option["resource_record_name"], "type": option["resource_record_type"],
            "value": option["resource_record_value"]}
