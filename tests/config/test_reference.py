"""docs/config-reference.md is generated from the config models and kept current."""

from __future__ import annotations

from pathlib import Path

from vllm_eks.config.reference import _reachable, render_reference
from vllm_eks.config.stack import StackConfig

DOC = Path(__file__).resolve().parents[2] / "docs" / "config-reference.md"


def test_the_committed_reference_matches_the_models():
    assert DOC.read_text() == render_reference(), "regenerate: .venv/bin/python -m vllm_eks.config.reference > docs/config-reference.md"


def test_every_config_key_is_documented():
    undocumented = [f"{title}.{field.alias}" for title, model in _reachable(StackConfig, "vllm-eks")
                    for field in model.model_fields.values() if not field.description]
    assert undocumented == []
