"""Reusable constrained types, each failing with a message that says how to fix the value."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_QUANTITY = re.compile(r"^(?P<number>[0-9]+(\.[0-9]+)?)(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?$")
_SUFFIX_FACTORS = {
    None: Decimal(1), "m": Decimal("0.001"),
    "k": Decimal(10**3), "M": Decimal(10**6), "G": Decimal(10**9), "T": Decimal(10**12),
    "P": Decimal(10**15), "E": Decimal(10**18),
    "Ki": Decimal(2**10), "Mi": Decimal(2**20), "Gi": Decimal(2**30), "Ti": Decimal(2**40),
    "Pi": Decimal(2**50), "Ei": Decimal(2**60),
}


def _suggest_dns_label(value: str) -> str:
    suggestion = re.sub(r"[^a-z0-9-]+", "-", value.lower()).strip("-")[:63].strip("-")
    return suggestion or "my-model"


def check_dns_label(value: str) -> str:
    if len(value) > 63 or not _DNS_LABEL.match(value):
        raise ValueError(
            f"{value!r} is not a valid Kubernetes name (DNS-1123 label): use lowercase letters, "
            f"digits and '-', start and end with a letter or digit, at most 63 characters; "
            f"for example {_suggest_dns_label(value)!r}"
        )
    return value


def parse_quantity(value: str) -> Decimal:
    """A Kubernetes quantity ('12Gi', '500m', '3') as a plain number (bytes or cores)."""
    match = _QUANTITY.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a Kubernetes quantity")
    return Decimal(match["number"]) * _SUFFIX_FACTORS[match["suffix"]]


def _scalar_text(value: object) -> str:
    # YAML reads `cpu: 3` as an int and `memory: 12Gi` as a str; both are quantities.
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"{value!r} is not a Kubernetes quantity; write it as a string such as '12Gi' or '3'")
    return str(value)


def check_byte_quantity(value: object) -> str:
    text = _scalar_text(value)
    match = _QUANTITY.match(text)
    if not match or match["suffix"] == "m":
        raise ValueError(
            f"{text!r} is not a Kubernetes byte quantity; write a number with a binary suffix "
            f"such as '100Gi' or '512Mi' (Kubernetes rejects unit spellings like 'GB')"
        )
    return text


def check_cpu_quantity(value: object) -> str:
    text = _scalar_text(value)
    match = _QUANTITY.match(text)
    if not match or match["suffix"] not in (None, "m"):
        raise ValueError(f"{text!r} is not a CPU quantity; write whole or fractional cores ('3', '2.5') or millicores ('500m')")
    if parse_quantity(text) <= 0:
        raise ValueError(f"{text!r} must be more than zero cores; request at least '500m'")
    return text


DnsLabel = Annotated[str, AfterValidator(check_dns_label)]
"""A Kubernetes object name that is also valid as a Service/namespace name."""

ByteQuantity = Annotated[str, BeforeValidator(check_byte_quantity)]
"""Memory or storage size as Kubernetes writes it: '100Gi'."""

CpuQuantity = Annotated[str, BeforeValidator(check_cpu_quantity)]
"""CPU as Kubernetes writes it: '3' or '500m'."""
