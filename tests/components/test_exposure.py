"""HTTPS exposure: one HTTPS-only ALB for the gateway and Open WebUI, the controller pinned with Pod Identity,
a certificate validated in Route 53, chart values checked against the charts' own files."""

from __future__ import annotations

import json

import jsonschema
import yaml

from tests import crd_schemas
from tests.conftest import recording_for
from vllm_eks.components import _exposure_objects as objects
from vllm_eks.config.aws_lb_controller import CHART_VERSION
from vllm_eks.config.gateway import ExposureConfig, GatewayConfig
from vllm_eks.preview.render import manifests


def _chart_file(name: str) -> bytes:
    return crd_schemas.pinned_chart_file(name)


def _ingresses(stack: str) -> dict[str, dict]:
    return {obj["metadata"]["name"]: obj for obj in manifests(recording_for(stack)) if obj["kind"] == "Ingress"}


def _chart(name: str):
    return next(r for r in recording_for("prod").by_type("kubernetes:helm.sh/v4:Chart") if r.name == name)


def _keys(values: dict, prefix: str = "") -> set[str]:
    found = set()
    for key, value in values.items():
        found.add(prefix + key)
        if isinstance(value, dict) and value:
            found |= _keys(value, f"{prefix}{key}.")
    return found


def test_prod_exposes_the_gateway_and_open_webui_on_one_https_only_alb():
    ingresses = _ingresses("prod")
    assert {name: obj["spec"]["rules"][0]["host"] for name, obj in ingresses.items()} == {
        "vllm-gateway": "api.example.com", "open-webui": "openwebui.example.com"}
    for ingress in ingresses.values():
        annotations = ingress["metadata"]["annotations"]
        assert annotations["alb.ingress.kubernetes.io/listen-ports"] == '[{"HTTPS": 443}]'
        assert annotations["alb.ingress.kubernetes.io/group.name"] == "vllm-eks"
        assert annotations["alb.ingress.kubernetes.io/inbound-cidrs"] == "203.0.113.0/24"
        assert annotations["alb.ingress.kubernetes.io/target-type"] == "ip"
        assert annotations["alb.ingress.kubernetes.io/certificate-arn"].startswith("arn:aws:acm:")
        assert ingress["spec"]["ingressClassName"] == "alb"


def test_the_certificate_covers_both_hosts_and_is_validated_in_the_zone():
    recording = recording_for("prod")
    certificate = recording.one("aws:acm/certificate:Certificate", "exposure-certificate")
    assert certificate.inputs["domainName"] == "api.example.com"
    assert certificate.inputs["subjectAlternativeNames"] == ["openwebui.example.com"]
    assert certificate.inputs["validationMethod"] == "DNS"
    records = recording.by_type("aws:route53/record:Record")
    assert {r.inputs["zoneId"] for r in records} == {"Z0123456789EXAMPLE"} and len(records) == 2


def test_an_existing_certificate_is_used_as_given():
    exposure = ExposureConfig(domain="example.org", certificate_arn="arn:aws:acm:us-west-2:123456789012:certificate/abc-123")
    annotations = objects.ingress_annotations(exposure, GatewayConfig(), exposure.certificate_arn, "/healthz")
    assert annotations["alb.ingress.kubernetes.io/certificate-arn"] == exposure.certificate_arn
    assert "alb.ingress.kubernetes.io/inbound-cidrs" not in annotations  # internal scheme, no list: the controller's default


def test_the_controller_chart_is_pinned_and_its_values_are_keys_of_its_values_yaml():
    chart = _chart("exposure-lb-controller")
    assert chart.inputs["version"] == CHART_VERSION and chart.inputs["chart"] == "aws-load-balancer-controller"
    known = _keys(yaml.safe_load(_chart_file("aws-load-balancer-controller values.yaml")))
    known |= {"clusterName", "region", "vpcId"}  # declared empty (null) in values.yaml
    assert _keys(chart.inputs["values"]) <= known


def test_external_dns_values_pass_the_chart_values_schema():
    chart = _chart("exposure-external-dns")
    assert chart.inputs["version"] == objects.EXTERNAL_DNS_CHART_VERSION
    schema = json.loads(_chart_file("external-dns values.schema.json"))
    jsonschema.validate(chart.inputs["values"], schema)
    assert chart.inputs["values"]["policy"] == "upsert-only"


def test_the_controllers_use_pod_identity_with_their_own_roles():
    recording = recording_for("prod")
    associations = {r.inputs["serviceAccount"]: r.inputs for r in recording.by_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")}
    assert associations["aws-load-balancer-controller"]["namespace"] == "kube-system"
    attached = recording.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "exposure-lb-controller").inputs
    assert attached["policyArn"] == "arn:aws:iam::123456789012:policy/AWSLoadBalancerControllerIAMPolicy"
    dns_policy = json.loads(recording.one("aws:iam/rolePolicy:RolePolicy", "exposure-external-dns").inputs["policy"])
    assert dns_policy["Statement"][0]["Resource"] == ["arn:aws:route53:::hostedzone/Z0123456789EXAMPLE"]


def test_without_a_domain_nothing_is_exposed():
    assert _ingresses("dev") == {}
    assert recording_for("dev").by_type("kubernetes:helm.sh/v4:Chart") == []
