"""One test per pulumi-kubernetes await rule (preview/rehearsal/await_rules.py, from v4.32.0 provider/pkg/await)."""

from __future__ import annotations

import pytest

from vllm_eks.preview.rehearsal.await_rules import await_policy, claim_ready_phase, parse_duration_seconds, service_waits_for_pods


def obj(api_version: str, kind: str, annotations: dict | None = None, spec: dict | None = None) -> dict:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x", "annotations": annotations or {}}, "spec": spec or {}}


def test_a_claim_waits_a_fixed_five_minutes_that_custom_timeouts_and_the_annotation_cannot_change():
    claim = obj("v1", "PersistentVolumeClaim", {"pulumi.com/timeoutSeconds": "3600"})
    policy = await_policy(claim, {"create": "1h"})
    assert (policy.waits, policy.timeout_seconds, policy.timeout_from) == (True, 300, "fixed")


def test_a_claim_is_ready_when_bound_unless_its_class_waits_for_the_first_consumer():
    assert claim_ready_phase("Immediate") == "Bound"
    assert claim_ready_phase(None) == "Bound"  # class not found yet: the provider keeps waiting for Bound
    assert claim_ready_phase("WaitForFirstConsumer") == "Pending"


def test_a_service_waits_ten_minutes_by_default_and_custom_timeouts_replace_that():
    service = obj("v1", "Service", spec={"type": "ClusterIP", "selector": {"app": "m"}})
    assert (await_policy(service, {}).timeout_seconds, await_policy(service, {}).timeout_from) == (600, "default")
    assert await_policy(service, {"create": "45m"}).timeout_seconds == 2700


def test_a_service_with_skip_await_is_ready_as_soon_as_it_is_accepted():
    service = obj("v1", "Service", {"pulumi.com/skipAwait": "true"}, {"selector": {"app": "m"}})
    policy = await_policy(service, {"create": "45m"})
    assert (policy.waits, policy.timeout_seconds, policy.timeout_from) == (False, None, "skipAwait")


def test_only_a_service_with_a_selector_that_is_not_headless_or_external_waits_for_pods():
    assert service_waits_for_pods({"spec": {"selector": {"app": "m"}}}) is True
    assert service_waits_for_pods({"spec": {"selector": {"app": "m"}, "clusterIP": "None"}}) is False
    assert service_waits_for_pods({"spec": {"type": "ExternalName", "selector": {"app": "m"}}}) is False
    assert service_waits_for_pods({"spec": {}}) is False


def test_a_deployment_waits_ten_minutes_unless_custom_timeouts_or_the_timeout_annotation_say_otherwise():
    deployment = obj("apps/v1", "Deployment")
    assert await_policy(deployment, {}).timeout_seconds == 600
    assert await_policy(deployment, {"create": "40m", "update": "40m"}).timeout_seconds == 2400
    annotated = obj("apps/v1", "Deployment", {"pulumi.com/timeoutSeconds": "900"})
    assert (await_policy(annotated, {}).timeout_seconds, await_policy(annotated, {}).timeout_from) == (900, "pulumi.com/timeoutSeconds")
    assert await_policy(annotated, {"create": "20m"}).timeout_seconds == 1200  # customTimeouts win over the annotation


def test_a_daemonset_waits_ten_minutes_and_custom_timeouts_apply():
    daemonset = obj("apps/v1", "DaemonSet")
    assert await_policy(daemonset, {}).timeout_seconds == 600
    assert await_policy(daemonset, {"create": "15m"}).timeout_seconds == 900


def test_a_job_waits_ten_minutes_for_completion_and_custom_timeouts_apply_counted_from_its_last_event():
    job = obj("batch/v1", "Job")
    policy = await_policy(job, {})
    assert policy.timeout_seconds == 600 and policy.rule.ready_when.startswith("Complete")
    assert policy.rule.restarts_on_events
    assert await_policy(job, {"create": "2h"}).timeout_seconds == 7200


@pytest.mark.parametrize("api_version, kind", [
    ("v1", "Namespace"), ("networking.k8s.io/v1", "NetworkPolicy"), ("policy/v1", "PodDisruptionBudget"),
    ("storage.k8s.io/v1", "StorageClass"), ("monitoring.coreos.com/v1", "ServiceMonitor"),
])
def test_kinds_without_an_awaiter_are_ready_once_accepted(api_version, kind):
    policy = await_policy(obj(api_version, kind), {"create": "10m"})
    assert (policy.waits, policy.timeout_from) == (False, "no awaiter")


def test_custom_timeout_strings_parse_like_pulumis():
    assert [parse_duration_seconds(text) for text in ("40m", "1h30m", "90s")] == [2400, 5400, 90]
    with pytest.raises(ValueError, match="'40' has a number without a unit; write it like '40m'"):
        parse_duration_seconds("40")
