"""The `vllm serve` command line a model's fields render to (config/model.py's MANAGED_FLAGS lists the
flags these fields own, which extraArgs may not repeat)."""

from __future__ import annotations

import json
from typing import Any

from ..config.image_catalog import resolved_chat_template
from ..config.model import ModelConfig, NeuronConfigArg, SpeculativeConfig
from ..config.sizing.vllm_memory import SPECULATIVE_CONFIG_SINCE, image_vllm_version

VLLM_COMMAND = ["vllm", "serve"]


def vllm_args(model: ModelConfig) -> list[str]:
    """The `vllm serve` arguments, in the workshop's order."""
    args = [model.model, f"--served-model-name={model.resolved_served_model_name}"]
    if model.trust_remote_code:
        args.append("--trust-remote-code")
    if model.gpu_memory_utilization is not None:
        args.append(f"--gpu-memory-utilization={_fraction(model.gpu_memory_utilization)}")
    if model.max_model_len is not None:
        args.append(f"--max-model-len={model.max_model_len}")
    if model.tool_call_parser:
        args += ["--enable-auto-tool-choice", f"--tool-call-parser={model.tool_call_parser}"]
    chat_template = resolved_chat_template(model)
    if chat_template:
        args.append(f"--chat-template={chat_template}")
    if model.reasoning_parser:
        args.append(f"--reasoning-parser={model.reasoning_parser}")
    if model.quantization:
        args.append(f"--quantization={model.quantization}")
    args.append(f"--tensor-parallel-size={model.tensor_parallel_size}")
    if model.pipeline_parallel_size > 1:
        args.append(f"--pipeline-parallel-size={model.pipeline_parallel_size}")
    if model.max_num_seqs is not None:
        args.append(f"--max-num-seqs={model.max_num_seqs}")
    if model.enable_prefix_caching is not None:
        args.append("--enable-prefix-caching" if model.enable_prefix_caching else "--no-enable-prefix-caching")
    if model.kv_cache_dtype is not None:
        args.append(f"--kv-cache-dtype={model.kv_cache_dtype}")
    if model.max_num_batched_tokens is not None:
        args.append(f"--max-num-batched-tokens={model.max_num_batched_tokens}")
    if model.speculative_config is not None:
        args += _speculative_args(model.speculative_config, model.image)
    if model.enable_expert_parallel:
        args.append("--enable-expert-parallel")
    if model.port != 8000:
        args.append(f"--port={model.port}")
    if model.neuron_config is not None:
        args.append(_neuron_config_arg(model.neuron_config, model.neuron_config_arg))
    return args + list(model.extra_args)


def _speculative_args(spec: SpeculativeConfig, image: str) -> list[str]:
    """`--speculative-config=<json>` (one argument, as vllm/engine/arg_utils.py parses it) from vLLM 0.8.0;
    the separate flags before it, where a method without a draft model is named as `[ngram]`."""
    if image_vllm_version(image).version >= SPECULATIVE_CONFIG_SINCE:
        return [f"--speculative-config={json.dumps(spec.to_vllm(), separators=(',', ':'))}"]
    draft = spec.model or f"[{spec.method or 'ngram'}]"
    args = [f"--speculative-model={draft}",
            f"--num-speculative-tokens={spec.num_speculative_tokens}"]
    if spec.draft_tensor_parallel_size is not None:
        args.append(f"--speculative-draft-tensor-parallel-size={spec.draft_tensor_parallel_size}")
    return args


def _fraction(value: float) -> str:
    # Two decimals as the seeds write them ("0.90"), without rounding away a finer value.
    text = f"{value:.2f}"
    return text if float(text) == value else repr(value)


def _neuron_config_arg(settings: dict[str, Any], form: NeuronConfigArg) -> str:
    if form is NeuronConfigArg.OVERRIDE_NEURON_CONFIG:
        return f"--override-neuron-config={json.dumps(settings)}"
    key = "override_neuron_config" if form is NeuronConfigArg.ADDITIONAL_CONFIG else "neuron_config"
    return f"--additional-config={json.dumps({key: settings})}"
