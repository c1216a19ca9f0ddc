"""Reusable constrained types, each failing with a message that says how to fix the value."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator

from .errors import Fix, FixableError
from .image_reference import image_reference_fix, image_reference_problem

# DNS-1123 label (namespaces, most object names) and DNS-1035 label (Service names: must also
# start with a letter, since a Service name becomes a DNS name and an env var prefix).
# k8s.io/apimachinery/pkg/util/validation/validation.go (IsDNS1123Label, IsDNS1035Label);
# Services are checked with ValidateServiceName = NameIsDNS1035Label in
# kubernetes/kubernetes pkg/apis/core/validation/validation.go.
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")

# The Kubernetes quantity grammar, k8s.io/apimachinery/pkg/api/resource/quantity.go (v0.34):
#   <quantity> ::= <signedNumber><suffix>
#   <number>   ::= <digits> | <digits>.<digits> | <digits>. | .<digits>
#   <suffix>   ::= <binarySI> (Ki..Ei) | <decimalExponent> ("e"/"E" <signedNumber>) | <decimalSI> (n u m "" k M G T P E)
# "1E" is one exa; "1E3" is an exponent: the parser reads a sign or digit after e/E as an exponent.
_QUANTITY = re.compile(
    r"^(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?:(?P<binary>Ki|Mi|Gi|Ti|Pi|Ei)|[eE](?P<exponent>[+-]?[0-9]+)|(?P<decimal>[numkMGTPE]))?$"
)
_DECIMAL_SUFFIXES = {"n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY_SUFFIXES = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
# Quantities past this are refused: the scheduler and kubelet compare requests as int64
# (Quantity.Value/MilliValue), and no node has anything close to it.
_LARGEST = Decimal(2**63 - 1)
_LARGEST_EXPONENT = 30
_NANO = Decimal("1e-9")


def _suggest_dns_label(value: str) -> str:
    suggestion = re.sub(r"[^a-z0-9-]+", "-", value.lower()).strip("-")[:63].strip("-")
    return suggestion or "my-model"


def check_dns_label(value: str) -> str:
    if len(value) > 63 or not _DNS_LABEL.match(value):
        suggestion = _suggest_dns_label(value)
        raise FixableError(
            f"{value!r} is not a valid Kubernetes name (DNS-1123 label): use lowercase letters, "
            f"digits and '-', start and end with a letter or digit, at most 63 characters; "
            f"for example {suggestion!r}", Fix("", suggestion)
        )
    return value


def check_service_name(value: str) -> str:
    """A name that is also a Service's: a DNS-1035 label, so it must start with a letter."""
    check_dns_label(value)
    if not _DNS_1035_LABEL.match(value):
        suggestion = f"vllm-{value}"[:63].rstrip("-")
        raise FixableError(
            f"{value!r} names the model's Service, and a Service name must start with a letter (DNS-1035 "
            f"label), or the API server rejects the Service; for example {suggestion!r}", Fix("", suggestion)
        )
    return value


# Namespaces the stack must not take as a model namespace: it creates the namespace, owns it (and
# deletes it with the stack unless cacheVolumes.retainOnDelete), and puts a default-deny ingress
# NetworkPolicy in it. Kubernetes reserves the `kube-` prefix for its own namespaces
# (kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/).
_CLUSTER_NAMESPACES = {
    "default": "holds the `kubernetes` Service and anything created without a namespace",
    "kube-system": "holds CoreDNS, aws-node, kube-proxy and the add-ons' controllers",
    "kube-public": "is readable by everyone, including unauthenticated clients",
    "kube-node-lease": "holds the nodes' heartbeat Leases",
}


def check_model_namespace(value: str) -> str:
    check_dns_label(value)
    reason = _CLUSTER_NAMESPACES.get(value)
    if reason is None and value.startswith("kube-"):
        reason = "uses the `kube-` prefix Kubernetes reserves for its own namespaces"
    if reason is not None:
        raise FixableError(
            f"{value!r} is a namespace the cluster owns ({value} {reason}); the stack creates and owns each "
            f"model namespace, and its default-deny NetworkPolicy would cover every pod there; use a namespace "
            f"of the models' own, such as 'vllm'", Fix("", "vllm")
        )
    return value


