"""Autoscaled capacity: nodes and cost at the fewest and most replicas, the scale-out a new replica takes, and
the windows derived from it."""

from __future__ import annotations

import pytest

from tests.conftest import PROJECT_DIR, recording_for
from vllm_eks.config.loader import load_stack_file
from vllm_eks.config.model import ModelConfig
from vllm_eks.config.placement.capacity import group_capacity, total_cost
from vllm_eks.config.platform.node_groups import NodeGroupConfig
from vllm_eks.config.prices import ON_DEMAND_USD_PER_HOUR
from vllm_eks.config.scale_out import NODE_LAUNCH_SECONDS, ScaleOut, scale_out, windows
from vllm_eks.config.validation import validate_stack
from vllm_eks.preview.rehearsal import rehearse


@pytest.fixture(scope="module")
def prod():
    return validate_stack(load_stack_file(PROJECT_DIR / "Pulumi.prod.yaml"))


def test_prod_runs_fewer_nodes_at_min_than_at_max_only_on_its_karpenter_groups(prod):
    nodes = {c.group.name: (c.nodes_at_min, c.nodes_at_max) for c in group_capacity(prod.stack, list(prod.placed))}
    assert nodes == {"system": (2, 2), "inf2-24xl": (1, 2), "inf2-8xl": (2, 4), "g6e": (1, 3), "p5": (1, 1)}


def test_the_cost_at_min_and_max_is_nodes_times_the_dated_price(prod):
    capacities = group_capacity(prod.stack, list(prod.placed))
    price = ON_DEMAND_USD_PER_HOUR
    at_min = 2 * price["m6i.large"] + price["inf2.24xlarge"] + 2 * price["inf2.8xlarge"] + price["g6e.xlarge"] + price["p5.48xlarge"]
    at_max = 2 * price["m6i.large"] + 2 * price["inf2.24xlarge"] + 4 * price["inf2.8xlarge"] + 3 * price["g6e.xlarge"] + price["p5.48xlarge"]
    assert total_cost(capacities, at_max=False) == pytest.approx(at_min)
    assert total_cost(capacities, at_max=True) == pytest.approx(at_max)


def test_every_catalog_instance_of_the_committed_stacks_has_a_price(prod):
    assert all(c.price is not None for c in group_capacity(prod.stack, list(prod.placed)))


def _model(**extra) -> ModelConfig:
    return ModelConfig(name="qwen", accelerator="gpu", node_group="g", image="vllm/vllm-openai:v0.10.2",
                       model="Qwen/Qwen3-32B-FP8", **extra)


def test_a_new_node_adds_the_launch_and_the_image_pull_to_a_warm_nodes_scale_out():
    karpenter = NodeGroupConfig(name="g", instance_type="g6e.xlarge", capacity="karpenter", max_size=2)
    managed = NodeGroupConfig(name="g", instance_type="g6e.xlarge")
    on_pool, on_managed = scale_out(_model(), karpenter), scale_out(_model(), managed)
    assert on_managed.new_node_seconds is None and on_managed.serve_seconds == on_managed.warm_node_seconds
    assert on_pool.new_node_seconds is not None
    assert on_pool.new_node_seconds - on_pool.warm_node_seconds >= NODE_LAUNCH_SECONDS + on_pool.pull_seconds


def test_windows_follow_the_scale_out_and_stop_at_the_hpa_apis_maxima():
    quick = windows(ScaleOut("m", 30, 300, None, 200, 60))
    assert (quick.scale_down_stabilization_seconds, quick.scale_down_period_seconds) == (300, 300)
    slow = windows(ScaleOut("m", 30, 300, 4000, 200, 60))  # a Neuron start longer than an hour
    assert (slow.scale_down_stabilization_seconds, slow.scale_down_period_seconds) == (3600, 1800)
    assert "capped" in slow.note


def test_the_rehearsal_has_a_third_scenario_with_each_prod_models_scale_out():
    rehearsal = rehearse(recording_for("prod"), load_stack_file(PROJECT_DIR / "Pulumi.prod.yaml"))
    plan = rehearsal.as_plan()["scaleOut"]
    assert set(plan) == {"llama-3-1-8b-neuron", "qwen3-8b-fp8-neuron", "qwen3-32b-fp8", "llama-3-3-70b"}
    assert plan["llama-3-3-70b"]["newNodeSeconds"] is None  # the p5 is a fixed managed group
    assert all(entry["newNodeSeconds"] > entry["warmNodeSeconds"] for name, entry in plan.items() if name != "llama-3-3-70b")
    assert any(line.startswith("  scale out by one replica") for line in rehearsal.lines())
