"""The serving stage: each server lists its rendered served name and answers one chat completion."""

from __future__ import annotations

import json

from e2e.check import Check
from e2e.servers import Server


def run(servers: list[Server]) -> list[Check]:
    checks = []
    for server in servers:
        status, text = server.get("/v1/models")
        ids = [m.get("id") for m in json.loads(text).get("data", [])] if status == 200 else []
        checks.append(Check("serving", f"{server.deployment} /v1/models lists {server.served_name!r}",
                            server.served_name in ids, f"HTTP {status}, ids {ids}"))
        status, text = server.post("/v1/chat/completions", {
            "model": server.served_name, "max_tokens": 8,
            "messages": [{"role": "user", "content": "hello world"}]}, timeout=120)
        tokens = json.loads(text).get("usage", {}).get("completion_tokens") if status == 200 else None
        checks.append(Check("serving", f"{server.deployment} chat completion", status == 200 and bool(tokens),
                            f"HTTP {status}, {tokens} completion tokens" if status == 200 else f"HTTP {status}: {text[:200]}"))
    return checks
