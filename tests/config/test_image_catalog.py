"""A model served from a workshop image must serve what the image holds; a relative chat template
must be resolvable once the container runs in its own working directory."""

from __future__ import annotations

import pytest

from tests.config.stacks import parse_stack
from vllm_eks.config.errors import ConfigError

QWEN_IMAGE = "public.ecr.aws/t0h7h1e6/vllm-neuron:qwen3-8b"
QWEN_SNAPSHOT = "/root/.cache/huggingface/hub/models--Qwen--Qwen3-8B/snapshots/b968826d9c46dd6066d109eabc6255188de91218"


def _qwen(**model):
    base = {"name": "qwen", "accelerator": "neuron", "nodeGroup": "inf2", "image": QWEN_IMAGE, "source": "image",
            "model": QWEN_SNAPSHOT, "tensorParallelSize": 2, "maxNumSeqs": 1, "maxModelLen": 16384,
            "env": {"NEURON_COMPILED_ARTIFACTS": "/root/.cache/neuron/Qwen/Qwen3-8B"},
            "resources": {"cpu": "24", "memory": "96Gi"}}
    group = {"name": "inf2", "instanceType": "inf2.8xlarge", "minSize": 1, "maxSize": 1}
    return {"nodeGroups": [group], "models": [{**base, **model}]}


def _issues(values) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_stack(values)
    return [str(issue) for issue in raised.value.issues]


def test_the_qwen3_image_as_it_was_compiled_loads():
    assert parse_stack(_qwen()).models[0].model == QWEN_SNAPSHOT


def test_the_fp8_override_on_the_bf16_qwen3_image_is_refused_at_neuron_config():
    override = {"quantized": True, "quantization_dtype": "f8e4m3"}
    assert _issues(_qwen(neuronConfig=override)) == [
        'models[0].neuronConfig: models[0] qwen: neuronConfig is {"quantized": true, "quantization_dtype": "f8e4m3"} '
        "but public.ecr.aws/t0h7h1e6/vllm-neuron:qwen3-8b holds graphs compiled for bfloat16, tensorParallelSize 2, "
        "maxNumSeqs 1, maxModelLen 16384 (config/image_catalog.py); set neuronConfig to unset, or serve it with "
        "source: hub to compile your settings into the Neuron cache"]


def test_other_sequence_settings_than_the_images_graphs_are_refused_at_their_key():
    assert _issues(_qwen(maxNumSeqs=4)) == [
        "models[0].maxNumSeqs: models[0] qwen: maxNumSeqs is 4 but public.ecr.aws/t0h7h1e6/vllm-neuron:qwen3-8b holds "
        "graphs compiled for bfloat16, tensorParallelSize 2, maxNumSeqs 1, maxModelLen 16384 (config/image_catalog.py); "
        "set maxNumSeqs to 1, or serve it with source: hub to compile your settings into the Neuron cache"]


def test_the_llama_images_hub_cache_folder_is_not_a_model_directory():
    values = _qwen(image="public.ecr.aws/t0h7h1e6/vllm-neuron:llama-3-1-8b-int8",
                   model="/opt/vllm/huggingface-cache/Llama-3.1-8B-Instruct", maxNumSeqs=4, maxModelLen=8192,
                   neuronConfig={"quantized": True, "kv_cache_quant": True,
                                 "quantized_checkpoints_path": "/opt/vllm/huggingface-cache/Llama-3.1-8B-Instruct/snapshots/0e9e39f249a16976918f6564b8830bc894c89659"},  # noqa: E501
                   env={"NEURON_COMPILED_ARTIFACTS": "/opt/vllm/neuron-cache/Llama-3.1-8B-Instruct-int8"})
    [issue] = _issues(values)
    assert issue.startswith("models[0].model: models[0] qwen: model is '/opt/vllm/huggingface-cache/Llama-3.1-8B-Instruct' but ")
    assert "set model to '/opt/vllm/huggingface-cache/Llama-3.1-8B-Instruct/snapshots/0e9e39f249a16976918f6564b8830bc894c89659'" in issue


def test_a_hub_model_on_a_workshop_image_compiles_its_own_settings():
    assert parse_stack({**_qwen(source="hub", model="Qwen/Qwen3-8B", maxNumSeqs=4, env={}), "hfToken": "hf_x"}).models


def test_a_relative_chat_template_on_an_image_the_catalog_does_not_know_is_refused():
    values = _qwen(image="registry.example.com/team/vllm-neuron:custom", chatTemplate="examples/t.jinja")
    assert _issues(values) == [
        "models[0].chatTemplate: models[0] qwen: chatTemplate 'examples/t.jinja' is relative, and the container runs "
        "in its own writable working directory, not the image's; where registry.example.com/team/vllm-neuron:custom "
        "keeps vLLM is not in config/image_catalog.py, so write the absolute path inside the image (the 0.9.1 Neuron "
        "DLCs install vLLM in /opt/vllm: /opt/vllm/examples/t.jinja)"]
