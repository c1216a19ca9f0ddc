"""How __main__.py wires the dev stack: the whole platform is created, every Kubernetes object
goes through the cluster's provider, and models wait for exactly what they need."""

from __future__ import annotations

from tests.conftest import recording_for


def test_the_dev_plan_lists_every_platform_part():
    types = {resource.type for resource in recording_for("dev").resources}
    assert {
        "eks:index:Cluster", "aws:eks/nodeGroup:NodeGroup", "aws:efs/fileSystem:FileSystem",
        "aws:efs/mountTarget:MountTarget", "aws:eks/addon:Addon", "kubernetes:storage.k8s.io/v1:StorageClass",
        "kubernetes:apps/v1:DaemonSet", "pulumi:providers:kubernetes",
    } <= types


def test_every_kubernetes_object_uses_the_clusters_provider():
    recording = recording_for("dev")
    [provider] = recording.by_type("pulumi:providers:kubernetes")
    assert {r.provider.rsplit("::", 1)[0] for r in recording.kubernetes_objects()} == {provider.urn}


def test_a_model_waits_for_the_storage_class_its_device_plugin_and_its_node_group():
    recording = recording_for("dev")
    needed = {
        recording.one("kubernetes:storage.k8s.io/v1:StorageClass", "platform-cache-efs").urn,
        recording.one("kubernetes:apps/v1:DaemonSet", "platform-neuron-device-plugin-daemonset").urn,
        recording.one("aws:eks/nodeGroup:NodeGroup", "platform-inf2").urn,
    }
    for name in ("llama-3-1-8b-int8-neuron", "qwen3-8b-fp8-neuron"):
        deployment = recording.one("kubernetes:apps/v1:Deployment", f"{name}-deployment")
        assert needed <= set(deployment.dependencies)


def test_namespaces_and_services_do_not_wait_for_accelerator_nodes():
    # Only the pods need nodes; the rest can be created while node groups come up.
    recording = recording_for("dev")
    node_group = recording.one("aws:eks/nodeGroup:NodeGroup", "platform-inf2").urn
    for resource in [*recording.by_type("kubernetes:core/v1:Namespace"), *recording.by_type("kubernetes:core/v1:Service")]:
        assert node_group not in resource.dependencies


def test_the_stack_exports_cluster_name_secret_kubeconfig_and_endpoints():
    outputs = recording_for("dev").outputs
    assert outputs["clusterName"] == "vllm-eks-dev"
    assert outputs["kubeconfig"] == "[secret]"
    assert outputs["modelEndpoints"] == {
        "llama-3-1-8b-int8-neuron": "http://llama-3-1-8b-int8-neuron.vllm.svc.cluster.local:8000",
        "qwen3-8b-fp8-neuron": "http://qwen3-8b-fp8-neuron.vllm.svc.cluster.local:8000",
    }
