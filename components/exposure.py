"""Exposure: HTTPS for the gateway (and Open WebUI) through one AWS Application Load Balancer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from ..config.aws_lb_controller import CHART_REPOSITORY, CHART_VERSION
from ..config.gateway import ExposureConfig, GatewayConfig
from . import _exposure_objects as objects
from . import _gateway_objects as gateway_objects
from . import _open_webui_objects as webui_objects
from ._efs_args import pod_identity_trust_policy
from ._kubernetes import register_object


@dataclass
class ExposureArgs:
    exposure: ExposureConfig
    gateway: GatewayConfig
    open_webui: bool
    """Whether Open WebUI runs (it then gets its own host on the same load balancer)."""
    cluster_name: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    region: str
    provider: k8s.Provider
    """The cluster's Kubernetes provider (the charts and Ingresses); AWS resources use the stack's AWS provider."""
    depends_on: list[pulumi.Resource] = field(default_factory=list)
    """The gateway's and Open WebUI's Services (Gateway.service, OpenWebUi.service), which the Ingresses route to."""
    tags: dict[str, str] = field(default_factory=dict)


def _service_role(name: str, description: str, policy: pulumi.Input[str] | None, cluster_name: pulumi.Input[str],
                  namespace: str, service_account: str, tags: dict[str, str], opts: pulumi.ResourceOptions,
                  policy_arn: str | None = None) -> aws.eks.PodIdentityAssociation:
    """An IAM role only the given service account assumes, through EKS Pod Identity (the agent is a core add-on),
    with an inline `policy` document or the account's existing policy `policy_arn` attached."""
    role = aws.iam.Role(name, assume_role_policy=pod_identity_trust_policy(), description=description, tags=tags, opts=opts)
    role_policy: pulumi.CustomResource = (
        aws.iam.RolePolicyAttachment(name, role=role.name, policy_arn=policy_arn, opts=opts) if policy_arn is not None
        else aws.iam.RolePolicy(name, role=role.id, policy=policy, opts=opts))
    return aws.eks.PodIdentityAssociation(
        name, cluster_name=cluster_name, namespace=namespace, service_account=service_account, role_arn=role.arn,
        tags=tags, opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[role_policy])))


def _validation_options(items: Sequence[aws.acm.outputs.CertificateDomainValidationOption]) -> list[dict[str, str]]:
    return [{"domain_name": str(item.domain_name), "resource_record_name": str(item.resource_record_name),
             "resource_record_type": str(item.resource_record_type), "resource_record_value": str(item.resource_record_value)}
            for item in items]


class Exposure(pulumi.ComponentResource):
    """AWS Load Balancer Controller (pinned chart, Pod Identity), an ACM certificate (given, or created and
    validated in Route 53), one HTTPS-only ALB with an Ingress per host, and optionally ExternalDNS."""

    gateway_url: str
    """https://<gatewayHost>.<domain>/v1"""
    open_webui_url: str
    """https://<openWebuiHost>.<domain>"""

    def __init__(self, resource_name: str, args: ExposureArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("vllm-eks:index:Exposure", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        on_cluster = pulumi.ResourceOptions(parent=self, provider=args.provider)
        exposure = args.exposure

        association = _service_role(
            f"{resource_name}-lb-controller", "AWS Load Balancer Controller: ALBs, target groups, security groups",
            None, args.cluster_name, objects.LBC_NAMESPACE, objects.LBC_NAME, args.tags, child,
            policy_arn=exposure.load_balancer_controller_policy_arn)
        controller = k8s.helm.v4.Chart(
            f"{resource_name}-lb-controller", chart=objects.LBC_NAME, version=CHART_VERSION, namespace=objects.LBC_NAMESPACE,
            repository_opts=k8s.helm.v4.RepositoryOptsArgs(repo=CHART_REPOSITORY),
            values=objects.load_balancer_controller_values(args.cluster_name, args.region, args.vpc_id),
            opts=pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(depends_on=[association])))

        certificate_arn, validated = self._certificate(resource_name, exposure, child)
        gateway_host, webui_host = objects.hosts(exposure)
        after = pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(depends_on=[controller, *validated, *args.depends_on]))
        namespace = args.gateway.namespace
        register_object(f"{resource_name}-gateway-ingress", objects.ingress_object(
            gateway_objects.NAME, namespace, gateway_host, gateway_objects.NAME,
            objects.ingress_annotations(exposure, args.gateway, certificate_arn, "/healthz")), after)
        if args.open_webui:
            register_object(f"{resource_name}-open-webui-ingress", objects.ingress_object(
                webui_objects.NAME, namespace, webui_host, webui_objects.NAME,
                objects.ingress_annotations(exposure, args.gateway, certificate_arn, "/health")), after)

        if exposure.external_dns and exposure.hosted_zone_id is not None:
            dns_association = _service_role(
                f"{resource_name}-external-dns", "ExternalDNS: the stack's records in its Route 53 zone",
                objects.external_dns_policy(exposure.hosted_zone_id), args.cluster_name, objects.LBC_NAMESPACE,
                objects.EXTERNAL_DNS_NAME, args.tags, child)
            k8s.helm.v4.Chart(
                f"{resource_name}-external-dns", chart=objects.EXTERNAL_DNS_NAME, version=objects.EXTERNAL_DNS_CHART_VERSION,
                namespace=objects.LBC_NAMESPACE,
                repository_opts=k8s.helm.v4.RepositoryOptsArgs(repo=objects.EXTERNAL_DNS_REPOSITORY),
                values=objects.external_dns_values(exposure, args.cluster_name),
                opts=pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(depends_on=[dns_association])))

        self.gateway_url, self.open_webui_url = objects.public_urls(exposure)
        self.register_outputs({"gateway_url": self.gateway_url, "open_webui_url": self.open_webui_url})

    def _certificate(self, resource_name: str, exposure: ExposureConfig,
                     child: pulumi.ResourceOptions) -> tuple[pulumi.Input[str], list[pulumi.Resource]]:
        if exposure.certificate_arn is not None:
            return exposure.certificate_arn, []
        domain, alternatives = objects.certificate_names(exposure)
        certificate = aws.acm.Certificate(
            f"{resource_name}-certificate", domain_name=domain, subject_alternative_names=alternatives,
            validation_method="DNS", opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
                # A replacement must exist before the listener lets go of the old one.
                delete_before_replace=False)))
        options: pulumi.Output[list[dict[str, str]]] = certificate.domain_validation_options.apply(_validation_options)
        records = []
        for index, name in enumerate([domain, *alternatives]):
            record = options.apply(partial(objects.validation_record, domain=name))
            records.append(aws.route53.Record(
                f"{resource_name}-certificate-validation-{index}", zone_id=exposure.hosted_zone_id,
                name=record["name"], type=record["type"], records=[record["value"]], ttl=300,
                allow_overwrite=True, opts=child))
        validation = aws.acm.CertificateValidation(
            f"{resource_name}-certificate", certificate_arn=certificate.arn,
            validation_record_fqdns=[record.fqdn for record in records], opts=child)
        return validation.certificate_arn, [validation]
