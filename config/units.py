"""Units and shared literals, stated once: byte multiples, the project's name, the secret mask."""

KIB = 2**10
MIB = 2**20
GIB = 2**30
GB = 10**9
"""Decimal gigabyte: how vendors state accelerator memory."""

PROJECT = "vllm-eks"
"""The Pulumi project name, the config namespace (`vllm-eks:models`) and the `app.kubernetes.io/part-of` label."""

SECRET_PLACEHOLDER = "[secret]"
"""Shown for a secret value offline: a `secure:` ciphertext needs the stack's key, and a Pulumi secret is masked."""


def gib(value: float) -> str:
    """`44.7 GiB`: one decimal, the unit printed."""
    return f"{value / GIB:.1f} GiB"


def kib(value: float) -> str:
    """`128 KiB`, `64.5 KiB`: a trailing `.0` dropped."""
    text = f"{value / KIB:.1f}".removesuffix(".0")
    return f"{text} KiB"
