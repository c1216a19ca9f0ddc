"""AWS identifiers and network values as validated config types: each names what it expects and an example."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import AfterValidator

from ..errors import Fix, FixableError

_AVAILABILITY_ZONE = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9][a-z]$")
_SUBNET_ID = re.compile(r"^subnet-[0-9a-f]{8,17}$")
_VPC_ID = re.compile(r"^vpc-[0-9a-f]{8,17}$")
_IAM_PRINCIPAL_ARN = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/[\w+=,.@/-]+$")
# What `aws sts get-caller-identity` prints for a role is a session ARN; EKS records the session's role.
_IAM_PRINCIPAL_OR_SESSION_ARN = re.compile(
    r"^arn:aws[a-z-]*:(iam::[0-9]{12}:(role|user)/[\w+=,.@/-]+|sts::[0-9]{12}:assumed-role/[\w+=,.@-]+/[\w+=,.@-]+)$"
)
_KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/[\w/-]+$")


def matching(pattern: re.Pattern[str], what: str, example: str) -> AfterValidator:
    def check(value: str) -> str:
        if not pattern.match(value):
            raise ValueError(f"{value!r} is not {what}; write it like {example!r}")
        return value
    return AfterValidator(check)


def check_ipv4_cidr(value: str, bare_prefix: int = 32, what: str = "this one address") -> str:
    """An IPv4 block in CIDR notation. A bare address is refused rather than read as a /32, which is what
    Python's ipaddress (and the error that followed it) made of it: the API takes CIDR notation (EC2
    CreateVpc CidrBlock "in CIDR notation", EKS VpcConfigRequest publicAccessCidrs "CIDR blocks")."""
    if "/" not in value:
        try:
            bare = ipaddress.IPv4Network(f"{value}/{bare_prefix}", strict=False)
        except ValueError:
            bare = None
        if bare is not None:
            raise FixableError(f"{value!r} has no prefix length (the /N after the address that says how large the "
                               f"block is); for {what} write '{bare}'", Fix("", str(bare)))
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        raise ValueError(
            f"{value!r} is not an IPv4 CIDR block with its host bits zero; write it like '203.0.113.0/24' "
            f"(a single address is '203.0.113.7/32')"
        ) from None
    return str(network)


AvailabilityZone = Annotated[str, matching(_AVAILABILITY_ZONE, "an availability zone name", "us-west-2a")]
SubnetId = Annotated[str, matching(_SUBNET_ID, "a subnet ID", "subnet-0123456789abcdef0")]
VpcId = Annotated[str, matching(_VPC_ID, "a VPC ID", "vpc-0123456789abcdef0")]
IamPrincipalArn = Annotated[str, matching(_IAM_PRINCIPAL_ARN, "an IAM role or user ARN", "arn:aws:iam::123456789012:role/platform-admins")]
IamPrincipalOrSessionArn = Annotated[str, matching(
    _IAM_PRINCIPAL_OR_SESSION_ARN, "an IAM role or user ARN (or a session of a role)", "arn:aws:iam::123456789012:role/platform-admins",
)]
KmsKeyArn = Annotated[str, matching(_KMS_KEY_ARN, "a KMS key ARN", "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab")]
Ipv4Cidr = Annotated[str, AfterValidator(check_ipv4_cidr)]
"""An address block; a bare address is refused with its /32."""
VpcCidr = Annotated[str, AfterValidator(lambda value: check_ipv4_cidr(value, 16, "a VPC such as this"))]
"""A VPC's block; a bare address is refused with the /16 the defaults use."""
