"""Reading a stack file: YAML keys given twice are refused by name; anchors and merge keys keep working."""

from __future__ import annotations

from pathlib import Path

import pytest

from vllm_eks.config.errors import ConfigError
from vllm_eks.config.loader import read_stack_file

STACK = """\
config:
  vllm-eks:models:
    - &base
      name: llama
      accelerator: neuron
      nodeGroup: inf2
      env: &env
        A: "1"
    - <<: *base
      name: llama-two
      env:
        <<: *env
        B: "2"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "Pulumi.test.yaml"
    path.write_text(text)
    return path


def test_merge_keys_copy_the_anchor_and_explicit_keys_override_it(tmp_path):
    models = read_stack_file(_write(tmp_path, STACK)).values["models"]
    assert models[1] == {"name": "llama-two", "accelerator": "neuron", "nodeGroup": "inf2", "env": {"A": "1", "B": "2"}}


def test_a_key_given_twice_inside_an_anchor_is_reported_once_where_the_anchor_is_defined(tmp_path):
    text = STACK.replace('        A: "1"\n', '        A: "1"\n        A: "3"\n')
    with pytest.raises(ConfigError) as raised:
        read_stack_file(_write(tmp_path, text))
    assert [issue.path for issue in raised.value.issues] == ["models[0].env.A"]


def test_keys_of_other_namespaces_keep_their_namespace_in_the_path(tmp_path):
    with pytest.raises(ConfigError) as raised:
        read_stack_file(_write(tmp_path, "config:\n  aws:region: us-west-2\n  aws:region: us-east-1\n"))
    assert [str(issue) for issue in raised.value.issues] == [
        "aws:region: is given twice in one mapping (lines 2 and 3), and YAML keeps only the last one without a word; "
        "delete the one on line 3 to keep the first, or merge their settings"
    ]


def test_an_anchor_reused_many_times_is_checked_once(tmp_path):
    # Nine levels of ten aliases each would be 10^9 mappings if every alias were walked again.
    lines = ["a0: &a0 {x: 1}"] + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    text = "\n".join(lines) + "\nconfig: {}\n"
    assert read_stack_file(_write(tmp_path, text)).values == {}
