"""Library mode's config errors: `ModelConfig(...)` and the other blocks built by keyword fail with one line per
mistake, in Python names, never with pydantic's traceback text."""

from __future__ import annotations

import pytest

from vllm_eks.config.errors import ConfigError
from vllm_eks.config.model import ModelConfig
from vllm_eks.config.platform.node_groups import NodeGroupConfig

BASE = dict(name="qwen", accelerator="gpu", node_group="gpu", image="vllm/vllm-openai:v0.10.2", model="Qwen/Qwen3-8B")


def lines(**changes: object) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        ModelConfig(**{**BASE, **changes})
    return [str(issue) for issue in raised.value.issues]


def test_a_misspelt_keyword_names_the_nearest_field():
    assert lines(max_model_lenn=4096) == ["max_model_lenn: unknown keyword; did you mean max_model_len?"]


def test_a_keyword_far_from_every_field_lists_the_fields():
    [line] = lines(gpu_count=2)
    assert line.startswith("gpu_count: unknown keyword; ModelConfig takes accelerator, architecture, autoscaling, chat_template")


def test_a_misspelt_keyword_in_a_nested_block_is_named_by_its_python_path():
    assert lines(resources={"memry": "24Gi"}) == ["resources.memry: unknown keyword; did you mean memory?"]


def test_both_spellings_of_one_field_are_one_error():
    assert lines(max_num_seqs=4, maxNumSeqs=4) == [
        "max_num_seqs: is given twice, also under its stack-file spelling; pass it once, as max_num_seqs"]


def test_a_bad_value_is_named_by_its_python_name_with_the_stack_files_reason():
    assert lines(resources={"memory": "0"}) == [
        "resources.memory: '0' must be more than zero bytes (the container's memory limit equals its request, so zero "
        "leaves vLLM none); write it like '12Gi'"]


def test_the_error_is_a_config_error_for_every_block():
    with pytest.raises(ConfigError, match=r"Invalid NodeGroupConfig\(\.\.\.\) \(1 problem\):\n  - max_sise: unknown keyword; did you mean max_size\?"):
        NodeGroupConfig(name="gpu", instance_type="g6e.xlarge", max_sise=2)
