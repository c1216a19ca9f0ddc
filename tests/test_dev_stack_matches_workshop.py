"""The dev stack reproduces every field of the workshop's manifests (shared/seeds), with the
documented deviations only: the project's node labels instead of the Auto Mode label, ALL
capabilities dropped instead of only NET_RAW, a read-only root filesystem, and what the images
really hold (docs/neuron-images.md): the Llama snapshot path the seed elides, the chat template
at its absolute path (the container runs in a writable working directory), and Qwen3 served
as the bf16 graphs its image was compiled to, without the fp8 override."""

from __future__ import annotations

import json

import pytest

WORKSHOP_MODELS = {
    "llama-3-1-8b-int8-neuron": {
        "image": "public.ecr.aws/t0h7h1e6/vllm-neuron:llama-3-1-8b-int8",
        "args": [
            "/opt/vllm/huggingface-cache/Llama-3.1-8B-Instruct/snapshots/0e9e39f249a16976918f6564b8830bc894c89659",
            "--served-model-name=llama-3-1-8b-int8-neuron",
            "--trust-remote-code",
            "--gpu-memory-utilization=0.90",
            "--max-model-len=8192",
            "--enable-auto-tool-choice",
            "--tool-call-parser=llama3_json",
            "--chat-template=/opt/vllm/examples/tool_chat_template_llama3.1_json.jinja",
            "--tensor-parallel-size=2",
            "--max-num-seqs=4",
        ],
        "override": {"quantized": True,
                     "quantized_checkpoints_path":
                         "/opt/vllm/huggingface-cache/Llama-3.1-8B-Instruct/snapshots/0e9e39f249a16976918f6564b8830bc894c89659",
                     "kv_cache_quant": True},
        "env": {"NEURON_COMPILED_ARTIFACTS": "/opt/vllm/neuron-cache/Llama-3.1-8B-Instruct-int8"},
    },
    "qwen3-8b-fp8-neuron": {
        "image": "public.ecr.aws/t0h7h1e6/vllm-neuron:qwen3-8b",
        "args": [
            "/root/.cache/huggingface/hub/models--Qwen--Qwen3-8B/snapshots/b968826d9c46dd6066d109eabc6255188de91218",
            "--served-model-name=qwen3-8b-fp8-neuron",
            "--trust-remote-code",
            "--gpu-memory-utilization=0.90",
            "--max-model-len=16384",
            "--enable-auto-tool-choice",
            "--tool-call-parser=hermes",
            "--reasoning-parser=qwen3",
            "--tensor-parallel-size=2",
            "--max-num-seqs=1",
        ],
        "override": None,
        "env": {"NEURON_COMPILED_ARTIFACTS": "/root/.cache/neuron/Qwen/Qwen3-8B"},
    },
}


def test_the_vllm_namespace_exists(dev_objects):
    assert ("Namespace", "vllm") in dev_objects


@pytest.mark.parametrize("claim", ["huggingface-cache", "neuron-cache"])
def test_cache_claims_are_100gi_read_write_many_on_efs(dev_objects, claim):
    spec = dev_objects[("PersistentVolumeClaim", claim)]["spec"]
    assert dev_objects[("PersistentVolumeClaim", claim)]["metadata"]["namespace"] == "vllm"
    assert spec == {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "100Gi"}}, "storageClassName": "efs"}


def test_hf_token_secret_holds_the_token_under_key_token_as_a_secret(dev_objects):
    secret = dev_objects[("Secret", "hf-token")]
    assert secret["metadata"]["namespace"] == "vllm"
    assert secret["type"] == "Opaque"
    assert secret["stringData"] == {"token": "[secret]"}


@pytest.mark.parametrize("name", sorted(WORKSHOP_MODELS))
def test_deployment_carries_every_workshop_field(dev_objects, name):
    expected = WORKSHOP_MODELS[name]
    deployment = dev_objects[("Deployment", name)]
    assert deployment["metadata"]["namespace"] == "vllm"
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["selector"] == {"matchLabels": {"app": name}}
    pod = deployment["spec"]["template"]
    assert pod["metadata"]["labels"]["app"] == name
    assert pod["spec"]["securityContext"] == {"seccompProfile": {"type": "RuntimeDefault"}}
    assert pod["spec"]["automountServiceAccountToken"] is False
    assert pod["spec"]["nodeSelector"]["node.kubernetes.io/instance-type"] == "inf2.xlarge"
    assert pod["spec"]["nodeSelector"]["vllm-eks/instance-family"] == "inf2"
    assert "eks.amazonaws.com/instance-family" not in pod["spec"]["nodeSelector"]
    assert pod["spec"]["tolerations"] == [{"effect": "NoSchedule", "key": "aws.amazon.com/neuron", "operator": "Exists"}]

    [container] = pod["spec"]["containers"]
    assert container["name"] == "vllm"
    assert container["image"] == expected["image"]
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert container["command"] == ["vllm", "serve"]
    if expected["override"] is None:
        assert container["args"] == expected["args"]
    else:
        assert container["args"][:-1] == expected["args"]
        flag, _, override = container["args"][-1].partition("=")
        assert flag == "--override-neuron-config"
        assert json.loads(override) == expected["override"]
    assert {e["name"]: e["value"] for e in container["env"] if e["name"] in expected["env"]} == expected["env"]
    assert container["ports"] == [{"containerPort": 8000, "name": "http", "protocol": "TCP"}]
    assert container["resources"]["requests"] == {"aws.amazon.com/neuroncore": "2", "cpu": "3", "memory": "12Gi"}
    assert container["resources"]["limits"]["aws.amazon.com/neuroncore"] == "2"
    security = container["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]  # covers the workshop's NET_RAW
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}


