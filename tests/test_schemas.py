"""Every Kubernetes object every committed stack renders is valid for the targeted Kubernetes
version, in strict mode (unknown fields are errors, so a typo cannot be silently dropped)."""

from __future__ import annotations

import kubernetes_validate
import pytest

from tests.conftest import committed_stacks, kubernetes_version, recording_for
from vllm_eks.config.platform.cluster import DEFAULT_KUBERNETES_VERSION
from vllm_eks.preview.render import manifests

# Custom resources have no schema in kubernetes-validate; the Prometheus Operator's are checked against
# their CRDs in tests/test_prometheus_crds.py.
# NodePools, EC2NodeClasses and ScaledObjects are checked against their CRDs in tests/test_crd_schemas.py.
CUSTOM_RESOURCE_KINDS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"), ("monitoring.coreos.com/v1", "PrometheusRule"),
    ("karpenter.sh/v1", "NodePool"), ("karpenter.k8s.aws/v1", "EC2NodeClass"), ("keda.sh/v1alpha1", "ScaledObject"),
}


@pytest.mark.parametrize("stack", committed_stacks())
def test_every_rendered_object_is_schema_valid_in_strict_mode(stack):
    objects = [obj for obj in manifests(recording_for(stack)) if (obj["apiVersion"], obj["kind"]) not in CUSTOM_RESOURCE_KINDS]
    version = kubernetes_version(stack)
    assert objects, f"stack {stack} rendered no Kubernetes objects"
    failures = []
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            failures.append(f"{obj['kind']}/{obj['metadata']['name']}: {error.message} at {list(error.path)}")
    assert failures == []


def test_strict_validation_rejects_an_unknown_field():
    # Guards the check above: strict mode must fail on a misspelt field.
    bad = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}, "spec": {"ports": [{"port": 80}], "selectr": {}}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, DEFAULT_KUBERNETES_VERSION, strict=True)
