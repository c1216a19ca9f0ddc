"""The pure builders' less visible decisions: compiled-graph paths, env merging, rollout waits."""

from __future__ import annotations

import pytest

from vllm_eks.components import _deployment_objects as objects
from vllm_eks.config.model import ModelConfig
from vllm_eks.config.platform.node_groups import NodeGroupConfig

INF2 = NodeGroupConfig(name="inf2", instance_type="inf2.8xlarge")


def _neuron_hub(**overrides) -> ModelConfig:
    fields = dict(name="llama", accelerator="neuron", node_group="inf2", image="public.ecr.aws/neuron/vllm:1",
                  source="hub", model="meta-llama/Llama-3.1-8B-Instruct", tensor_parallel_size=2,
                  max_num_seqs=4, max_model_len=8192, resources={"cpu": "24", "memory": "96Gi"})
    return ModelConfig.model_validate({**fields, **overrides})


def _env(model: ModelConfig) -> dict[str, object]:
    container = objects.deployment_object(model, INF2)["spec"]["template"]["spec"]["containers"][0]
    names = [entry["name"] for entry in container["env"]]
    assert len(names) == len(set(names)), f"duplicate env names {names}"
    return {entry["name"]: entry.get("value", entry.get("valueFrom")) for entry in container["env"]}


def test_compiled_graphs_go_to_a_path_named_by_the_settings_they_were_compiled_for():
    path = objects.neuron_compiled_artifacts_path(_neuron_hub())
    assert path.startswith("/root/.cache/neuron/meta-llama/Llama-3.1-8B-Instruct/tp2-seqs4-len8192-")
    assert _env(_neuron_hub())["NEURON_COMPILED_ARTIFACTS"] == path


@pytest.mark.parametrize("change", [
    {"tensor_parallel_size": 1}, {"max_num_seqs": 8}, {"max_model_len": 4096},
    {"neuron_config": {"quantized": True}}, {"image": "public.ecr.aws/neuron/vllm:2"},
    {"enable_prefix_caching": True}, {"extra_args": ["--block-size=32"]},
])
def test_any_compile_time_setting_changes_the_compiled_graph_path(change):
    assert objects.neuron_compiled_artifacts_path(_neuron_hub(**change)) != objects.neuron_compiled_artifacts_path(_neuron_hub())


def test_a_variable_the_user_sets_wins_over_the_derived_one_and_appears_once():
    env = _env(_neuron_hub(env={"NEURON_COMPILED_ARTIFACTS": "/root/.cache/neuron/mine", "HF_HOME": "/data/hf"}))
    assert env["NEURON_COMPILED_ARTIFACTS"] == "/root/.cache/neuron/mine"
    assert env["HF_HOME"] == "/data/hf"


def test_image_models_keep_the_images_hf_home_and_hub_models_use_the_cache_volume():
    image = _env(_neuron_hub(source="image", model="/opt/models/llama"))
    assert "HF_HOME" not in image and "XDG_CACHE_HOME" not in image
    assert image["HF_MODULES_CACHE"] == "/tmp/hf-modules"
    hub = _env(_neuron_hub())
    assert hub["HF_HOME"] == "/root/.cache/huggingface"
    assert hub["XDG_CACHE_HOME"] == "/tmp/cache"


def _gpu(**overrides) -> ModelConfig:
    fields = dict(name="qwen", accelerator="gpu", node_group="g6e", image="vllm/vllm-openai:v0.10.2", source="hub",
                  model="Qwen/Qwen3-32B-FP8", resources={"cpu": "3", "memory": "24Gi"})
    return ModelConfig.model_validate({**fields, **overrides})


def test_gpu_containers_point_flashinfer_and_the_cuda_and_torch_kernel_caches_at_the_scratch_volume_and_neuron_ones_get_none():
    # FlashInfer makes its workspace under $HOME at import (flashinfer/jit/core.py), which the
    # read-only root refuses; the boot stage imports it in the reproduced pod (boot/run.py).
    gpu = objects.deployment_object(_gpu(), NodeGroupConfig(name="g6e", instance_type="g6e.xlarge"))
    container = gpu["spec"]["template"]["spec"]["containers"][0]
    env = {entry["name"]: entry.get("value") for entry in container["env"]}
    assert (env["FLASHINFER_WORKSPACE_BASE"], env["CUDA_CACHE_PATH"], env["PYTORCH_KERNEL_CACHE_PATH"]) == (
        "/tmp/flashinfer", "/tmp/cuda-cache", "/tmp/torch-kernels")
    writable = [m["mountPath"] for m in container["volumeMounts"]]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert all(any(env[name].startswith(path + "/") for path in writable)
               for name in ("FLASHINFER_WORKSPACE_BASE", "CUDA_CACHE_PATH", "PYTORCH_KERNEL_CACHE_PATH"))
    neuron = _env(_neuron_hub())
    assert not {"FLASHINFER_WORKSPACE_BASE", "CUDA_CACHE_PATH", "PYTORCH_KERNEL_CACHE_PATH"} & set(neuron)


def test_a_user_set_flashinfer_workspace_wins_over_the_derived_one():
    gpu = objects.deployment_object(_gpu(env={"FLASHINFER_WORKSPACE_BASE": "/scratch"}),
                                    NodeGroupConfig(name="g6e", instance_type="g6e.xlarge"))
    env = gpu["spec"]["template"]["spec"]["containers"][0]["env"]
    assert [e["value"] for e in env if e["name"] == "FLASHINFER_WORKSPACE_BASE"] == ["/scratch"]


def test_pulumi_waits_for_every_replica_of_a_one_at_a_time_rollout():
    assert objects.await_timeout_minutes(_neuron_hub(startup_timeout_seconds=3600, replicas=1)) == 70
    assert objects.await_timeout_minutes(_neuron_hub(startup_timeout_seconds=3600, replicas=3)) == 190
    assert objects.await_timeout_minutes(_neuron_hub(replicas=0)) == 40


def test_a_writable_root_filesystem_is_an_opt_out_that_claims_its_scanner_exception():
    deployment = objects.deployment_object(_neuron_hub(read_only_root_filesystem=False), INF2)
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["securityContext"]["readOnlyRootFilesystem"] is False
    skips = {value.split("=")[0] for key, value in deployment["metadata"]["annotations"].items() if key.startswith("checkov.io/skip")}
    assert "CKV_K8S_22" in skips
    hardened = objects.deployment_object(_neuron_hub(), INF2)
    assert "CKV_K8S_22" not in {v.split("=")[0] for v in hardened["metadata"]["annotations"].values()}


def test_the_service_skips_the_providers_await_so_a_slow_model_cannot_time_it_out():
    # pulumi-kubernetes v4.32.0 await/service.go waits 10 minutes for not-ready endpoints to clear;
    # the Deployment's own await (startup budget x replicas + 10 minutes) is the one that waits for pods.
    service = objects.service_object(_neuron_hub())
    assert service["metadata"]["annotations"] == {"pulumi.com/skipAwait": "true"}
    assert service["spec"]["type"] == "ClusterIP"
