"""The CrossGuard policy pack (policy/): run in-process on resource inputs, as the Pulumi CLI's
analyzer would (pulumi_policy 1.21.0, policy.py _PolicyAnalyzerServicer.Analyze: deserialize the
inputs, wrap them in unknown_checking_proxy, build ResourceValidationArgs and call each
ResourceValidationPolicy.validate with a report_violation callback)."""

from __future__ import annotations

import copy
import importlib.util
import sys

import pytest

pulumi_policy = pytest.importorskip("pulumi_policy", reason="pulumi-policy is in requirements-dev.txt (CI)")

from pulumi_policy.deserialize import deserialize_properties  # noqa: E402
from pulumi_policy.proxy import unknown_checking_proxy  # noqa: E402

from tests.conftest import PROJECT_DIR, recording_for  # noqa: E402
from vllm_eks.config.accelerators import ACCELERATORS  # noqa: E402

POLICY_DIR = PROJECT_DIR / "policy"


def _load_policies():
    spec = importlib.util.spec_from_file_location("vllm_policies", POLICY_DIR / "vllm_policies.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["vllm_policies"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


policies = _load_policies()


def violations(resource_type: str, props: dict, name: str = "model") -> dict[str, list[str]]:
    """Every policy's violations for one resource, keyed by policy name (policies with none left out)."""
    options = pulumi_policy.PolicyResourceOptions(
        protect=False, ignore_changes=[], delete_before_replace=None, aliases=[],
        custom_timeouts=pulumi_policy.PolicyCustomTimeouts(0, 0, 0), additional_secret_outputs=[],
    )
    # The analyzer hands policies the inputs wrapped in its unknown-checking proxy (Mapping and
    # Sequence views, not dicts and lists); so do the tests.
    proxied = unknown_checking_proxy(deserialize_properties(copy.deepcopy(props)))
    args = pulumi_policy.ResourceValidationArgs(resource_type, proxied, f"urn:pulumi:s::p::{resource_type}::{name}", name, options, None)
    found: dict[str, list[str]] = {}
    for policy in policies.POLICIES:
        reported: list[str] = []
        policy.validate(args, lambda message, urn=None, reported=reported: reported.append(message))
        if reported:
            found[policy.name] = reported
    return found


def _deployment(stack: str = "prod", name: str = "qwen3-32b-fp8-deployment") -> dict:
    return copy.deepcopy(recording_for(stack).one("kubernetes:apps/v1:Deployment", name).inputs)


def _pod(deployment: dict) -> dict:
    return deployment["spec"]["template"]["spec"]


def test_the_pack_declares_five_mandatory_policies_and_one_advisory():
    assert [policy.name for policy in policies.POLICIES] == [
        "vllm-tolerates-accelerator-taint", "vllm-accelerators-match-parallelism", "vllm-neuron-devices-unchecked",
        "vllm-has-probes", "vllm-security-baseline", "vllm-no-clear-text-token",
    ]
    assert {policy.name for policy in policies.POLICIES
            if policy.enforcement_level != pulumi_policy.EnforcementLevel.MANDATORY} == {"vllm-neuron-devices-unchecked"}
    assert "PolicyPack(" in (POLICY_DIR / "__main__.py").read_text()
    assert (POLICY_DIR / "requirements.txt").read_text().strip() == "pulumi-policy==1.21.0"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_workload_this_project_renders_passes_every_policy(stack):
    workloads = [r for r in recording_for(stack).resources if r.type in policies.POD_SPEC_PATHS]
    assert {r.type for r in workloads} >= {"kubernetes:apps/v1:Deployment"}
    assert {r.name: violations(r.type, r.inputs, r.name) for r in workloads} == {r.name: {} for r in workloads}


def test_a_run_to_completion_job_needs_no_probes_but_keeps_the_other_rules():
    [job] = recording_for("prod").by_type("kubernetes:batch/v1:Job")
    assert not any(key.endswith("Probe") for key in job.inputs["spec"]["template"]["spec"]["containers"][0])
    assert violations(job.type, job.inputs, job.name) == {}
    insecure = copy.deepcopy(job.inputs)
    insecure["spec"]["template"]["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = True
    assert list(violations(job.type, insecure, job.name)) == ["vllm-security-baseline"]


def test_a_gpu_deployment_without_the_toleration_as_in_the_guides_70b_example_is_refused_with_the_fix():
    deployment = _deployment()
    del _pod(deployment)["tolerations"]
    assert violations("kubernetes:apps/v1:Deployment", deployment, "qwen") == {"vllm-tolerates-accelerator-taint": [
        "Deployment 'qwen', container 'vllm' requests nvidia.com/gpu but the pod does not tolerate the nvidia.com/gpu:NoSchedule "
        "taint of the accelerator nodes, so it stays Pending; add the toleration {key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}"
    ]}


def test_a_toleration_of_every_taint_counts():
    deployment = _deployment()
    _pod(deployment)["tolerations"] = [{"operator": "Exists"}]
    assert violations("kubernetes:apps/v1:Deployment", deployment) == {}


def test_fewer_gpus_than_tensor_parallel_ranks_is_refused():
    deployment = _deployment("prod", "llama-3-3-70b-deployment")
    container = _pod(deployment)["containers"][0]
    container["resources"]["requests"]["nvidia.com/gpu"] = container["resources"]["limits"]["nvidia.com/gpu"] = "2"
    assert violations("kubernetes:apps/v1:Deployment", deployment, "llama") == {"vllm-accelerators-match-parallelism": [
        "Deployment 'llama', container 'vllm' requests 2 nvidia.com/gpu (2 ranks) but vLLM runs 4 (tensor 4); "
        "set nvidia.com/gpu to 4 or the parallel sizes to match"
    ]}


def test_neuron_devices_count_two_cores_each():
    deployment = _deployment("dev", "llama-3-1-8b-int8-neuron-deployment")
    resources = _pod(deployment)["containers"][0]["resources"]
    for section in ("requests", "limits"):
        del resources[section]["aws.amazon.com/neuroncore"]
        resources[section]["aws.amazon.com/neuron"] = "1"
    assert violations("kubernetes:apps/v1:Deployment", deployment) == {}


@pytest.mark.parametrize(("words", "ranks"), [
    (["vllm", "serve", "m"], 1),
    (["vllm", "serve", "m", "--tensor-parallel-size", "4", "--pipeline-parallel-size=2"], 8),
    (["vllm", "serve", "m", "-tp", "2", "--data-parallel-size", "4", "--data-parallel-size-local", "2"], 4),
])
def test_parallel_degree_reads_both_flag_spellings(words, ranks):
    assert policies.parallel_degree(words)[0] == ranks


def test_a_liveness_probe_without_a_startup_probe_is_refused_because_it_kills_a_loading_model():
    deployment = _deployment()
    del _pod(deployment)["containers"][0]["startupProbe"]
    [message] = violations("kubernetes:apps/v1:Deployment", deployment)["vllm-has-probes"]
    assert message.startswith("Deployment 'model', container 'vllm' has a livenessProbe but no startupProbe")


def test_no_probes_at_all_is_refused():
    deployment = _deployment()
    container = _pod(deployment)["containers"][0]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        del container[probe]
    assert violations("kubernetes:apps/v1:Deployment", deployment)["vllm-has-probes"] == [
        "Deployment 'model', container 'vllm' has no readinessProbe or livenessProbe; probe vLLM's GET /health so "
        "traffic waits for a loaded model and a hung server restarts"
    ]


def test_the_guides_host_ipc_and_a_privileged_container_break_the_baseline():
    deployment = _deployment()
    pod = _pod(deployment)
    pod["hostIPC"] = True
    pod["hostNetwork"] = True
    context = pod["containers"][0]["securityContext"]
    context.update(privileged=True, allowPrivilegeEscalation=True, capabilities={"add": ["SYS_ADMIN"]})
    found = violations("kubernetes:apps/v1:Deployment", deployment)["vllm-security-baseline"]
    assert [message.split(" ", 3)[3].split(";")[0] for message in found] == [
        "hostNetwork, hostIPC: the pod shares the node's namespaces (Pod Security baseline forbids it)",
        "'vllm' is privileged (Pod Security baseline forbids it)",
        "'vllm' may escalate privileges",
        "'vllm' adds capabilities ['SYS_ADMIN'] beyond the Pod Security baseline",
        "'vllm' keeps the default capabilities (NET_RAW among them)",
    ]


def test_a_token_in_clear_text_is_refused_wherever_it_appears():
    deployment = _deployment()
    container = _pod(deployment)["containers"][0]
    container["env"].append({"name": "HF_TOKEN", "value": "hf_abcdefghijklmnopqrstuvwxyz0123"})
    container["args"] += ["--api-key", "sk-local"]
    found = violations("kubernetes:apps/v1:Deployment", deployment)["vllm-no-clear-text-token"]
    assert [message.split(": ", 1)[1].split(" in clear text")[0] for message in found] == [
        "env HF_TOKEN holds a token", "--api-key passes a token on the command line",
    ]


def test_containers_that_are_not_vllm_are_left_alone():
    nginx = {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.27", "env": [{"name": "API_TOKEN", "value": "x"}]}]}}}}
    assert violations("kubernetes:apps/v1:Deployment", nginx) == {}
    assert violations("kubernetes:core/v1:Service", {"spec": {}}) == {}


def test_the_packs_accelerator_table_agrees_with_the_projects():
    for traits in ACCELERATORS.values():
        assert policies.ACCELERATOR_RESOURCES[traits.resource_name].taint_key == traits.taint_key
        assert policies.ACCELERATOR_RESOURCES[traits.resource_name].ranks_per_unit == 1


def _trainium2_pod(devices: str, tensor_parallel: int, lnc: str | None = None, selector: dict | None = None) -> dict:
    deployment = _deployment("dev", "llama-3-1-8b-int8-neuron-deployment")
    pod = _pod(deployment)
    pod["nodeSelector"] = {"node.kubernetes.io/instance-type": "trn2.48xlarge"} if selector is None else selector
    container = pod["containers"][0]
    for section in ("requests", "limits"):
        container["resources"][section].pop("aws.amazon.com/neuroncore", None)
        container["resources"][section]["aws.amazon.com/neuron"] = devices
    container["args"] = [a for a in container["args"] if not a.startswith("--tensor-parallel-size")]
    container["args"].append(f"--tensor-parallel-size={tensor_parallel}")
    if lnc is not None:
        container.setdefault("env", []).append({"name": "NEURON_LOGICAL_NC_CONFIG", "value": lnc})
    return deployment


@pytest.mark.parametrize("devices, tensor_parallel, lnc", [("1", 4, None), ("2", 8, "2"), ("1", 8, "1"), ("4", 16, None)])
def test_a_valid_trainium2_pod_is_not_refused_a_device_counts_its_logical_neuroncores(devices, tensor_parallel, lnc):
    # Trn2: 8 physical NeuronCores per device, 4 logical at the default LNC=2, 8 at LNC=1 (Neuron docs, LNC page).
    assert violations("kubernetes:apps/v1:Deployment", _trainium2_pod(devices, tensor_parallel, lnc)) == {}


def test_a_trainium2_pod_with_fewer_ranks_than_its_devices_cores_is_refused_with_the_logical_count():
    found = violations("kubernetes:apps/v1:Deployment", _trainium2_pod("1", 2), "llama")
    assert found == {"vllm-accelerators-match-parallelism": [
        "Deployment 'llama', container 'vllm' requests 1 aws.amazon.com/neuron (4 ranks) but vLLM runs 2 (tensor 2); "
        "set the parallel sizes to a multiple of 4 (each aws.amazon.com/neuron holds 4 ranks)"
    ]}


def test_neuron_devices_on_an_unknown_family_are_not_refused_but_an_advisory_policy_says_they_are_unchecked():
    found = violations("kubernetes:apps/v1:Deployment", _trainium2_pod("1", 4, selector={"example.com/pool": "big"}), "llama")
    assert list(found) == ["vllm-neuron-devices-unchecked"]
    assert "the pod names no single instance family" in found["vllm-neuron-devices-unchecked"][0]
    advisory = next(p for p in policies.POLICIES if p.name == "vllm-neuron-devices-unchecked")
    assert advisory.enforcement_level == pulumi_policy.EnforcementLevel.ADVISORY
