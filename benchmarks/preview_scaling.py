"""How the offline preview scales with the number of models, against a flat baseline.

Baseline: a bare Pulumi program that registers the same Kubernetes objects directly (no
validation, no sizing, no components), under the same mock engine in the same process.
Subject: the real `__main__.py` with a stack of N copies of the workshop's Llama model.
The ratio is the cost of validation, sizing and the component layer.

Run: .venv/bin/python benchmarks/preview_scaling.py
"""

from __future__ import annotations

import copy
import runpy
import statistics
import sys
import time
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from vllm_eks.components import _deployment_objects as objects  # noqa: E402
from vllm_eks.config.loader import StackFile, parse_stack_config, read_stack_file  # noqa: E402
from vllm_eks.config.units import PROJECT  # noqa: E402
from vllm_eks.preview.engine import run_program  # noqa: E402

REPEATS = 3
MODEL_COUNTS = (2, 20, 100)


def stack_values(models: int) -> StackFile:
    dev = read_stack_file(PROJECT_DIR / "Pulumi.dev.yaml")
    values = copy.deepcopy(dev.values)
    template = values["models"][0]
    values["models"] = [{**template, "name": f"llama-{i}", "servedModelName": f"llama-{i}"} for i in range(models)]
    for group in values["nodeGroups"]:
        # One inf2.xlarge per model: no autoscaler runs, so the group must start that large.
        group["minSize"] = group["maxSize"] = max(group.get("maxSize", 1), models)
    return StackFile(values=values, secret_keys=set(dev.secret_keys), other=dict(dev.other))


def flat_program(stack_file: StackFile):
    stack = parse_stack_config(stack_file.values)  # objects need a validated model; parse once, outside timing

    def program() -> None:
        for model in stack.models:
            group = stack.node_group(model.node_group)
            for obj in (objects.deployment_object(model, group), objects.service_object(model)):
                body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
                kind = k8s.apps.v1.Deployment if obj["kind"] == "Deployment" else k8s.core.v1.Service
                kind(f"{model.name}-{obj['kind'].lower()}", **body)
    return program


def real_program() -> None:
    runpy.run_path(str(PROJECT_DIR / "__main__.py"))


def timed(program, stack_file: StackFile) -> tuple[float, int]:
    config, secret_keys = stack_file.as_pulumi_config()
    samples, count = [], 0
    for _ in range(REPEATS):
        started = time.perf_counter()
        recording = run_program(program, project=PROJECT, stack="bench", config=config, secret_keys=secret_keys)
        samples.append(time.perf_counter() - started)
        count = len(recording.resources)
    return statistics.median(samples), count


def main() -> None:
    # The program also builds the platform (cluster, node groups, EFS, device plugin), so whole-run
    # ratios include that fixed work; the per-resource ratio compares like with like.
    print(f"{'models':>6} {'baseline s':>11} {'resources':>9} {'program s':>10} {'resources':>9} {'ratio':>6} "
          f"{'ms/resource base':>17} {'ms/resource prog':>17} {'ratio':>6}")
    for models in MODEL_COUNTS:
        stack_file = stack_values(models)
        base_s, base_n = timed(flat_program(stack_file), stack_file)
        real_s, real_n = timed(real_program, stack_file)
        base_per, real_per = 1000 * base_s / base_n, 1000 * real_s / real_n
        print(f"{models:>6} {base_s:>11.3f} {base_n:>9} {real_s:>10.3f} {real_n:>9} {real_s / base_s:>6.2f} "
              f"{base_per:>17.2f} {real_per:>17.2f} {real_per / base_per:>6.2f}")


if __name__ == "__main__":
    pulumi.runtime.settings  # noqa: B018 - imported for its side effect of loading the SDK before timing
    main()
