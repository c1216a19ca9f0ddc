"""On-Demand hourly prices of the catalog's instance types, for the cost at min and max replicas in the sizing table.

Source: the AWS Price List API's On-Demand Linux prices for us-east-1, as Karpenter v1.14.1 commits them for its
offline fallback (aws/karpenter-provider-aws pkg/providers/pricing/zz_generated.pricing_aws.go, "generated at
2026-07-06T14:20:29Z for us-east-1"). The AWS price pages themselves could not be reached from this workplace.
Other regions differ (us-west-2 is usually the same for these families, not always); Spot, Savings Plans and
EBS/EFS/NAT charges are not included. A type without a price here shows no cost.
"""

from __future__ import annotations

PRICES_AS_OF = "2026-07-06"
PRICE_REGION = "us-east-1"
PRICE_SOURCE = ("AWS Price List API, On-Demand Linux, us-east-1, 2026-07-06 (as committed in aws/karpenter-provider-aws "
                "v1.14.1 pkg/providers/pricing/zz_generated.pricing_aws.go)")

ON_DEMAND_USD_PER_HOUR: dict[str, float] = {
    "inf2.xlarge": 0.7582, "inf2.8xlarge": 1.96786, "inf2.24xlarge": 6.49063, "inf2.48xlarge": 12.98127,
    "trn1.2xlarge": 1.34375, "trn1.32xlarge": 21.5, "trn1n.32xlarge": 24.78,
    "g5.xlarge": 1.006, "g5.2xlarge": 1.212, "g5.4xlarge": 1.624, "g5.8xlarge": 2.448, "g5.12xlarge": 5.672,
    "g5.16xlarge": 4.096, "g5.24xlarge": 8.144, "g5.48xlarge": 16.288,
    "g6.xlarge": 0.8048, "g6.2xlarge": 0.9776, "g6.4xlarge": 1.3232, "g6.8xlarge": 2.0144, "g6.12xlarge": 4.6016,
    "g6.16xlarge": 3.3968, "g6.24xlarge": 6.6752, "g6.48xlarge": 13.3504,
    "g6e.xlarge": 1.861, "g6e.2xlarge": 2.24208, "g6e.4xlarge": 3.00424, "g6e.8xlarge": 4.52856,
    "g6e.12xlarge": 10.49264, "g6e.16xlarge": 7.57719, "g6e.24xlarge": 15.06559, "g6e.48xlarge": 30.13118,
    "p4d.24xlarge": 21.957642, "p4de.24xlarge": 27.44705, "p5.48xlarge": 55.04, "p5en.48xlarge": 63.296,
    "t3.large": 0.0832, "t3.xlarge": 0.1664, "m5.large": 0.096, "m5.xlarge": 0.192, "m5.2xlarge": 0.384,
    "m6i.large": 0.096, "m6i.xlarge": 0.192, "m6i.2xlarge": 0.384, "m7i.large": 0.1008, "m7i.xlarge": 0.2016,
    "m7i.2xlarge": 0.4032,
}


def hourly_price(instance_type: str) -> float | None:
    return ON_DEMAND_USD_PER_HOUR.get(instance_type)


def usd(value: float | None) -> str:
    return "no price" if value is None else f"${value:,.2f}/h"
