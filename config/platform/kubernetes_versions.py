"""EKS Kubernetes versions and their support dates: the one table the default, the rules, docs and tests read.

Source: the Amazon EKS Kubernetes release calendar, "Understand the Kubernetes version lifecycle on
EKS" (docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html), as of 2026-12-01, as
reproduced by endoflife.date/amazon-eks and aws-samples' EKS version calendar (verified 2026-04-24).
A minor version has 14 months of standard support from its EKS release, then 12 months of extended
support, billed per cluster hour on top of standard pricing; after that EKS upgrades the cluster
itself and no longer creates clusters on it. Add a row when EKS releases a version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum

TABLE_AS_OF = date(2026, 12, 1)
CALENDAR = "https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html"


class Support(str, Enum):
    STANDARD = "standard support"
    EXTENDED = "extended support"
    ENDED = "end of support"
    UNKNOWN = "not in the table"


@dataclass(frozen=True)
class EksVersion:
    version: str
    end_of_standard_support: date
    end_of_extended_support: date


EKS_VERSIONS: dict[str, EksVersion] = {
    row.version: row
    for row in (
        EksVersion("1.35", date(2027, 3, 27), date(2028, 3, 27)),
        EksVersion("1.34", date(2026, 12, 2), date(2027, 12, 2)),
        EksVersion("1.33", date(2026, 7, 29), date(2027, 7, 29)),
        EksVersion("1.32", date(2026, 3, 23), date(2027, 3, 23)),
        EksVersion("1.31", date(2025, 11, 26), date(2026, 11, 26)),
        EksVersion("1.30", date(2025, 7, 23), date(2026, 7, 23)),
        EksVersion("1.29", date(2025, 3, 23), date(2026, 3, 23)),
    )
}

PUBLISHED_WITHOUT_DATES: dict[str, str] = {
    "1.36": (
        "EKS has published it (Amazon EKS User Guide, \"Review release notes for Kubernetes versions on standard "
        "support\": \"Kubernetes 1.36 is now available in Amazon EKS\"), but no copy of the EKS release calendar "
        "with its dates could be read on 2026-12-03, and EKS Distro had published no kube-scheduler release for it "
        "(aws/eks-distro projects/kubernetes/kubernetes/1-36 at v1.36.0-rc.0), which the Neuron scheduler extension needs"
    ),
}
"""Versions EKS offers that the table has no row for yet, with what is missing (a dated note, not a guess)."""

DEFAULT_KUBERNETES_VERSION = "1.35"
"""The newest version in the table; in standard support until 2027-03-27."""


def support(version: str, on: date) -> Support:
    row = EKS_VERSIONS.get(version)
    if row is None:
        return Support.UNKNOWN
    if on < row.end_of_standard_support:
        return Support.STANDARD
    if on < row.end_of_extended_support:
        return Support.EXTENDED
    return Support.ENDED


def in_standard_support(on: date) -> list[str]:
    """Versions in standard support on `on`, newest first."""
    found = [v for v in EKS_VERSIONS if support(v, on) is Support.STANDARD]
    return sorted(found, key=lambda v: tuple(int(part) for part in v.split(".")), reverse=True)


def suggested_version(on: date) -> str | None:
    """The version `version_note` suggests on `on`: the default while it is in standard support, else the newest that is."""
    current = in_standard_support(on)
    return DEFAULT_KUBERNETES_VERSION if DEFAULT_KUBERNETES_VERSION in current else next(iter(current), None)


def version_note(version: str, on: date) -> tuple[Support | None, str]:
    """(status, message) for a version not in standard support on `on`; (None, "") when it is."""
    status = support(version, on)
    # Name the default while it is in standard support, so the message does not change with the date.
    current = in_standard_support(on)
    newest = (f"{DEFAULT_KUBERNETES_VERSION}, the default" if DEFAULT_KUBERNETES_VERSION in current
              else ", ".join(current) or "none: the table needs a newer row")
    row = EKS_VERSIONS.get(version)
    if status is Support.STANDARD:
        return None, ""
    if status is Support.EXTENDED:
        assert row is not None
        return status, (
            f"Kubernetes {version} left EKS standard support on {row.end_of_standard_support.isoformat()}: extended "
            f"support costs extra per cluster hour and ends on {row.end_of_extended_support.isoformat()}; "
            f"upgrade one minor version at a time to one in standard support ({newest})"
        )
    if status is Support.ENDED:
        assert row is not None
        return status, (
            f"Kubernetes {version} reached the end of EKS extended support on {row.end_of_extended_support.isoformat()}: "
            f"EKS creates no cluster on it and upgrades existing ones itself; use a version in standard support ({newest})"
        )
    if version in PUBLISHED_WITHOUT_DATES:
        return status, (
            f"Kubernetes {version} is not in the EKS version table yet: {PUBLISHED_WITHOUT_DATES[version]}; check "
            f"its dates against {CALENDAR} and add its row (and a kube-scheduler tag in config/scheduler_catalog.py "
            f"for multi-core Neuron models), or use one in standard support ({newest})"
        )
    return status, (
        f"Kubernetes {version} is not in the EKS version table (config/platform/kubernetes_versions.py, as of "
        f"{TABLE_AS_OF.isoformat()}); check it against {CALENDAR} and add its support dates, or use one in standard support ({newest})"
    )
