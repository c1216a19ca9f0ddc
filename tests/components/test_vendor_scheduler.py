"""The Neuron scheduler extension and its second kube-scheduler: deployed when some pod requests more
than one NeuronCore, pinned, hardened, and named by exactly those pods (config/scheduler_catalog.py)."""

from __future__ import annotations

import pytest
import yaml

from tests.config.stacks import parse_stack
from vllm_eks.components import _scheduler_objects as objects
from vllm_eks.config.errors import ConfigError


def _by_kind(found: list[dict]) -> dict[tuple[str, str], dict]:
    return {(obj["kind"], obj["metadata"]["name"]): obj for obj in found}


def test_the_scheduler_is_the_charts_extension_and_kube_scheduler_pinned_to_the_cluster_version():
    found = _by_kind(objects.scheduler_objects("my-scheduler", "1.33"))
    extension = found[("Deployment", "k8s-neuron-scheduler")]["spec"]["template"]["spec"]["containers"][0]
    assert extension["image"] == "public.ecr.aws/neuron/neuron-scheduler:2.29.148.0"
    assert extension["env"] == [{"name": "PORT", "value": "12345"}]
    scheduler = found[("Deployment", "my-scheduler")]["spec"]["template"]["spec"]["containers"][0]
    assert scheduler["image"] == "public.ecr.aws/eks-distro/kubernetes/kube-scheduler:v1.33.4-eks-1-33-13"
    assert scheduler["args"] == ["--config=/etc/kubernetes/my-scheduler/my-scheduler-config.yaml", "--leader-elect=true", "--v=2"]
    assert found[("Service", "k8s-neuron-scheduler")]["spec"]["ports"] == [
        {"name": "http", "port": 12345, "targetPort": 12345, "protocol": "TCP"}]


def test_my_scheduler_hands_neuron_resources_to_the_extension_and_may_not_ignore_it():
    config_map = _by_kind(objects.scheduler_objects("my-scheduler", "1.33"))[("ConfigMap", "my-scheduler")]
    config = yaml.safe_load(config_map["data"]["my-scheduler-config.yaml"])
    assert config["profiles"] == [{"schedulerName": "my-scheduler"}]
    [extender] = config["extenders"]
    assert extender == {
        "urlPrefix": "http://k8s-neuron-scheduler.kube-system.svc.cluster.local:12345", "filterVerb": "filter",
        "bindVerb": "bind", "enableHTTPS": False, "nodeCacheCapable": False, "ignorable": False,
        "managedResources": [{"name": "aws.amazon.com/neuron", "ignoredByScheduler": False},
                             {"name": "aws.amazon.com/neuroncore", "ignoredByScheduler": False}],
    }


def test_both_scheduler_pods_run_non_root_read_only_bounded_and_probed():
    for obj in objects.scheduler_objects("my-scheduler", "1.33"):
        if obj["kind"] != "Deployment":
            continue
        pod = obj["spec"]["template"]["spec"]
        assert pod["securityContext"] == {"seccompProfile": {"type": "RuntimeDefault"}, "runAsNonRoot": True,
                                          "runAsUser": 65532, "runAsGroup": 65532}
        [container] = pod["containers"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
        assert set(container["resources"]["limits"]) == {"cpu", "memory"}
        assert "readinessProbe" in container and "livenessProbe" in container


def test_the_scheduler_is_bound_to_the_system_scheduler_roles_as_the_chart_binds_it():
    found = _by_kind(objects.scheduler_objects("my-scheduler", "1.33"))
    roles = {name: obj["roleRef"]["name"] for (kind, name), obj in found.items() if kind == "ClusterRoleBinding"}
    assert roles == {"k8s-neuron-scheduler": "k8s-neuron-scheduler", "my-scheduler": "my-scheduler",
                     "my-scheduler-as-kube-scheduler": "system:kube-scheduler",
                     "my-scheduler-as-volume-scheduler": "system:volume-scheduler"}


def _stack(version: str, tp: int, **extra):
    group = {"name": "inf2", "instanceType": "inf2.8xlarge", "minSize": 1, "maxSize": 1}
    model = {"name": "llama", "accelerator": "neuron", "nodeGroup": "inf2", "image": "example/vllm-neuron:1",
             "source": "hub", "model": "meta-llama/Llama-3.1-8B-Instruct", "tensorParallelSize": tp,
             "maxNumSeqs": 4, "maxModelLen": 8192, "resources": {"cpu": "24", "memory": "96Gi"}, **extra}
    return {"hfToken": "hf_x", "cluster": {"kubernetesVersion": version, "endpointPublicAccessCidrs": ["198.51.100.0/24"]},
            "nodeGroups": [group], "models": [model]}


def test_a_cluster_version_without_a_pinned_kube_scheduler_is_refused_when_a_pod_needs_it():
    with pytest.raises(ConfigError) as raised:
        parse_stack(_stack("1.34", 2))
    assert [str(issue) for issue in raised.value.issues] == [
        "cluster.kubernetesVersion: models[0] request more than one NeuronCore per pod, which needs "
        "k8s-neuron-scheduler behind a second kube-scheduler (my-scheduler) at the cluster's version, and no "
        "kube-scheduler image is pinned for Kubernetes 1.34 (pinned: 1.31, 1.32, 1.33, 1.35); use one of those "
        "versions, or add its EKS Distro tag to config/scheduler_catalog.py"]


def test_single_core_pods_need_no_scheduler_at_any_version():
    int8 = {"neuronConfig": {"quantized": True}}  # 8.5 GiB of weights fit one NeuronCore
    assert parse_stack(_stack("1.34", 1, **int8)).models[0].tensor_parallel_size == 1


def test_dev_deploys_the_scheduler_and_points_both_two_core_models_at_it(dev_recording):
    deployments = {r.name: r for r in dev_recording.by_type("kubernetes:apps/v1:Deployment")}
    assert {"platform-my-scheduler-k8s-neuron-scheduler-deployment", "platform-my-scheduler-my-scheduler-deployment"} <= set(deployments)
    for name in ("llama-3-1-8b-int8-neuron", "qwen3-8b-fp8-neuron"):
        model = deployments[f"{name}-deployment"]
        assert model.inputs["spec"]["template"]["spec"]["schedulerName"] == "my-scheduler"
        # Depending on the component waits for its children: both scheduler Deployments are ready first.
        assert deployments["platform-my-scheduler-my-scheduler-deployment"].urn in model.dependencies
        assert deployments["platform-my-scheduler-k8s-neuron-scheduler-deployment"].urn in model.dependencies
