"""What a Hugging Face token looks like, so one pasted into a plain config value is refused before
it reaches a manifest or plan.json, and never echoed in an error.

Shape: `hf_` followed by 34 letters (user access tokens) and `api_org_` followed by 34 letters
(organization tokens), as gitleaks matches them (gitleaks/gitleaks v8,
cmd/generate/config/rules/huggingface.go: `hf_(?i:[a-z]{34})`, `api_org_(?i:[a-z]{34})`); see
huggingface.co/docs/hub/security-tokens. Matched anywhere inside a string (`--hf-token=hf_...`),
but not inside a longer word.
"""

from __future__ import annotations

import re

TOKEN_PATTERN = re.compile(r"(?<![A-Za-z0-9])(?:hf_|api_org_)[A-Za-z]{34}(?![A-Za-z0-9])")
MASK = "hf_***"
SECRET_FIX = "`pulumi config set --secret hfToken <token>`"
"""How a token gets into the stack: encrypted, as `hfToken`."""


def looks_like_token(text: str) -> bool:
    return TOKEN_PATTERN.search(text) is not None


def redact(text: str) -> str:
    """`text` with every token-shaped run replaced by a mask."""
    return TOKEN_PATTERN.sub(MASK, text)
