"""The OpenAPI schemas of the custom resources the library renders, from the CRDs of the pinned charts.

The CRD files are not committed here: they come from the charts' public source repositories, and this
workplace keeps what is fetched from public repositories out of the project's commits. Each is looked up
(first found wins) in:
  1. $VLLM_EKS_CRD_DIR/<file name>
  2. shared/crds/<file name> beside the repository (the steering repository's data folder)
  3. a local snapshot of the source repository, read at the pinned tag with `git show`
and must have the checksum below, so every copy is the pinned release's. Where none is found, the schema
tests skip and say which file to provide.
"""

from __future__ import annotations

import copy
import hashlib
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from tests.conftest import PROJECT_DIR

MIRRORS = Path("/work/.mirror")


@dataclass(frozen=True)
class CrdSource:
    kind: str
    repository: str
    tag: str
    path: str
    sha256: str
    local_name: str = ""
    """The name to look for in $VLLM_EKS_CRD_DIR or shared/crds/ when the path's own name is ambiguous."""

    @property
    def file_name(self) -> str:
        return self.local_name or self.path.rsplit("/", 1)[-1]


KARPENTER = ("aws/karpenter-provider-aws", "v1.14.1")  # chart karpenter 1.14.1 (config/charts.py)
KEDA = ("kedacore/charts", "v2.20.2")  # chart keda 2.20.2
# The kube-prometheus-stack 88.5.3 chart's copies of Prometheus Operator 0.93.1's CRDs.
PROMETHEUS_STACK = ("prometheus-community/helm-charts", "ea930baeebeba39f56d6b44e351f23b2a072a600")
SOURCES = {
    "ServiceMonitor": CrdSource("ServiceMonitor", *PROMETHEUS_STACK,
                                "charts/kube-prometheus-stack/charts/crds/crds/crd-servicemonitors.yaml",
                                "3322d612f23bf144c887c94bf247b0b4a69189adf37c0d482d2c6267ffe906ab"),
    "PrometheusRule": CrdSource("PrometheusRule", *PROMETHEUS_STACK,
                                "charts/kube-prometheus-stack/charts/crds/crds/crd-prometheusrules.yaml",
                                "72b1e5f9959e67990d1598eb31b24ca4415007e31df3916356ef216316b2bf40"),
    # The chart's crds/ files are symbolic links to these (charts/karpenter/crds/ -> ../../../pkg/apis/crds/).
    "NodePool": CrdSource("NodePool", *KARPENTER, "pkg/apis/crds/karpenter.sh_nodepools.yaml",
                          "3bb64a20c80776b77aa19a699ebdaf34480a7b2e7ec4ef890b43225b3517f878"),
    "EC2NodeClass": CrdSource("EC2NodeClass", *KARPENTER, "pkg/apis/crds/karpenter.k8s.aws_ec2nodeclasses.yaml",
                              "62dec59f01c0972d4503ca3ed25f243ba9c2f561be0d964ce7a14c8df406132f"),
    # A Helm template: its lines with `{{ }}` (the install switch and two metadata labels) are dropped before parsing.
    "ScaledObject": CrdSource("ScaledObject", *KEDA, "keda/templates/crds/crd-scaledobjects.yaml",
                              "c597a1692044588f34d2f558c68b37e4db3e8f0a930ce6dc0397feb777473808"),
}


def _read(source: CrdSource) -> bytes | None:
    for folder in filter(None, [os.environ.get("VLLM_EKS_CRD_DIR"), str(PROJECT_DIR.parent / "shared" / "crds")]):
        candidate = Path(folder) / source.file_name
        if candidate.is_file():
            return candidate.read_bytes()
    git_dir = MIRRORS / source.repository.replace("/", "+") / "repo"
    if git_dir.is_dir():
        shown = subprocess.run(["git", "--git-dir", str(git_dir), "show", f"{source.tag}:{source.path}"],
                               capture_output=True, check=False)
        if shown.returncode == 0:
            return shown.stdout
    return None


