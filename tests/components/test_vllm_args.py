"""The typed fields sizing depends on render as the flags of the image's vLLM, once each."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from vllm_eks.components._vllm_args import vllm_args
from vllm_eks.config.model import ModelConfig


def _gpu(**overrides) -> ModelConfig:
    fields = dict(name="qwen", accelerator="gpu", node_group="g6e", image="vllm/vllm-openai:v0.10.2",
                  model="Qwen/Qwen3-32B-FP8")
    return ModelConfig.model_validate({**fields, **overrides})


def test_kv_cache_dtype_and_batched_tokens_render_as_their_flags():
    args = vllm_args(_gpu(kvCacheDtype="fp8", maxNumBatchedTokens=4096))
    assert "--kv-cache-dtype=fp8" in args and "--max-num-batched-tokens=4096" in args


def test_speculative_decoding_renders_one_json_argument_in_vllms_own_keys():
    args = vllm_args(_gpu(speculativeConfig={"model": "Qwen/Qwen3-0.6B", "numSpeculativeTokens": 5}))
    flag = next(arg for arg in args if arg.startswith("--speculative-config="))
    assert json.loads(flag.split("=", 1)[1]) == {"model": "Qwen/Qwen3-0.6B", "num_speculative_tokens": 5}


def test_an_image_older_than_vllm_0_8_gets_the_separate_speculative_flags_it_still_takes():
    args = vllm_args(_gpu(image="vllm/vllm-openai:v0.7.3",
                          speculativeConfig={"model": "Qwen/Qwen3-0.6B", "numSpeculativeTokens": 5}))
    assert [arg for arg in args if "speculative" in arg] == ["--speculative-model=Qwen/Qwen3-0.6B",
                                                              "--num-speculative-tokens=5"]


def test_an_image_naming_no_version_gets_the_newest_form():
    args = vllm_args(_gpu(image="vllm/vllm-openai:latest", speculativeConfig={"method": "ngram", "numSpeculativeTokens": 4}))
    assert '--speculative-config={"method":"ngram","num_speculative_tokens":4}' in args


def test_expert_parallelism_renders_its_switch_only_when_on():
    assert "--enable-expert-parallel" in vllm_args(_gpu(enableExpertParallel=True))
    assert "--enable-expert-parallel" not in vllm_args(_gpu())


def test_unset_fields_leave_vllms_defaults_alone():
    args = vllm_args(_gpu())
    assert not any(arg.startswith(("--kv-cache-dtype", "--max-num-batched-tokens", "--speculative-config")) for arg in args)


@pytest.mark.parametrize("flag, field", [("--kv-cache-dtype=fp8", "kvCacheDtype"),
                                         ("--max-num-batched-tokens=4096", "maxNumBatchedTokens"),
                                         ("--speculative-config={}", "speculativeConfig"),
                                         ("--enable-expert-parallel", "enableExpertParallel")])
def test_extra_args_may_not_repeat_a_flag_a_typed_field_owns(flag, field):
    with pytest.raises(ValidationError) as raised:
        _gpu(extraArgs=[flag])
    assert f"is set by a field; remove it and use {field} instead" in str(raised.value)
