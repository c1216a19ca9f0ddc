"""Neuron models scale out only onto compiled graphs: the compile Job's or the image's."""

from __future__ import annotations

from vllm_eks.components._compile_job_objects import needs_compile_job
from vllm_eks.config.errors import Fix
from vllm_eks.config.model import ModelConfig
from vllm_eks.config.neuron_scale_out import compiled_scale_out_issues

DLC = "public.ecr.aws/neuron/pytorch-inference-vllm-neuronx:0.9.1-neuronx-py311-sdk2.26.1-ubuntu22.04"
QWEN_IMAGE = "public.ecr.aws/t0h7h1e6/vllm-neuron:qwen3-8b"
QWEN_PATH = "/root/.cache/huggingface/hub/models--Qwen--Qwen3-8B/snapshots/b968826d9c46dd6066d109eabc6255188de91218"


def _neuron(**overrides) -> ModelConfig:
    fields = dict(name="llama", accelerator="neuron", node_group="inf2", image=DLC, source="image",
                  model="/models/llama", tensor_parallel_size=2, autoscaling={"minReplicas": 1, "maxReplicas": 2},
                  resources={"cpu": "24", "memory": "96Gi"})
    return ModelConfig.model_validate({**fields, **overrides})


def test_an_autoscaled_image_model_whose_image_holds_no_known_graphs_is_refused_with_removing_autoscaling_as_the_fix():
    [issue] = compiled_scale_out_issues(3, _neuron())
    assert issue.path == "models[3].autoscaling"
    assert "every new replica compiles its graphs with neuronx-cc" in issue.message
    assert issue.fixes == (Fix("models[3].autoscaling", remove=True),)


def test_an_image_known_to_hold_graphs_or_an_env_naming_them_scales_out():
    assert compiled_scale_out_issues(0, _neuron(image=QWEN_IMAGE, model=QWEN_PATH, max_num_seqs=1, max_model_len=16384,
                                                env={"NEURON_COMPILED_ARTIFACTS": "/root/.cache/neuron/Qwen/Qwen3-8B"})) == []
    assert compiled_scale_out_issues(0, _neuron(env={"NEURON_COMPILED_ARTIFACTS": "/opt/graphs"})) == []


def test_a_hub_model_scales_out_onto_the_compile_jobs_graphs_even_with_one_replica_at_most():
    hub = _neuron(source="hub", model="meta-llama/Llama-3.1-8B-Instruct", autoscaling={"minReplicas": 1, "maxReplicas": 1})
    assert needs_compile_job(hub)
    assert compiled_scale_out_issues(0, hub) == []
    assert not needs_compile_job(_neuron(source="hub", model="meta-llama/Llama-3.1-8B-Instruct", autoscaling=None))


def test_fixed_replicas_and_gpu_models_are_not_concerned():
    assert compiled_scale_out_issues(0, _neuron(autoscaling=None, replicas=2)) == []
    gpu = ModelConfig.model_validate({"name": "q", "accelerator": "gpu", "node_group": "g", "image": "vllm/vllm-openai:v0.10.2",
                                      "source": "image", "model": "/models/q", "autoscaling": {"maxReplicas": 2}})
    assert compiled_scale_out_issues(0, gpu) == []