@pytest.mark.parametrize("name", sorted(WORKSHOP_MODELS))
def test_image_served_models_mount_nothing_over_their_baked_in_caches(dev_objects, name):
    container = dev_objects[("Deployment", name)]["spec"]["template"]["spec"]["containers"][0]
    mounted = {mount["mountPath"] for mount in container["volumeMounts"]}
    assert mounted == {"/tmp", "/var/tmp", "/var/lib/vllm-neuron"}
    assert not any(e["name"] in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN") for e in container["env"])


@pytest.mark.parametrize("name", sorted(WORKSHOP_MODELS))
def test_neuron_containers_run_in_a_writable_working_directory_and_keep_the_images_tmp(dev_objects, name):
    # The NxD loader writes local-models/ relative to the working directory; the images keep vLLM in
    # /opt/vllm (the 0.9.1 DLC), so /tmp stays an emptyDir and no TMPDIR is needed.
    pod = dev_objects[("Deployment", name)]["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["workingDir"] == "/var/lib/vllm-neuron"
    assert {"name": "work", "emptyDir": {}} in pod["volumes"]
    assert {"name": "work", "mountPath": "/var/lib/vllm-neuron"} in container["volumeMounts"]
    assert "TMPDIR" not in {e["name"] for e in container["env"]}


@pytest.mark.parametrize("name", sorted(WORKSHOP_MODELS))
def test_two_neuroncore_pods_use_the_neuron_scheduler_and_a_memory_limit_loading_survives(dev_objects, name):
    pod = dev_objects[("Deployment", name)]["spec"]["template"]["spec"]
    assert pod["schedulerName"] == "my-scheduler"
    # The request stays the workshop's 12Gi; the limit is one inf2.xlarge node's allocatable, the most
    # NxD Inference can have while it shards the 15 GiB checkpoint (config/host_memory.py).
    assert pod["containers"][0]["resources"]["limits"] == {"aws.amazon.com/neuroncore": "2", "memory": "15391Mi"}


@pytest.mark.parametrize("name", sorted(WORKSHOP_MODELS))
def test_service_exposes_port_8000_named_http(dev_objects, name):
    service = dev_objects[("Service", name)]
    assert service["metadata"]["namespace"] == "vllm"
    assert service["spec"]["selector"] == {"app": name}
    assert service["spec"]["ports"] == [{"name": "http", "port": 8000, "protocol": "TCP", "targetPort": "http"}]


@pytest.mark.parametrize("name", sorted(WORKSHOP_MODELS))
def test_rollout_never_surges_a_pod_that_would_need_spare_accelerators(dev_objects, name):
    strategy = dev_objects[("Deployment", name)]["spec"]["strategy"]
    assert strategy == {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}, "type": "RollingUpdate"}


@pytest.mark.parametrize("name", sorted(WORKSHOP_MODELS))
def test_probes_give_model_load_a_30_minute_startup_budget(dev_objects, name):
    container = dev_objects[("Deployment", name)]["spec"]["template"]["spec"]["containers"][0]
    startup = container["startupProbe"]
    assert startup["httpGet"] == {"path": "/health", "port": "http"}
    assert startup["periodSeconds"] * startup["failureThreshold"] == 1800
    assert container["readinessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/health", "port": "http"}


def test_pulumi_waits_longer_than_its_default_ten_minutes_for_the_deployments(dev_recording):
    for name in WORKSHOP_MODELS:
        deployment = dev_recording.one("kubernetes:apps/v1:Deployment", f"{name}-deployment")
        assert deployment.custom_timeouts == {"create": "40m", "update": "40m"}


def test_the_namespace_resources_are_created_once_for_both_models(dev_recording):
    assert len(dev_recording.by_type("kubernetes:core/v1:Namespace")) == 1
    assert len(dev_recording.by_type("kubernetes:core/v1:PersistentVolumeClaim")) == 2
    assert len(dev_recording.by_type("kubernetes:core/v1:Secret")) == 1
