"""Deploy rehearsal: what the first real `pulumi up` would wait for, how long, and what would time out.

`rehearse(recording, stack)` replays the graph the offline preview recorded (preview/engine.py)
under the Kubernetes provider's await rules (await_rules.py), typical AWS create times
(aws_timings.py) and per-model start-up estimates (model_startup.py). Every predicted timeout is
a warning of the preview (an error with `--strict`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ...config.scale_out import ScaleOut, scale_out
from ...config.stack import StackConfig
from ..engine import Recording
from .model_startup import describe, minutes
from .simulate import FIRST_UP, RUNNING_PLATFORM, ScenarioResult, replay

SCENARIOS = (FIRST_UP, RUNNING_PLATFORM)
SCALE_OUT = "scale out by one replica"


@dataclass
class Rehearsal:
    scenarios: list[ScenarioResult]
    scale_outs: list[ScaleOut]
    """The third scenario: one more replica of each model, on a warm node and on a new one (config/scale_out.py)."""

    def warnings(self) -> list[str]:
        return [timeout.message(s.name) for s in self.scenarios for timeout in s.timeouts]

    def lines(self) -> list[str]:
        lines = ["", "Deploy rehearsal (estimates as of 2026-12-01; rules and sources in preview/rehearsal/):"]
        for scenario in self.scenarios:
            lines.append(f"  {scenario.name}: `pulumi up` finishes after {minutes(scenario.finish_seconds)}")
            if scenario.name == FIRST_UP:
                lines.append("    critical path (start, end, resource):")
                for step in scenario.critical_path():
                    lines.append(f"      {minutes(step.start):>8} {_end(step.ready):>8}  {step.label}")
            lines.append("    time until each endpoint serves (first replica / all replicas):")
            for endpoint in scenario.endpoints:
                lines.append(
                    f"      {endpoint.model}: {_end(endpoint.first_replica_seconds)} / {_end(endpoint.all_replicas_seconds)}"
                    f"  ({describe(endpoint.startup)})"
                )
            if not scenario.endpoints:
                lines.append("      (no models)")
            if scenario.timeouts:
                lines.append("    awaits that would exceed their timeout:")
                lines += [f"      {t.resource}: needs {minutes(t.waited_seconds)}, times out after "
                          f"{minutes(t.timeout_seconds)}; {t.fix}" for t in scenario.timeouts]
            else:
                lines.append("    awaits that would exceed their timeout: none")
        lines.append(f"  {SCALE_OUT} (queue noticed to the new replica Ready; config/scale_out.py):")
        lines += [f"      {outlook.model}: {outlook.describe()}" for outlook in self.scale_outs]
        if not self.scale_outs:
            lines.append("      (no models)")
        return lines

    def as_plan(self) -> dict[str, Any]:
        """The rehearsal as plan.json carries it: whole seconds, names sorted, no floats to drift."""
        return {
            "asOf": "2026-12-01",
            "scenarios": [
                {
                    "name": scenario.name,
                    "finishSeconds": _seconds(scenario.finish_seconds),
                    "criticalPath": [step.label for step in scenario.critical_path()] if scenario.name == FIRST_UP else [],
                    "endpoints": {
                        e.model: {"firstReplicaSeconds": _seconds(e.first_replica_seconds), "allReplicasSeconds": _seconds(e.all_replicas_seconds)}
                        for e in sorted(scenario.endpoints, key=lambda e: e.model)
                    },
                    "timeouts": sorted(
                        ({"resource": t.resource, "needsSeconds": _seconds(t.waited_seconds),
                          "timeoutSeconds": _seconds(t.timeout_seconds), "fix": t.fix} for t in scenario.timeouts),
                        key=lambda t: t["resource"],
                    ),
                }
                for scenario in self.scenarios
            ],
            "scaleOut": {
                outlook.model: {"warmNodeSeconds": _seconds(outlook.warm_node_seconds),
                                "newNodeSeconds": None if outlook.new_node_seconds is None else _seconds(outlook.new_node_seconds)}
                for outlook in sorted(self.scale_outs, key=lambda o: o.model)
            },
        }


def _end(seconds: float) -> str:
    return "never" if math.isinf(seconds) else minutes(seconds)


def _seconds(value: float) -> Any:
    return None if math.isinf(value) else int(round(value))


def rehearse(recording: Recording, stack: StackConfig) -> Rehearsal:
    outlooks = [scale_out(model, group, stack.monitoring.scrape_interval_seconds)
                for model in stack.models for group in [stack.node_group(model.node_group)] if group is not None]
    return Rehearsal([replay(recording, stack, scenario) for scenario in SCENARIOS], outlooks)
