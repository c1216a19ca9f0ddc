"""The sizing table's verdict never contradicts its details (issue 22 item 2): tested at two utilizations, and as a
property over the catalog's models on every accelerated instance and over the committed stacks."""

from __future__ import annotations

import pytest

from tests.conftest import PROJECT_DIR
from vllm_eks.config.instance_catalog import INSTANCE_TYPES
from vllm_eks.config.loader import load_stack_file
from vllm_eks.config.model import ModelConfig
from vllm_eks.config.model_catalog import CATALOG
from vllm_eks.config.placement.records import place
from vllm_eks.config.platform.node_groups import NodeGroupConfig
from vllm_eks.config.validation import validate_stack
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


# Property: over every catalog architecture on every accelerated catalog instance, at one device and at all of
# them, a tight and a loose gpuMemoryUtilization, a short and a long context and few or many sequences, the verdict
# line agrees with the rows above it and with the sizing it prints.

NEURON_IMAGE = "public.ecr.aws/neuron/pytorch-inference-vllm-neuronx:0.9.1-neuronx-py310-sdk2.25.0-ubuntu22.04"
ACCELERATED = sorted(name for name, spec in INSTANCE_TYPES.items() if spec.accelerator is not None)
BAD_DETAIL = ("TOO LITTLE", "does not fit")


def _verdict_agrees(table: str, fits: bool, headroom_fits: bool) -> None:
    lines = table.splitlines()
    verdicts = [line.strip().removeprefix("verdict").strip() for line in lines if line.strip().startswith("verdict ")]
    assert len(verdicts) == 1, table
    verdict = verdicts[0]
    details = [line for line in lines if not line.strip().startswith("verdict ")]
    bad = [line for line in details if any(word in line for word in BAD_DETAIL)]
    if verdict.startswith("fits"):
        assert fits and headroom_fits and bad == [], table
    elif verdict.startswith("AT RISK"):
        assert fits and not headroom_fits and any("TOO LITTLE" in line for line in bad), table
    else:
        assert verdict.startswith("DOES NOT FIT") and not fits, table


@pytest.mark.parametrize("instance", ACCELERATED)
def test_the_verdict_agrees_with_its_details_for_every_catalog_model_on_every_instance(instance):
    spec = INSTANCE_TYPES[instance]
    assert spec.accelerator is not None
    kind = spec.accelerator.value
    group = NodeGroupConfig(name="g", instance_type=instance)
    checked = 0
    for hf_id in CATALOG:
        for tp in sorted({1, spec.schedulable_accelerators}):
            for utilization, max_len, seqs in ((0.9, 4096, 1), (0.99, 32768, 64), (0.5, 8192, 8)):
                model = ModelConfig(name="m", node_group="g", accelerator=kind, source="hub", model=hf_id,
                                    image=NEURON_IMAGE if kind == "neuron" else "vllm/vllm-openai:v0.10.2",
                                    tensor_parallel_size=tp, gpu_memory_utilization=utilization,
                                    max_model_len=max_len, max_num_seqs=seqs)
                placed = place(0, model, group, 0)
                if not placed.sizing.sized:
                    continue
                _verdict_agrees(format_model_sizing(placed), placed.sizing.fits, placed.sizing.headroom_fits)
                checked += 1
    assert checked > 0


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_verdict_agrees_with_its_details_for_the_committed_stacks(stack):
    validated = validate_stack(load_stack_file(PROJECT_DIR / f"Pulumi.{stack}.yaml"))
    for placed in validated.placed:
        if placed.sizing.sized:
            _verdict_agrees(format_model_sizing(placed), placed.sizing.fits, placed.sizing.headroom_fits)
