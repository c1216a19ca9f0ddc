"""Neuron containers as the images need them: a writable working directory, scratch that does not
hide an image's own /tmp, chat templates at absolute paths, pinned digests, the vendor's scheduler
for multi-core pods and a memory limit loading survives (sources in config/image_catalog.py,
config/host_memory.py and config/accelerators.py)."""

from __future__ import annotations

import dataclasses

import pytest

from vllm_eks.components import _deployment_objects as objects
from vllm_eks.config import image_catalog
from vllm_eks.config.model import ModelConfig
from vllm_eks.config.platform.node_groups import NodeGroupConfig

INF2_8XL = NodeGroupConfig(name="inf2", instance_type="inf2.8xlarge")
INF2_XL = NodeGroupConfig(name="inf2", instance_type="inf2.xlarge")
DLC_072 = "public.ecr.aws/neuron/pytorch-inference-vllm-neuronx:0.7.2-neuronx-py310-sdk2.24.1-ubuntu22.04"
DLC_091 = "public.ecr.aws/neuron/pytorch-inference-vllm-neuronx:0.9.1-neuronx-py311-sdk2.26.0-ubuntu22.04"


def _model(**overrides) -> ModelConfig:
    fields = dict(name="llama", accelerator="neuron", node_group="inf2", image=DLC_091, source="hub",
                  model="meta-llama/Llama-3.1-8B-Instruct", tensor_parallel_size=2, max_num_seqs=4,
                  max_model_len=8192, resources={"cpu": "24", "memory": "96Gi"})
    return ModelConfig.model_validate({**fields, **overrides})


def _pod(model: ModelConfig, group: NodeGroupConfig = INF2_8XL) -> dict:
    return objects.deployment_object(model, group)["spec"]["template"]["spec"]


def _env(pod: dict) -> dict[str, str]:
    return {e["name"]: e["value"] for e in pod["containers"][0]["env"] if "value" in e}


def test_an_image_that_keeps_vllm_under_tmp_gets_no_emptydir_there_and_scratch_in_the_working_directory():
    pod = _pod(_model(image=DLC_072, chat_template="/tmp/upstreaming-to-vllm/examples/t.jinja"))
    mounts = {m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
    assert "/tmp" not in mounts and {"/var/tmp", "/var/lib/vllm-neuron"} <= mounts
    env = _env(pod)
    assert env["TMPDIR"] == "/var/lib/vllm-neuron"
    assert env["BASE_COMPILE_WORK_DIR"] == "/var/lib/vllm-neuron/nxd_model/"
    assert env["VLLM_CACHE_ROOT"] == "/var/lib/vllm-neuron/vllm-cache"
    assert env["XDG_CACHE_HOME"] == "/var/lib/vllm-neuron/cache"


def test_an_image_with_vllm_in_opt_keeps_tmp_as_an_emptydir_and_no_tmpdir():
    pod = _pod(_model())
    assert {"name": "tmp", "emptyDir": {}} in pod["volumes"]
    assert "TMPDIR" not in _env(pod) and _env(pod)["VLLM_CACHE_ROOT"] == "/tmp/vllm-cache"
    assert pod["containers"][0]["workingDir"] == "/var/lib/vllm-neuron"


def test_gpu_containers_keep_the_images_working_directory_and_the_default_scheduler():
    gpu = _model(accelerator="gpu", node_group="g6e", image="vllm/vllm-openai:v0.10.2", model="Qwen/Qwen3-8B",
                 tensor_parallel_size=1, max_num_seqs=None, max_model_len=4096, resources={"cpu": "3", "memory": "24Gi"})
    pod = _pod(gpu, NodeGroupConfig(name="g6e", instance_type="g6e.xlarge"))
    assert "workingDir" not in pod["containers"][0] and "schedulerName" not in pod
    assert pod["containers"][0]["resources"]["limits"]["memory"] == "24Gi"


def test_a_relative_chat_template_resolves_against_the_images_vllm_install():
    args = _pod(_model(chat_template="examples/tool_chat_template_llama3.1_json.jinja"))["containers"][0]["args"]
    assert "--chat-template=/opt/vllm/examples/tool_chat_template_llama3.1_json.jinja" in args


def test_a_neuroncore_pod_on_one_core_keeps_the_default_scheduler():
    pod = _pod(_model(tensor_parallel_size=1))
    assert "schedulerName" not in pod


def test_multi_core_neuron_pods_go_to_my_scheduler_unless_the_caller_names_another():
    assert _pod(_model())["schedulerName"] == "my-scheduler"
    pod = objects.deployment_object(_model(), INF2_8XL, scheduler=None)["spec"]["template"]["spec"]
    assert "schedulerName" not in pod


def test_a_digest_the_catalog_knows_pins_the_tag(monkeypatch):
    digest = "sha256:" + "ab" * 32
    facts = dataclasses.replace(image_catalog.NEURON_IMAGES[DLC_091], digest=digest)
    monkeypatch.setitem(image_catalog.NEURON_IMAGES, DLC_091, facts)
    deployment = objects.deployment_object(_model(), INF2_8XL)
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == f"{DLC_091}@{digest}"
    assert not any("CKV_K8S_43" in value for value in deployment["metadata"]["annotations"].values())


@pytest.mark.parametrize(("memory", "limit"), [("96Gi", "96Gi"), ("16Gi", "30634Mi")])
def test_the_memory_limit_is_the_request_or_twice_the_checkpoint_whichever_is_more(memory, limit):
    pod = _pod(_model(resources={"cpu": "24", "memory": memory}))
    assert pod["containers"][0]["resources"]["limits"]["memory"] == limit
    assert pod["containers"][0]["resources"]["requests"]["memory"] == memory


def test_on_a_node_smaller_than_twice_the_checkpoint_the_limit_is_its_whole_allocatable():
    pod = _pod(_model(source="image", model="/opt/vllm/huggingface-cache/Llama-3.1-8B-Instruct", resources={"cpu": "3", "memory": "12Gi"}), INF2_XL)
    assert pod["containers"][0]["resources"]["limits"]["memory"] == "15391Mi"