def parse_quantity(value: str) -> Decimal:
    """A Kubernetes quantity ('12Gi', '500m', '12e9', '3') as a plain number (bytes or cores)."""
    match = _QUANTITY.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a Kubernetes quantity")
    number = Decimal(match["number"])
    if match["binary"]:
        return Decimal(number * 2 ** _BINARY_SUFFIXES[match["binary"]])
    exponent = int(match["exponent"]) if match["exponent"] else _DECIMAL_SUFFIXES.get(match["decimal"], 0)
    if not number:
        return Decimal(0)
    if exponent < -_LARGEST_EXPONENT:
        # Kubernetes keeps a quantity only down to nano and rounds a finer non-zero value away from
        # zero (quantity.go ParseQuantity: "0.9n" becomes "1n"); Decimal cannot scale this far.
        return _NANO.copy_sign(number)
    return number.scaleb(exponent)


def _scalar_text(value: object) -> str:
    # YAML reads `cpu: 3` as an int and `memory: 12Gi` as a str; both are quantities.
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"{value!r} is not a Kubernetes quantity; write it as a string such as '12Gi' or '3'")
    return str(value)


def _checked_amount(text: str, unit: str, example: str, zero_reason: str) -> Decimal:
    """The value of a well-formed quantity, refused only for a stated reason."""
    match = _QUANTITY.match(text)
    huge = bool(match and match["exponent"] and int(match["exponent"]) > _LARGEST_EXPONENT)  # Decimal would overflow
    amount = Decimal(match["number"]) if huge and match else parse_quantity(text)
    if huge and amount > 0:
        raise FixableError(f"{text!r} is far more {unit} than any node has; write it like {example!r}", Fix("", example))
    if amount <= 0:
        raise FixableError(f"{text!r} must be more than zero {unit} ({zero_reason}); write it like {example!r}",
                           Fix("", example))
    if amount > _LARGEST:
        raise FixableError(f"{text!r} is more {unit} than any node has (and than the 64-bit counters the scheduler "
                           f"compares); write it like {example!r}", Fix("", example))
    return amount


# Unit spellings people write for bytes (`100GB`, `16gib`), and the binary suffix Kubernetes spells them with.
_UNIT_SPELLING = re.compile(r"^(?P<number>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>[kmgtpe])(?:i?b)?$", re.IGNORECASE)


def _respelt(text: str) -> str | None:
    """`100GB` -> `100Gi`: the number kept, the unit as Kubernetes's binary suffix."""
    match = _UNIT_SPELLING.match(text)
    return None if match is None else f"{match['number']}{match['unit'].upper()}i"


def _byte_quantity(zero_reason: str, example: str = "100Gi") -> BeforeValidator:
    """`example` is the value a message suggests and its fix sets: one that passes the field's other checks."""
    def check_byte_quantity(value: object) -> str:
        text = _scalar_text(value)
        if not _QUANTITY.match(text):
            respelt = _respelt(text)
            if respelt is not None:
                raise FixableError(f"{text!r} is not a Kubernetes byte quantity (Kubernetes rejects unit spellings like "
                                   f"'GB'); write {respelt!r}, a number with a binary suffix", Fix("", respelt))
            raise FixableError(
                f"{text!r} is not a Kubernetes byte quantity; write a number with a binary suffix "
                f"such as {example!r} (Kubernetes rejects unit spellings like 'GB')", Fix("", example)
            )
        amount = _checked_amount(text, "bytes", example, zero_reason)
        if amount != amount.to_integral_value():
            # kubernetes/kubernetes pkg/api/pod/warnings.go: "fractional byte value %q is invalid, must be an integer".
            milli = " (the 'm' suffix is milli, not mega: mega is 'M', mebi 'Mi')" if text.endswith("m") else ""
            raise FixableError(
                f"{text!r} is {amount.normalize():f} bytes, a fraction of a byte, which Kubernetes warns is invalid "
                f"(a byte count must be whole); write whole bytes such as {example!r}{milli}", Fix("", example)
            )
        return text
    return BeforeValidator(check_byte_quantity)


