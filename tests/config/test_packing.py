"""Node-group packing: first-fit-decreasing counted per run of identical pods and nodes, so the
node count is exact and a stack's validation costs the same for 1 replica as for 100,000."""

from __future__ import annotations

import random
import time

from tests.config.stacks import parse_stack
from vllm_eks.config.errors import ConfigError
from vllm_eks.config.placement.packing import first_fit_decreasing


def _pod_by_pod(capacity, pods) -> int:
    """The textbook algorithm, one pod at a time: the oracle the arithmetic must match."""
    free: list[list[int]] = []
    for pod in sorted((demand for demand, count in pods for _ in range(count)), reverse=True):
        node = next((node for node in free if all(left >= need for left, need in zip(node, pod, strict=True))), None)
        if node is None:
            node = list(capacity)
            free.append(node)
        for position, need in enumerate(pod):
            node[position] -= need
    return len(free)


def test_the_arithmetic_packing_opens_exactly_the_nodes_pod_by_pod_packing_opens():
    rng = random.Random(12)
    for _ in range(5000):
        capacity = tuple(rng.randint(1, 12) for _ in range(3))
        pods = [(tuple(rng.randint(0, 8) for _ in range(3)), rng.randint(0, 9)) for _ in range(rng.randint(1, 5))]
        assert first_fit_decreasing(capacity, pods) == _pod_by_pod(capacity, pods), (capacity, pods)


def _stack(replicas: int, nodes: int) -> dict:
    return {
        "nodeGroups": [{"name": "inf2", "instanceType": "inf2.xlarge", "minSize": nodes, "maxSize": nodes}],
        "models": [{"name": "llama", "accelerator": "neuron", "nodeGroup": "inf2", "source": "image",
                    "image": "registry.example.com/team/vllm-neuron:llama-3-1-8b-int8",
                    "model": "/opt/vllm/huggingface-cache/Llama-3.1-8B-Instruct", "tensorParallelSize": 2,
                    "maxModelLen": 8192, "maxNumSeqs": 4, "replicas": replicas}],
    }


def test_a_100000_replica_stack_is_refused_in_well_under_a_second():
    started = time.perf_counter()
    try:
        parse_stack(_stack(100_000, 2))
    except ConfigError as error:
        assert [issue.path for issue in error.issues] == ["models[0].replicas"]
        assert "need 100000 inf2.xlarge nodes but maxSize is 2" in error.issues[0].message
    assert time.perf_counter() - started < 0.5


def test_a_100000_replica_stack_with_the_nodes_for_it_is_accepted_in_well_under_a_second():
    started = time.perf_counter()
    parse_stack(_stack(100_000, 100_000))
    assert time.perf_counter() - started < 0.5
