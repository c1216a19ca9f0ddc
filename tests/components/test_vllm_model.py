"""VllmModel used as a library from another stack: against any cluster's provider, alone or sharing a namespace."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
import pytest

from vllm_eks.components.model_namespace import ModelNamespace, ModelNamespaceArgs
from vllm_eks.components.vllm_model import VllmModel, VllmModelArgs
from vllm_eks.config.errors import ConfigError
from vllm_eks.config.model import ModelConfig
from vllm_eks.config.platform.node_groups import NodeGroupConfig
from vllm_eks.config.stack import MonitoringConfig, NetworkPolicyConfig
from vllm_eks.config.validation import validate_model
from vllm_eks.preview.engine import run_program

GPU_GROUP = NodeGroupConfig(name="gpu", instance_type="g6e.xlarge")


def _qwen(**overrides) -> ModelConfig:
    fields = dict(
        name="qwen3-32b-fp8", accelerator="gpu", node_group="gpu", image="vllm/vllm-openai:v0.10.2",
        model="Qwen/Qwen3-32B-FP8", max_model_len=32768, gpu_memory_utilization=0.95, tool_call_parser="hermes",
        trust_remote_code=True, resources={"cpu": "3", "memory": "24Gi"},
    )
    return ModelConfig.model_validate({**fields, **overrides})


def _standalone_program(**model_overrides):
    # Room for a few single-GPU replicas.
    group = NodeGroupConfig(name="gpu", instance_type="g6e.xlarge", desired_size=3, max_size=3)

    def program():
        provider = k8s.Provider("their-cluster", kubeconfig="{}")
        model = VllmModel("qwen", VllmModelArgs(model=_qwen(**model_overrides), node_group=group, hf_token="hf_x"),
                          pulumi.ResourceOptions(provider=provider))
        pulumi.export("endpoint", model.endpoint)
        pulumi.export("namespace", model.namespace)
    return program


def test_a_standalone_model_creates_its_own_namespace_under_itself():
    recording = run_program(_standalone_program())
    component = recording.one("vllm-eks:index:VllmModel", "qwen")
    namespace = recording.one("vllm-eks:index:ModelNamespace", "qwen-ns")
    assert namespace.parent == component.urn
    assert {r.type for r in recording.children_of(namespace)} == {
        "kubernetes:core/v1:Namespace", "kubernetes:core/v1:PersistentVolumeClaim",
        "kubernetes:core/v1:Secret", "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    }
    assert recording.outputs == {"endpoint": "http://qwen3-32b-fp8.vllm.svc.cluster.local:8000", "namespace": "vllm"}


def test_every_kubernetes_child_uses_the_callers_provider():
    recording = run_program(_standalone_program())
    objects = recording.kubernetes_objects()
    assert objects
    assert {r.provider.split("::")[3] for r in objects} == {"their-cluster"}


def test_a_gpu_model_gets_no_neuron_cache_and_shared_memory_of_half_its_memory():
    recording = run_program(_standalone_program())
    claims = [r.inputs["metadata"]["name"] for r in recording.by_type("kubernetes:core/v1:PersistentVolumeClaim")]
    assert claims == ["huggingface-cache"]
    pod = recording.one("kubernetes:apps/v1:Deployment", "qwen-deployment").inputs["spec"]["template"]["spec"]
    assert {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "12Gi"}} in pod["volumes"]
    assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert "hostIPC" not in pod and "hostNetwork" not in pod
    assert pod["containers"][0]["resources"]["limits"] == {"memory": "24Gi", "nvidia.com/gpu": "1"}


def test_a_hub_model_mounts_the_cache_and_reads_the_token_from_the_secret():
    recording = run_program(_standalone_program())
    container = recording.one("kubernetes:apps/v1:Deployment", "qwen-deployment").inputs["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "huggingface-cache", "mountPath": "/root/.cache/huggingface"} in container["volumeMounts"]
    token_env = [e for e in container["env"] if e["name"] in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")]
    assert token_env == [
        {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf-token", "key": "token"}}},
        {"name": "HUGGING_FACE_HUB_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf-token", "key": "token"}}},
    ]


def test_skipping_the_await_annotates_the_deployment_instead_of_waiting():
    recording = run_program(_standalone_program(wait_for_ready=False))
    metadata = recording.one("kubernetes:apps/v1:Deployment", "qwen-deployment").inputs["metadata"]
    assert metadata["annotations"]["pulumi.com/skipAwait"] == "true"


def test_models_given_a_shared_namespace_create_no_namespace_of_their_own():
    def program():
        shared = ModelNamespace("team", ModelNamespaceArgs(name="team", hf_token="hf_x"))
        for name in ("a", "b"):
            VllmModel(name, VllmModelArgs(model=_qwen(name=name, namespace="team", served_model_name=name),
                                          node_group=GPU_GROUP, namespace=shared))
    recording = run_program(program)
    assert [r.name for r in recording.by_type("kubernetes:core/v1:Namespace")] == ["team-namespace"]
    deployment = recording.one("kubernetes:apps/v1:Deployment", "b-deployment")
    namespace = recording.one("kubernetes:core/v1:Namespace", "team-namespace")
    assert namespace.urn in deployment.dependencies


def test_cache_claims_and_their_namespace_are_retained_on_delete_by_default():
    recording = run_program(_standalone_program())
    for resource in [*recording.by_type("kubernetes:core/v1:PersistentVolumeClaim"), *recording.by_type("kubernetes:core/v1:Namespace")]:
        assert resource.retain_on_delete, resource.name
    assert not recording.one("kubernetes:apps/v1:Deployment", "qwen-deployment").retain_on_delete


def test_gpu_shared_memory_defaults_to_the_guides_16gi_when_memory_allows():
    assert _qwen(resources={"cpu": "3", "memory": "48Gi"}).resolved_shm_size == "16Gi"
    assert _qwen(resources={"cpu": "3", "memory": "12Gi"}).resolved_shm_size == "6Gi"
    assert _qwen(shm_size="2Gi").resolved_shm_size == "2Gi"


def test_a_non_root_image_runs_as_its_user_and_claims_no_root_exception():
    recording = run_program(_standalone_program(run_as_user=10001))
    deployment = recording.one("kubernetes:apps/v1:Deployment", "qwen-deployment").inputs
    assert deployment["spec"]["template"]["spec"]["securityContext"] == {
        "seccompProfile": {"type": "RuntimeDefault"},
        "runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001, "fsGroup": 10001,
    }
    skipped = {value.split("=")[0] for key, value in deployment["metadata"]["annotations"].items() if key.startswith("checkov.io/skip")}
    assert skipped == {"CKV_K8S_11", "CKV_K8S_15", "CKV_K8S_43", "CKV_K8S_35"}


def test_the_namespace_policy_denies_all_ingress_and_lets_out_only_dns_and_https():
    def program():
        ModelNamespace("team", ModelNamespaceArgs(name="team", network_policy=NetworkPolicyConfig(allowed_namespaces=["gateway"])))
    recording = run_program(program)
    spec = recording.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "team-network-policy").inputs["spec"]
    assert spec["podSelector"] == {}
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in spec
    dns, https = spec["egress"]
    assert dns == {
        "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}],
        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
    }
    # Instance metadata (HTTP, port 80) and any other plain-HTTP service stay unreachable.
    assert https == {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"protocol": "TCP", "port": 443}]}


def test_each_model_opens_only_its_own_port_to_the_namespace_and_listed_callers():
    def program():
        shared = ModelNamespace("team", ModelNamespaceArgs(name="team", network_policy=NetworkPolicyConfig(allowed_namespaces=["gateway"])))
        VllmModel("qwen", VllmModelArgs(model=_qwen(namespace="team", port=8001), node_group=GPU_GROUP, namespace=shared))
    recording = run_program(program)
    policy = recording.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "qwen-network-policy")
    assert policy.parent == recording.one("vllm-eks:index:VllmModel", "qwen").urn
    assert policy.inputs["metadata"]["name"] == "qwen3-32b-fp8"
    assert policy.inputs["spec"] == {
        "podSelector": {"matchLabels": {"app": "qwen3-32b-fp8"}},
        "policyTypes": ["Ingress"],
        "ingress": [{
            "from": [{"podSelector": {}}, {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "gateway"}}}],
            "ports": [{"protocol": "TCP", "port": 8001}],
        }],
    }


def test_a_model_in_a_namespace_without_network_policies_gets_none():
    def program():
        shared = ModelNamespace("team", ModelNamespaceArgs(name="team", network_policy=NetworkPolicyConfig(enabled=False)))
        VllmModel("qwen", VllmModelArgs(model=_qwen(namespace="team"), node_group=GPU_GROUP, namespace=shared))
    assert run_program(program).by_type("kubernetes:networking.k8s.io/v1:NetworkPolicy") == []


def test_one_service_monitor_per_namespace_selects_every_vllm_service_and_only_prometheus_may_scrape():
    monitoring = MonitoringConfig(service_monitors=True, prometheus_namespace="observability")

    def program():
        shared = ModelNamespace("team", ModelNamespaceArgs(name="team", monitoring=monitoring))
        VllmModel("qwen", VllmModelArgs(model=_qwen(namespace="team"), node_group=GPU_GROUP, namespace=shared, monitoring=monitoring))
        VllmModel("llama", VllmModelArgs(model=_qwen(namespace="team", name="llama"), node_group=GPU_GROUP, namespace=shared,
                                         monitoring=monitoring))
    recording = run_program(program)
    [monitor] = [r.inputs for r in recording.by_type("kubernetes:monitoring.coreos.com/v1:ServiceMonitor")]
    assert monitor["metadata"]["name"] == "vllm-monitor" and monitor["metadata"]["namespace"] == "team"
    for service in recording.by_type("kubernetes:core/v1:Service"):
        assert monitor["spec"]["selector"]["matchLabels"].items() <= service.inputs["metadata"]["labels"].items()
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["team"]}
    assert monitor["spec"]["endpoints"] == [{"port": "http", "path": "/metrics", "interval": "15s"}]
    policy = recording.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "qwen-network-policy").inputs
    peers = policy["spec"]["ingress"][0]["from"]
    # Prometheus's server pods, not every pod of its namespace (Grafana, Alertmanager, exporters there stay out).
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "observability"}},
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus",
                                            "app.kubernetes.io/managed-by": "prometheus-operator"}}} in peers
    assert not any(p.get("namespaceSelector") and "podSelector" not in p for p in peers)


def test_no_service_monitor_unless_asked_because_it_needs_the_operators_crds():
    recording = run_program(_standalone_program())
    assert recording.by_type("kubernetes:monitoring.coreos.com/v1:ServiceMonitor") == []


def test_several_replicas_get_a_budget_of_one_disruption_and_a_single_replica_none():
    single = run_program(_standalone_program())
    assert single.by_type("kubernetes:policy/v1:PodDisruptionBudget") == []
    several = run_program(_standalone_program(replicas=3))
    [budget] = several.by_type("kubernetes:policy/v1:PodDisruptionBudget")
    assert budget.inputs["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "qwen3-32b-fp8"}}}


def test_cache_claim_sizes_are_set_once_because_efs_claims_cannot_be_resized():
    recording = run_program(_standalone_program())
    for claim in recording.by_type("kubernetes:core/v1:PersistentVolumeClaim"):
        assert claim.ignore_changes == ["spec.resources.requests.storage"]


def test_a_node_selector_override_replaces_the_project_labels_for_foreign_clusters():
    def program():
        VllmModel("qwen", VllmModelArgs(model=_qwen(), node_group=GPU_GROUP, hf_token="hf_x",
                                        node_selector={"node.kubernetes.io/instance-type": "g6e.xlarge", "pool": "gpu"}))
    pod = run_program(program).one("kubernetes:apps/v1:Deployment", "qwen-deployment").inputs["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"node.kubernetes.io/instance-type": "g6e.xlarge", "pool": "gpu"}


def test_a_model_that_does_not_fit_its_node_group_fails_before_anything_registers():
    def program():
        VllmModel("qwen", VllmModelArgs(model=_qwen(tensor_parallel_size=2), node_group=GPU_GROUP, hf_token="hf_x"))
    recording = run_program(program, capture_error=True)
    assert isinstance(recording.error, ConfigError)
    assert str(recording.error) == (
        "Invalid VllmModel 'qwen' (1 problem):\n"
        "  - model.tensor_parallel_size: model qwen3-32b-fp8: needs 2 GPUs per pod (tensor_parallel_size 2 x "
        "pipeline_parallel_size 1) but one g6e.xlarge node has 1, and a pod cannot span nodes; run node_group on "
        "g6e.12xlarge (4 GPUs), or lower tensor_parallel_size to at most 1")
    assert recording.resources == []


def test_a_library_model_is_not_held_to_the_running_node_count_because_its_cluster_may_autoscale():
    group = NodeGroupConfig(name="gpu", instance_type="g6e.xlarge", max_size=4)
    assert validate_model(_qwen(replicas=2), group, source="VllmModel 'qwen'").model.replicas == 2
    with pytest.raises(ConfigError) as refused:
        validate_model(_qwen(replicas=5), group, source="VllmModel 'qwen'")
    assert [str(issue) for issue in refused.value.issues] == [
        "model.replicas: model qwen3-32b-fp8: the pods on node group 'gpu' need 5 g6e.xlarge nodes but max_size is 4 "
        "(qwen3-32b-fp8: 5 replicas at 1 per node = 5 nodes, pods per node = min(GPUs 1/1, cpu 3920m/3000m, memory "
        "31.0 GiB/24.0 GiB)); raise node_group.max_size to 5 or lower replicas to 4"]


def test_two_standalone_models_in_one_namespace_are_refused_at_construction_with_the_shared_namespace_fix():
    def program():
        VllmModel("a", VllmModelArgs(model=_qwen(), node_group=GPU_GROUP, hf_token="hf_x"))
        VllmModel("b", VllmModelArgs(model=_qwen(name="qwen-b", served_model_name="b"), node_group=GPU_GROUP, hf_token="hf_x"))
    recording = run_program(program, capture_error=True)
    assert str(recording.error) == (
        "Invalid VllmModel 'b' (1 problem):\n"
        "  - model.namespace: VllmModel 'a' already creates namespace 'vllm' (its Namespace, hf-token Secret, cache "
        "claims and NetworkPolicy) on this cluster, so a second one would collide at `pulumi up`; create one "
        "ModelNamespace(\"vllm\", ModelNamespaceArgs(name=\"vllm\", ...)) and pass it to both as "
        "VllmModelArgs(namespace=...), or give this model another namespace")
    assert not [r for r in recording.resources if r.name.startswith("b")]


def test_standalone_models_on_two_clusters_may_each_create_the_same_namespace():
    def program():
        for cluster in ("east", "west"):
            provider = k8s.Provider(cluster, kubeconfig="{}")
            VllmModel(f"qwen-{cluster}", VllmModelArgs(model=_qwen(), node_group=GPU_GROUP, hf_token="hf_x"),
                      pulumi.ResourceOptions(provider=provider))
    recording = run_program(program)
    assert recording.error is None
    assert len([r for r in recording.resources if r.type == "kubernetes:core/v1:Namespace"]) == 2


def test_a_library_model_with_a_token_in_its_args_fails_before_anything_registers_and_never_prints_it():
    token = "hf_" + "LibraryCallerPastedTheirTokenHereA"
    def program():
        VllmModel("qwen", VllmModelArgs(model=_qwen(extra_args=[f"--hf-token={token}"]), node_group=GPU_GROUP, hf_token="hf_x"))
    recording = run_program(program, capture_error=True)
    assert [issue.path for issue in recording.error.issues] == ["model.extra_args[0]"]
    assert token not in str(recording.error)
    assert recording.resources == []