# Chart files the tests check values against, found the same way as the CRDs.
CHART_FILES = {
    "aws-load-balancer-controller values.yaml": CrdSource(
        "values.yaml", "kubernetes-sigs/aws-load-balancer-controller", "v3.5.0", "helm/aws-load-balancer-controller/values.yaml",
        "c330e0b3aaeed9d6b75e70564563dcdb231ee970db587f23eff5c013461f2dd4", "aws-load-balancer-controller-3.5.0-values.yaml"),
    "external-dns values.schema.json": CrdSource(
        "values.schema.json", "kubernetes-sigs/external-dns", "external-dns-helm-chart-1.21.1", "charts/external-dns/values.schema.json",
        "fd180b628a5d0e565a5469ef5b37e58dd661176092b5e2cb1059b210b4afa1a4"),
    # kube-prometheus-stack 88.5.3 and the subcharts its Chart.yaml `dependencies` name (config/prometheus_stack.py).
    "kube-prometheus-stack values.yaml": CrdSource(
        "values.yaml", *PROMETHEUS_STACK, "charts/kube-prometheus-stack/values.yaml",
        "659289e3cc0ff503db75dd2969c8fe7295657357b82ff085d0b2a824d68b7755", "kube-prometheus-stack-88.5.3-values.yaml"),
    "kube-state-metrics values.yaml": CrdSource(
        "values.yaml", "prometheus-community/helm-charts", "ab84dd93", "charts/kube-state-metrics/values.yaml",
        "a4dea7869dc7b21d16a5bfc6de666e66b92f0fe1ae48c100344eb6d97cef16a4", "kube-state-metrics-8.4.0-values.yaml"),
    "prometheus-node-exporter values.yaml": CrdSource(
        "values.yaml", "prometheus-community/helm-charts", "e633094a", "charts/prometheus-node-exporter/values.yaml",
        "428cec4fb54b0c0a58480d067f13b7f6851102fb5c5c1b282bf6f376073f21f0", "prometheus-node-exporter-4.56.1-values.yaml"),
    # The values.yaml chart karpenter 1.14.1 is packaged with: the tag's tree as the release build rewrites its
    # controller image (hack/release/common.sh), recorded by the StableRelease commit on branch release-v1.14.1.
    "karpenter values.yaml": CrdSource(
        "values.yaml", "aws/karpenter-provider-aws", "c88abbbad455186e69e30296c595e474123e9bc1", "charts/karpenter/values.yaml",
        "38652eae97bec5bf709a394d1f4260398ed8c564f567927bb19fe46f7a6fa4ab", "karpenter-1.14.1-values.yaml"),
    "keda values.yaml": CrdSource(
        "values.yaml", *KEDA, "keda/values.yaml",
        "5e5056a3f602830e08456338ac9172dad39449ac079be5872ef3774c2b392b1d", "keda-2.20.2-values.yaml"),
    "grafana values.yaml": CrdSource(
        "values.yaml", "grafana-community/helm-charts", "7d266b8e", "charts/grafana/values.yaml",
        "653e88838eb7553f561d2e6ffa3cbaa7d5b5029398af6ea2fdd2c27793853a68", "grafana-12.11.1-values.yaml"),
}


def upstream_file(source: CrdSource) -> bytes | None:
    """The pinned file's bytes (checked against its checksum), or None when no copy is at hand."""
    raw = _read(source)
    if raw is not None:
        assert hashlib.sha256(raw).hexdigest() == source.sha256, f"{source.path} is not the pinned {source.tag} copy"
    return raw


def missing_file_reason(source: CrdSource) -> str:
    return f"not found: put {source.repository}@{source.tag}:{source.path} in $VLLM_EKS_CRD_DIR or shared/crds/"


def pinned_chart_file(name: str) -> bytes:
    """The pinned chart file `name` (a CHART_FILES key); the calling test skips when no copy is at hand."""
    import pytest

    source = CHART_FILES[name]
    raw = upstream_file(source)
    if raw is None:
        pytest.skip(missing_file_reason(source))
    return raw


def unknown_value_paths(values: Any, defaults: Any, free_form: tuple[str, ...] = ()) -> list[str]:
    """Dotted paths of the leaves of `values` that the chart's `defaults` (its values.yaml) do not have. Below a key
    whose default is an empty map (free-form: nodeSelector, storageSpec) anything goes, as the chart passes it on;
    likewise below the dotted paths in `free_form` (a map with defaults the chart renders whole with toYaml)."""

    def leaves(value: Any, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        if isinstance(value, dict) and value:
            for key, item in value.items():
                yield from leaves(item, (*path, key))
        else:
            yield path

    def unknown(path: tuple[str, ...]) -> bool:
        node = defaults
        for depth, key in enumerate(path):
            if ".".join(path[:depth]) in free_form or (isinstance(node, dict) and node == {}):
                return False
            if not isinstance(node, dict) or key not in node:
                return True
            node = node[key]
        return False

    return [".".join(path) for path in leaves(values, ()) if unknown(path)]


def missing_reason(kind: str) -> str:
    source = SOURCES[kind]
    return (f"CRD schema for {kind} not found: put {source.repository}@{source.tag}:{source.path} in "
            f"$VLLM_EKS_CRD_DIR or shared/crds/")


def crd_schema(kind: str, version: str) -> dict[str, Any] | None:
    """The `openAPIV3Schema` of `kind` at `version`, or None when the CRD file is nowhere to be found."""
    source = SOURCES[kind]
    raw = _read(source)
    if raw is None:
        return None
    assert hashlib.sha256(raw).hexdigest() == source.sha256, f"{source.file_name} is not the pinned {source.tag} copy"
    text = "\n".join(line for line in raw.decode().splitlines() if "{{" not in line)
    crd = yaml.safe_load(text)
    assert crd["spec"]["names"]["kind"] == kind
    found = next(v for v in crd["spec"]["versions"] if v["name"] == version)
    return found["schema"]["openAPIV3Schema"]


def strict(schema: Any) -> Any:
    """The schema with unknown fields refused: the API server prunes them silently (structural schemas), so a
    misspelt field would vanish at apply time; here it is an error. `nullable` becomes a null type."""
    schema = copy.deepcopy(schema)

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if "properties" in node and "additionalProperties" not in node and not node.get("x-kubernetes-preserve-unknown-fields"):
                node["additionalProperties"] = False
            if node.get("x-kubernetes-int-or-string"):
                node["type"] = ["integer", "string"]
            if node.pop("nullable", False) and "type" in node:
                node["type"] = [node["type"], "null"]
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(schema)
    return schema


def validation_errors(obj: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """Every schema violation of `obj` (metadata is the API server's to check, not the CRD's)."""
    body = {key: value for key, value in obj.items() if key != "metadata"}
    checked = strict({**schema, "properties": {k: v for k, v in schema.get("properties", {}).items() if k != "metadata"}})
    validator = jsonschema.Draft7Validator(checked)
    return sorted(f"{'.'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(body))