def check_cpu_quantity(value: object) -> str:
    text = _scalar_text(value)
    match = _QUANTITY.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a CPU quantity; write whole or fractional cores ('3', '2.5') or millicores ('500m')")
    if match["binary"]:
        # A valid quantity (binarySI in quantity.go's grammar), but a byte-style unit on a core count.
        raise ValueError(
            f"{text!r} is not a CPU quantity anyone means: Kubernetes reads the binary suffix {match['binary']} as "
            f"x 2^{_BINARY_SUFFIXES[match['binary']]}, so this asks for {parse_quantity(text).normalize():f} cores; "
            f"write whole or fractional cores ('3', '2.5') or millicores ('500m')")
    # A request of zero gets the kubelet's minimum CPU weight, 2 shares against 1024 per core
    # (kubernetes/kubernetes pkg/kubelet/cm/helpers_linux.go, MilliCPUToShares, MinShares = 2).
    amount = _checked_amount(text, "cores", "500m", "with no CPU request vLLM gets the smallest CPU share on a busy node")
    if amount * 1000 != (amount * 1000).to_integral_value():
        # kubernetes.io/docs/concepts/configuration/manage-resources-containers/#meaning-of-cpu:
        # "Kubernetes doesn't allow you to specify CPU resources with a precision finer than 1m".
        raise ValueError(f"{text!r} is finer than 1m (a thousandth of a core), which Kubernetes does not allow; "
                         f"round it to whole millicores such as '500m'")
    return text


def check_image_reference(value: str) -> str:
    """An image reference the kubelet can pull; see config/image_reference.py for the grammar."""
    problem = image_reference_problem(value)
    if problem:
        fixed = image_reference_fix(value)
        raise FixableError(problem, *([Fix("", fixed)] if fixed else []))
    return value


DnsLabel = Annotated[str, AfterValidator(check_dns_label)]
"""A Kubernetes object name that is also valid as a namespace name (DNS-1123 label)."""

ServiceName = Annotated[str, AfterValidator(check_service_name)]
"""A name that also names a Service: a DNS-1035 label (starts with a letter)."""

OwnedNamespace = Annotated[str, AfterValidator(check_model_namespace)]
"""A namespace the stack creates and owns: a DNS-1123 label that is not one of the cluster's own."""

ImageReference = Annotated[str, AfterValidator(check_image_reference)]
"""A container image reference: `[registry[:port]/]repository[:tag][@digest]`."""

MemoryQuantity = Annotated[str, _byte_quantity("the container's memory limit equals its request, so zero leaves vLLM none",
                                               "12Gi")]  # resources.memory's default: enough for vLLM, fits inf2.xlarge
"""A container's memory as Kubernetes writes it: '12Gi'; more than zero, whole bytes."""

ShmQuantity = Annotated[str, _byte_quantity("a /dev/shm of zero bytes is none at all; leave shmSize unset for the default")]
"""The size of a memory-backed /dev/shm: '8Gi'; more than zero, whole bytes."""

# kubernetes/kubernetes pkg/apis/core/validation/validation.go, ValidatePersistentVolumeClaimSpec:
# resources.requests[storage] goes through ValidatePositiveQuantityValue ("must be greater than zero").
StorageQuantity = Annotated[str, _byte_quantity("the API server rejects a PersistentVolumeClaim requesting zero storage")]
"""A PersistentVolumeClaim's size as Kubernetes writes it: '100Gi'; more than zero, whole bytes."""

CpuQuantity = Annotated[str, BeforeValidator(check_cpu_quantity)]
"""CPU as Kubernetes writes it: '3' or '500m'; more than zero, whole millicores."""
