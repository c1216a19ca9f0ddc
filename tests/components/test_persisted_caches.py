"""What vLLM rebuilds on every start lives on the namespace's claim, in a directory only an identical config shares;
what must stay per pod stays on emptyDir."""

from __future__ import annotations

import pytest

from vllm_eks.components import _deployment_objects as objects
from vllm_eks.components import _writable_paths as paths
from vllm_eks.components._namespace_objects import HF_CACHE_CLAIM, cache_claim_objects
from vllm_eks.config.model import ModelConfig
from vllm_eks.config.platform.node_groups import NodeGroupConfig
from vllm_eks.config.stack import CacheVolumesConfig

G6E = NodeGroupConfig(name="g6e", instance_type="g6e.xlarge")
INF2 = NodeGroupConfig(name="inf2", instance_type="inf2.8xlarge")


def _gpu(**overrides) -> ModelConfig:
    fields = dict(name="qwen", accelerator="gpu", node_group="g6e", image="vllm/vllm-openai:v0.10.2", source="hub",
                  model="Qwen/Qwen3-32B-FP8", max_model_len=32768, resources={"cpu": "3", "memory": "24Gi"})
    return ModelConfig.model_validate({**fields, **overrides})


def _neuron(**overrides) -> ModelConfig:
    fields = dict(name="llama", accelerator="neuron", node_group="inf2", image="public.ecr.aws/neuron/vllm:1",
                  source="hub", model="meta-llama/Llama-3.1-8B-Instruct", tensor_parallel_size=2,
                  resources={"cpu": "24", "memory": "96Gi"})
    return ModelConfig.model_validate({**fields, **overrides})


def _pod(model: ModelConfig, group: NodeGroupConfig = G6E) -> tuple[dict[str, str], dict[str, dict], dict[str, dict]]:
    pod = objects.deployment_object(model, group)["spec"]["template"]["spec"]
    container = pod["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    return env, {m["mountPath"]: m for m in container["volumeMounts"]}, {v["name"]: v for v in pod["volumes"]}


def test_gpu_pods_keep_vllms_and_tritons_caches_in_their_keyed_directory_of_the_hub_cache_claim():
    env, mounts, volumes = _pod(_gpu())
    cache = mounts[paths.PERSISTED_CACHE_PATH]
    assert cache["name"] == HF_CACHE_CLAIM
    assert volumes[HF_CACHE_CLAIM] == {"name": HF_CACHE_CLAIM, "persistentVolumeClaim": {"claimName": HF_CACHE_CLAIM}}
    assert cache["subPath"] == f"vllm-eks-caches/qwen-{paths.persisted_cache_key(_gpu(), G6E)}"
    assert env["VLLM_CACHE_ROOT"] == f"{paths.PERSISTED_CACHE_PATH}/vllm"
    assert env["TRITON_CACHE_DIR"] == f"{paths.PERSISTED_CACHE_PATH}/triton"


def test_scratch_sockets_locks_and_usage_files_stay_on_the_pods_emptydir():
    env, mounts, volumes = _pod(_gpu())
    for name in ("VLLM_CONFIG_ROOT", "HF_MODULES_CACHE", "FLASHINFER_WORKSPACE_BASE", "CUDA_CACHE_PATH",
                 "PYTORCH_KERNEL_CACHE_PATH", "XDG_CACHE_HOME"):
        holder = max((p for p in mounts if env[name].startswith(p + "/")), key=len)
        assert "emptyDir" in volumes[mounts[holder]["name"]], f"{name}={env[name]} is not on an emptyDir"
    assert "emptyDir" in volumes[mounts["/tmp"]["name"]]  # tempfile.gettempdir(): vLLM's ZMQ IPC sockets


def test_an_image_served_gpu_model_mounts_only_its_cache_directory_and_nothing_over_the_images_hf_cache():
    model = _gpu(source="image", model="/models/qwen")
    env, mounts, _ = _pod(model)
    assert "/root/.cache/huggingface" not in mounts
    assert mounts[paths.PERSISTED_CACHE_PATH]["subPath"].startswith("vllm-eks-caches/qwen-")
    assert "HF_HOME" not in env
    # The claim it names is one every model namespace creates.
    claims = [c["metadata"]["name"] for c in cache_claim_objects("vllm", CacheVolumesConfig(), neuron_cache=False)]
    assert HF_CACHE_CLAIM in claims


def test_neuron_pods_persist_nothing_beyond_the_neuron_cache():
    env, mounts, _ = _pod(_neuron(), INF2)
    assert paths.PERSISTED_CACHE_PATH not in mounts
    assert env["VLLM_CACHE_ROOT"].startswith("/tmp/") and env["TRITON_CACHE_DIR"].startswith("/tmp/")
    _, _, image_volumes = _pod(_neuron(source="image", model="/opt/models/llama"), INF2)
    assert all("persistentVolumeClaim" not in v for v in image_volumes.values())


@pytest.mark.parametrize("change", [
    {"image": "vllm/vllm-openai:v0.11.0"}, {"max_model_len": 16384}, {"tensor_parallel_size": 2},
    {"kv_cache_dtype": "fp8"}, {"extra_args": ["--revision=abc123"]}, {"env": {"VLLM_ATTENTION_BACKEND": "FLASHINFER"}},
    {"model": "Qwen/Qwen3-8B"}, {"quantization": "fp8"},
])
def test_anything_that_changes_compiled_artefacts_changes_the_directory(change):
    assert paths.persisted_cache_key(_gpu(**change), G6E) != paths.persisted_cache_key(_gpu(), G6E)


def test_another_instance_type_gets_its_own_directory_and_an_identical_config_the_same_one():
    p5 = NodeGroupConfig(name="p5", instance_type="p5.48xlarge")
    assert paths.persisted_cache_key(_gpu(), p5) != paths.persisted_cache_key(_gpu(), G6E)
    assert paths.persisted_cache_key(_gpu(), G6E) == paths.persisted_cache_key(_gpu(), NodeGroupConfig(name="other", instance_type="g6e.xlarge"))
    # Replica count and resources change no artefact: scaling and resizing keep the warm directory.
    assert paths.persisted_cache_key(_gpu(replicas=3, resources={"cpu": "4", "memory": "32Gi"}), G6E) == \
        paths.persisted_cache_key(_gpu(), G6E)


def test_two_models_never_share_a_directory():
    assert paths.persisted_cache_sub_path(_gpu(), G6E) != paths.persisted_cache_sub_path(_gpu(name="qwen-b"), G6E)
