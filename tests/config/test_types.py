"""Kubernetes quantities in their full grammar, image references as the runtimes parse them,
and names the API server accepts for Services and namespaces."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import TypeAdapter

from vllm_eks.config.image_reference import image_reference_problem
from vllm_eks.config.types import MemoryQuantity, check_cpu_quantity, check_model_namespace, check_service_name, parse_quantity


@pytest.mark.parametrize("text, value", [
    ("12Gi", 12 * 2**30), ("12e9", 12 * 10**9), ("1E3", 1000), ("1e+3", 1000), ("1.5", Decimal("1.5")),
    ("500m", Decimal("0.5")), (".5", Decimal("0.5")), ("5.", 5), ("+3", 3), ("1E", 10**18), ("100n", Decimal("1e-7")),
    ("2u", Decimal("2e-6")), ("1k", 1000), ("0.5Gi", 2**29),
])
def test_every_form_of_the_quantity_grammar_parses_to_its_value(text, value):
    assert parse_quantity(text) == value


def test_a_quantity_finer_than_nano_keeps_one_nano_as_kubernetes_rounds_it_and_is_refused_as_a_fraction():
    assert parse_quantity("1e-99999999") == Decimal("1e-9") and parse_quantity("0e-99999999") == 0
    with pytest.raises(ValueError, match="must be more than zero bytes"):
        TypeAdapter(MemoryQuantity).validate_python("0e99999999")
    with pytest.raises(ValueError, match="a fraction of a byte"):
        TypeAdapter(MemoryQuantity).validate_python("1e-99999999")
    with pytest.raises(ValueError, match="finer than 1m"):
        check_cpu_quantity("1e-99999999")


@pytest.mark.parametrize("text", ["12e9", "1e3", "1.5e+9", "100G", "512Mi", "5.", 12000000000])
def test_byte_quantities_in_any_valid_form_are_accepted_as_written(text):
    assert TypeAdapter(MemoryQuantity).validate_python(text) == str(text)


@pytest.mark.parametrize("text", ["1e0", "2.5", "500m", "1e-3", "+4"])
def test_cpu_quantities_in_any_valid_form_are_accepted(text):
    assert check_cpu_quantity(text) == text


@pytest.mark.parametrize("text, reason", [
    ("-1", "must be more than zero cores"), ("0.0005", "finer than 1m"), ("1Gi", "is not a CPU quantity"),
    ("1e99", "far more cores than any node has"),
])
def test_cpu_quantities_are_refused_only_for_a_stated_reason(text, reason):
    with pytest.raises(ValueError, match=reason):
        check_cpu_quantity(text)


def test_a_binary_suffix_on_cpu_is_refused_with_the_core_count_kubernetes_would_read():
    with pytest.raises(ValueError, match=r"reads the binary suffix Gi as x 2\^30, so this asks for 1073741824 cores"):
        check_cpu_quantity("1Gi")


@pytest.mark.parametrize("reference", [
    "ubuntu", "vllm/vllm-openai:v0.9.1", "public.ecr.aws/t0h7h1e6/vllm-neuron:qwen3-8b", "localhost:5000/a/b_c__d",
    "registry.example.com:443/team/image:1.0-rc.1", "Registry.Example.com/team/img:TAG_1", "[::1]:5000/a:b",
    "vllm/vllm-openai@sha256:" + "0" * 64, "vllm/vllm-openai:v1@sha256:" + "a" * 64,
])
def test_image_references_that_the_runtimes_parse_are_accepted(reference):
    assert image_reference_problem(reference) is None


@pytest.mark.parametrize("reference, words", [
    ("vllm/vllm-openai:-rc", "the tag '-rc' is not valid"), ("vllm//openai", "is not a repository name"),
    ("vllm/vllm-openai:v1:v2", "is not a repository name"), ("Vllm/vllm-openai", "lowercase only"),
    ("a" * 256, "longer than 255"),
])
def test_image_references_the_runtimes_reject_say_what_is_wrong(reference, words):
    assert words in image_reference_problem(reference)


def test_a_service_name_may_not_start_with_a_digit_though_a_deployment_name_may():
    with pytest.raises(ValueError, match="must start with a letter"):
        check_service_name("8b")
    assert check_service_name("llama-8b") == "llama-8b"


@pytest.mark.parametrize("namespace", ["kube-system", "kube-public", "kube-node-lease", "default", "kube-extra"])
def test_namespaces_the_cluster_owns_are_refused_with_the_reason(namespace):
    with pytest.raises(ValueError, match="default-deny NetworkPolicy would cover every pod there"):
        check_model_namespace(namespace)
