"""The sizing table's verdict never contradicts its details (issue 22 item 2)."""

from __future__ import annotations

from vllm_eks.config.model import ModelConfig
from vllm_eks.config.placement.records import place
from vllm_eks.config.platform.node_groups import NodeGroupConfig
from vllm_eks.preview.sizing_table import format_model_sizing


def _table(utilization: float) -> str:
    model = ModelConfig(name="qwen", accelerator="gpu", node_group="gpu", image="vllm/vllm-openai:v0.10.2",
                        model="Qwen/Qwen3-8B", max_model_len=16384, gpu_memory_utilization=utilization,
                        resources={"cpu": "3", "memory": "24Gi"})
    return format_model_sizing(place(0, model, NodeGroupConfig(name="gpu", instance_type="g6e.xlarge"), 0))


def test_a_kv_cache_that_fits_beside_too_little_headroom_is_at_risk_not_fits():
    table = _table(0.99)
    assert "TOO LITTLE" in table
    verdict = next(line for line in table.splitlines() if line.strip().startswith("verdict"))
    assert "AT RISK" in verdict and " fits:" not in verdict


def test_enough_headroom_keeps_the_plain_verdict():
    table = _table(0.9)
    assert "enough" in table
    assert "verdict              fits: one 16384-token sequence fits in vLLM's KV cache" in table
