"""The planner agrees with vLLM's own accounting, measured: every row of the H200 measurements
(shared/MEASUREMENTS.md, copied to tests/data/) sized by the planner on p5en.48xlarge with the
same image version and arguments gives vLLM's KV-cache token count within 3%.

Nothing in the planner is fitted to these figures (config/sizing/vllm_memory.py derives them); the
breakdown tests below show how close each derived term comes."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass

import pytest

from tests.conftest import PROJECT_DIR
from vllm_eks.config.instance_catalog import INSTANCE_TYPES
from vllm_eks.config.model import ModelConfig
from vllm_eks.config.sizing.memory import ModelSizing, size_model

MEASUREMENTS = PROJECT_DIR / "tests" / "data" / "vllm-0.26.0-h200-measurements.md"
# The team's shared copy sits beside the checkout (/work/main -> /work/shared) or beside the worktrees.
SHARED = next((path for path in (PROJECT_DIR.parent / "shared" / "MEASUREMENTS.md",
                                 PROJECT_DIR.parent.parent / "shared" / "MEASUREMENTS.md") if path.exists()), None)
GIB = 2**30

_ARG_FIELDS = {
    "--gpu-memory-utilization": ("gpu_memory_utilization", float),
    "--max-model-len": ("max_model_len", int),
    "--max-num-seqs": ("max_num_seqs", int),
    "--max-num-batched-tokens": ("max_num_batched_tokens", int),
    "--tensor-parallel-size": ("tensor_parallel_size", int),
    "--tool-call-parser": ("tool_call_parser", str),
    "--kv-cache-dtype": ("kv_cache_dtype", str),
}


@dataclass(frozen=True)
class Row:
    model: str
    args: str
    weights_gib: float
    activation_gib: float
    non_torch_gib: float
    graphs_gib: float
    kv_gib: float
    kv_tokens: int


def _version(text: str) -> str:
    return re.search(r"vLLM (\d+\.\d+\.\d+)", text).group(1)


def _rows(text: str) -> list[Row]:
    rows = []
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 9 or not cells[7].replace(",", "").isdigit():
            continue
        gib = [float(cell.split()[0]) for cell in cells[2:7]]
        rows.append(Row(cells[0].split(" (")[0], cells[1].split("`")[1], *gib, int(cells[7].replace(",", ""))))
    return rows


TEXT = MEASUREMENTS.read_text()
ROWS = _rows(TEXT)
# The 2026-12-03 row runs on vLLM's V1 model runner (ngram speculative decoding). The planner now picks that
# runner from 0.26.0's source, subtracts the graph estimate and sizes the speculative sampler (KV within 0.4%,
# activation 3.74 vs 3.85 GiB), but its CUDA-graph term (0.92 GiB, capture sizes x pieces) is not vLLM's
# estimate (0.46 GiB) nor the 0.62 GiB captured: the V1 runner's graph profile is not derived yet (issue 21).
_V1_RUNNER = pytest.mark.xfail(strict=True, reason="V1 runner CUDA-graph estimate not derived yet (issue 21)")
MEASURED = [pytest.param(row, id=f"{row.model}-{index}", marks=[_V1_RUNNER] if "ngram" in row.args else [])
            for index, row in enumerate(ROWS)]


def _planned(row: Row) -> ModelSizing:
    fields: dict = {"name": "measured", "accelerator": "gpu", "node_group": "p5en", "model": row.model,
                    "image": f"vllm/vllm-openai:v{_version(TEXT)}"}
    # The JSON of --speculative-config holds spaces and quotes shlex would split and strip.
    speculative = re.search(r"--speculative-config=(\{.*?\})", row.args)
    if speculative:
        fields["speculative_config"] = json.loads(speculative.group(1))
    for arg in shlex.split(row.args.replace(speculative.group(0), "") if speculative else row.args):
        flag, _, value = arg.partition("=")
        if flag in _ARG_FIELDS:
            name, kind = _ARG_FIELDS[flag]
            fields[name] = kind(value)
        elif flag == "--trust-remote-code":
            fields["trust_remote_code"] = True

    return size_model(ModelConfig.model_validate(fields), 0, INSTANCE_TYPES["p5en.48xlarge"])


def test_the_measurements_copy_is_the_shared_file_when_it_is_checked_out_beside_the_repository():
    if SHARED is None:
        pytest.skip("shared/MEASUREMENTS.md is not checked out beside the repository")
    assert SHARED.read_text() == TEXT


def test_the_table_has_the_three_measured_rows():
    assert [row.model for row in ROWS] == ["Qwen/Qwen3-32B-FP8", "meta-llama/Llama-3.1-8B-Instruct",
                                           "meta-llama/Llama-3.1-8B-Instruct"]


@pytest.mark.parametrize("row", ROWS, ids=lambda row: f"{row.model}-{ROWS.index(row)}")
def test_the_planners_kv_tokens_on_p5en_are_within_3_percent_of_vllms(row):
    planned = _planned(row)
    assert planned.vllm is not None and str(planned.vllm.version.version) == _version(TEXT)
    assert abs(planned.kv_capacity_tokens - row.kv_tokens) / row.kv_tokens <= 0.03, (
        f"planner {planned.kv_capacity_tokens:,} vs vLLM {row.kv_tokens:,} tokens")


@pytest.mark.parametrize("row", MEASURED)
def test_each_derived_term_is_near_what_vllm_logged(row):
    memory = _planned(row).vllm
    assert memory is not None
    assert abs(memory.weights_bytes / GIB - row.weights_gib) <= 0.01 * row.weights_gib
    assert abs(memory.activation.peak_bytes / GIB - row.activation_gib) <= 0.25
    assert abs(memory.non_torch_bytes / GIB - row.non_torch_gib) <= 0.05
    assert abs(memory.graph_bytes / GIB - row.graphs_gib) <= 0.1
    assert abs(memory.kv_cache_bytes / GIB - row.kv_gib) <= 0.01 * row.kv_gib


def test_vllm_0_26_0_leaves_cuda_graphs_out_of_the_kv_budget_as_measured():
    qwen = ROWS[0]
    assert round(139.8 * 0.95 - qwen.weights_gib - qwen.activation_gib - qwen.non_torch_gib, 2) == qwen.kv_gib
    assert not _planned(qwen).vllm.graphs_in_budget
