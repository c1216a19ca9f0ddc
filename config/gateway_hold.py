"""How long the gateway holds a request for a model with no routable replica, per model: the predicted time
from nothing to a routed replica, capped by what a client waits (components/_gateway_hold.py runs it).

From zero, no HPA is involved: KEDA itself polls its triggers (every `pollingInterval`, default 30 s: kedacore/keda
v2.20.2 apis/keda/v1alpha1/withtriggers_types.go `defaultPollingInterval = 30`) and scales the Deployment from 0
to 1 when one is active (pkg/scaling/executor/scale_scaledobjects.go, `scaleFromZeroOrIdle`). So the predicted
wait is the scale-out's (config/scale_out.py: scrape, HPA sync, pod start, load, and a new node when Karpenter
adds one) with KEDA's poll in place of the HPA's sync, plus one re-check of the router's list.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from .gateway import GatewayConfig
from .placement.records import PlacedModel
from .scale_out import HPA_SYNC_SECONDS, scale_out

KEDA_POLLING_SECONDS = 30
"""KEDA's default ScaledObject pollingInterval (withtriggers_types.go, v2.20.2); ScaledObjects here leave it unset."""
RECHECK_SECONDS = 1
"""A held request asks the router for its model's workers every second (components/_gateway_hold.POLL_MILLISECONDS)."""


@dataclass(frozen=True)
class HoldTime:
    served_name: str
    predicted_seconds: int
    """From the first held request to a replica the router lists, predicted (rounded up)."""
    hold_seconds: int
    """How long a request is held: the prediction, at most gateway.maxHoldSeconds."""
    retry_after_seconds: int
    """Retry-After of the 503 when the hold runs out: the rest of the prediction, at least one KEDA poll."""

    @property
    def capped(self) -> bool:
        return self.hold_seconds < self.predicted_seconds


def hold_time(placed: PlacedModel, gateway: GatewayConfig, scrape_interval_seconds: int) -> HoldTime:
    outlook = scale_out(placed.model, placed.group, scrape_interval_seconds)
    predicted = math.ceil(outlook.serve_seconds - HPA_SYNC_SECONDS + KEDA_POLLING_SECONDS + RECHECK_SECONDS)
    hold = min(predicted, gateway.max_hold_seconds, gateway.request_timeout_seconds)
    return HoldTime(placed.model.resolved_served_model_name, predicted, hold, max(KEDA_POLLING_SECONDS, predicted - hold))


def hold_times(placed: Iterable[PlacedModel], gateway: GatewayConfig, scrape_interval_seconds: int) -> dict[str, HoldTime]:
    """Served name -> hold, for every model the gateway routes (all of the stack's)."""
    return {hold.served_name: hold for hold in (hold_time(p, gateway, scrape_interval_seconds) for p in placed)}
