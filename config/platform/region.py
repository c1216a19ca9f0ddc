"""`aws:region`, checked offline before anything is registered (a zone name there is a common slip).

Region names are `<area>-<direction>-<number>` (`us-west-2`, `ap-southeast-1`, `us-gov-west-1`);
zone names add a letter (`us-west-2a`), Local Zones a group (`us-west-2-lax-1a`). EC2 User Guide,
"Regions and Zones"; DescribeAvailabilityZones `zone-name` filter examples.
"""

from __future__ import annotations

import re

from ..errors import ConfigIssue, Fix

REGION_KEY = "aws:region"
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]+$")
_ZONE = re.compile(r"^(?P<region>[a-z]{2}(-[a-z]+)+-[0-9]+)(-[a-z]+-[0-9]+)?[a-z]$")


def region_issues(region: str | None) -> list[ConfigIssue]:
    """Problems with the stack's `aws:region`; none when it is unset (the AWS provider then reads
    AWS_REGION from the environment, which only a real run can see)."""
    if region is None:
        return []
    if _REGION.match(region):
        return []
    zone = _ZONE.match(region)
    if zone:
        return [ConfigIssue(REGION_KEY, (
            f"{region!r} is an availability zone, not a region; set `aws:region` to {zone['region']!r} "
            f"(`pulumi config set aws:region {zone['region']}`) and pick zones with cluster.vpc.availabilityZones"
        ), (Fix(REGION_KEY, zone["region"]),))]
    return [ConfigIssue(REGION_KEY, f"{region!r} is not an AWS region name; write it like 'us-west-2'")]
