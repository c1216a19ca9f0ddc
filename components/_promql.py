"""PromQL for one model's series, with the names its vLLM version exports (config/monitoring_series.py).

Pure text building. Every vLLM series carries `model_name` (the served name; vllm/v1/metrics/loggers.py
labelnames ["model_name", "engine"], V0 vllm/engine/metrics.py ["model_name"]), and the Prometheus
Operator adds the target's `namespace` (ServiceMonitor endpoints: namespace, service, pod, container).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..config.model import ModelConfig
from ..config.monitoring_series import MetricsVersion, metrics_version, resolve

RATE_WINDOW = "5m"
"""At least 4 samples at the 15 s scrape interval, as rate() needs two and a missed scrape happens."""


@dataclass(frozen=True)
class ModelQueries:
    """Query text for one model: its selector and its version's metric names."""

    model: ModelConfig
    version: MetricsVersion

    @property
    def selector(self) -> str:
        return f'namespace="{self.model.namespace}", model_name="{self.model.resolved_served_model_name}"'

    def names(self, key: str) -> tuple[str, ...]:
        return resolve(key, self.version.facts)

    def either(self, key: str, template: Callable[[str], str]) -> str | None:
        """`template(name)` for each name the version exports for `key`, joined with `or` (the first wins
        per label set); None when the version exports none."""
        names = self.names(key)
        if not names:
            return None
        return " or ".join(f"({template(n)})" if len(names) > 1 else template(n) for n in names)

    def gauge(self, key: str, aggregate: str = "sum", by: str = "") -> str | None:
        grouping = f" by ({by})" if by else ""
        return self.either(key, lambda n: f"{aggregate}{grouping} ({n}{{{self.selector}}})")

    def rate(self, key: str, by: str = "") -> str | None:
        grouping = f" by ({by})" if by else ""
        return self.either(key, lambda n: f"sum{grouping} (rate({n}{{{self.selector}}}[{RATE_WINDOW}]))")

    def quantile(self, key: str, q: float) -> str | None:
        return self.either(key, lambda n: (
            f"histogram_quantile({q}, sum by (le) (rate({n}_bucket{{{self.selector}}}[{RATE_WINDOW}])))"))

    def ratio(self, numerator: str, denominator: str) -> str | None:
        """rate(numerator) / rate(denominator), pairing the names of one generation (both new or both old)."""
        pairs = list(zip(self.names(numerator), self.names(denominator), strict=False))  # a generation may lack one
        if not pairs:
            return None
        parts = [f"sum (rate({a}{{{self.selector}}}[{RATE_WINDOW}])) / sum (rate({b}{{{self.selector}}}[{RATE_WINDOW}]))"
                 for a, b in pairs]
        return " or ".join(f"({p})" for p in parts) if len(parts) > 1 else parts[0]


def model_queries(model: ModelConfig, version: MetricsVersion | None = None) -> ModelQueries:
    """Queries with the names of `version` (by default the model's image's: config/monitoring_series.py)."""
    return ModelQueries(model, version or metrics_version(model))
