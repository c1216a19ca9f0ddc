"""The rehearsal models the awaits the program registers beyond Deployments: the compile Job (its Complete
condition, its own deadline as the hard stop), the replicas that follow it, the progress deadline that
`kubectl rollout status` enforces, and what the vendor scheduler's Deployments wait for."""

from __future__ import annotations

import copy

from tests.conftest import PROJECT_DIR, recording_for
from vllm_eks.components import _deployment_objects as objects
from vllm_eks.config.loader import load_stack_file
from vllm_eks.preview.engine import Recording
from vllm_eks.preview.rehearsal import rehearse
from vllm_eks.preview.rehearsal.model_startup import model_startup

PROD = load_stack_file(PROJECT_DIR / "Pulumi.prod.yaml")
LLAMA = "llama-3-1-8b-neuron"  # source: hub, 3 replicas on Neuron: compiled once by a Job


def _with_job(edit) -> Recording:
    recording = copy.deepcopy(recording_for("prod"))
    [job] = [r for r in recording.resources if r.type == "kubernetes:batch/v1:Job"]
    edit(job)
    return recording


def _first_up(recording: Recording):
    return rehearse(recording, PROD).scenarios[0]


def test_the_compile_job_is_awaited_until_complete_and_its_replicas_start_after_it():
    first_up = _first_up(recording_for("prod"))
    steps = {step.resource.name: step for step in first_up.steps.values()}
    job, deployment = steps[f"{LLAMA}-compile"], steps[f"{LLAMA}-deployment"]
    compile_only = model_startup(next(m for m in PROD.models if m.name == LLAMA))
    assert job.ready - job.start >= compile_only.total_seconds
    assert deployment.start >= job.finish


def test_replicas_that_follow_a_compile_job_neither_download_nor_compile_again():
    first_up = _first_up(recording_for("prod"))
    [endpoint] = [e for e in first_up.endpoints if e.model == LLAMA]
    assert (endpoint.startup.download_seconds, endpoint.startup.compile_seconds) == (0, 0)
    assert "cache filled by the compile Job" in endpoint.startup.notes


def test_the_jobs_own_active_deadline_is_the_hard_stop_of_its_await():
    def short_deadline(job):
        job.inputs["spec"]["activeDeadlineSeconds"] = 900
    timeouts = _first_up(_with_job(short_deadline)).timeouts
    [deadline] = [t for t in timeouts if t.resource.startswith("activeDeadlineSeconds of kubernetes:batch/v1:Job")]
    assert deadline.timeout_seconds == 900 and deadline.waited_seconds > 900
    assert "DeadlineExceeded" in deadline.source and "restarts on every event" in deadline.source


def test_a_job_timeout_over_a_minute_never_ends_the_wait_because_events_restart_it():
    # job.go restarts its timer on every event and the informers resync every minute (informers/factory.go).
    def short_timeout(job):
        job.custom_timeouts = {"create": "15m", "update": "15m"}
    timeouts = _first_up(_with_job(short_timeout)).timeouts
    assert [t for t in timeouts if "Job" in t.resource] == []


def test_model_deployments_get_a_progress_deadline_no_shorter_than_one_pods_startup_budget():
    for stack in ("dev", "prod"):
        config = load_stack_file(PROJECT_DIR / f"Pulumi.{stack}.yaml")
        budgets = {m.name: m.startup_timeout_seconds for m in config.models}
        deployments = [r for r in recording_for(stack).resources if r.type == "kubernetes:apps/v1:Deployment"
                       and r.inputs["metadata"]["name"] in budgets]
        assert len(deployments) == len(budgets)
        for deployment in deployments:
            deadline = deployment.inputs["spec"]["progressDeadlineSeconds"]
            assert deadline >= budgets[deployment.inputs["metadata"]["name"]] + objects.PULL_ALLOWANCE_MINUTES * 60


def test_a_deployment_left_at_the_default_progress_deadline_is_a_predicted_rollout_failure():
    recording = copy.deepcopy(recording_for("prod"))
    for resource in recording.resources:
        if resource.type == "kubernetes:apps/v1:Deployment":
            resource.inputs["spec"].pop("progressDeadlineSeconds", None)
    late = [t for t in rehearse(recording, PROD).scenarios[1].timeouts if t.resource.startswith("progress deadline")]
    assert "progress deadline of kubernetes:apps/v1:Deployment llama-3-3-70b-deployment" in [t.resource for t in late]
    assert all(t.timeout_seconds == 600 and "rollout_status.go" in t.source for t in late)


def test_the_vendor_schedulers_deployments_wait_for_the_system_nodes():
    recording = recording_for("prod")
    [system] = [r for r in recording.resources if r.type == "aws:eks/nodeGroup:NodeGroup" and r.name == "platform-system"]
    schedulers = [r for r in recording.resources if r.type == "kubernetes:apps/v1:Deployment"
                  and r.inputs["metadata"]["namespace"] == "kube-system"]
    assert schedulers
    assert all(system.urn in r.dependencies for r in schedulers)
