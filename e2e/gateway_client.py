"""What an OpenAI client sees at the gateway's one URL: the checks of the gateway stage before the browser.

Every request goes to NGINX on loopback (the Service's port in the cluster), with a team's key as
`Authorization: Bearer <key>` (OpenAI's API key header), and is bounded in count and time.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from e2e.check import Check

STAGE = "gateway"
ANSWER_TIMEOUT_S = 120      # one short completion on the CPU build, both servers sharing 2 cores


def request(method: str, url: str, *, key: str | None = None, body: dict[str, Any] | None = None,
            timeout: float = 30) -> tuple[int, str]:
    """Status and text of one request; (0, reason) when nothing answered."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    data = json.dumps(body).encode() if body is not None else None
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, method=method, headers=headers),
                                    timeout=timeout) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")
    except (urllib.error.URLError, OSError) as error:
        return 0, str(error)


def chat(model: str, prompt: str, max_tokens: int, stream: bool = False) -> dict[str, Any]:
    return {"model": model, "max_tokens": max_tokens, "stream": stream,
            "messages": [{"role": "user", "content": prompt}]}


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def model_list(base: str, key: str, models: list[str]) -> Check:
    status, text = request("GET", f"{base}/models", key=key)
    listed = [m.get("id") for m in _json(text).get("data", []) if isinstance(m, dict)]
    missing = [m for m in models if m not in listed]
    return Check(STAGE, f"GET /v1/models with a key lists {models}", status == 200 and not missing,
                 f"HTTP {status}, lists {listed}" if status == 200 else f"HTTP {status}: {text[:160]}")


def answers(base: str, key: str, models: list[str]) -> list[Check]:
    """One chat completion per model through the one URL; each must come back from that model."""
    checks = []
    for model in models:
        started = time.monotonic()
        status, text = request("POST", f"{base}/chat/completions", key=key, timeout=ANSWER_TIMEOUT_S,
                               body=chat(model, "Say hello in one word.", 8))
        reply = _json(text)
        tokens = reply.get("usage", {}).get("completion_tokens")
        ok = status == 200 and reply.get("model") == model and bool(tokens)
        checks.append(Check(STAGE, f"chat completion for {model!r} answered by {model!r}", ok,
                            f"HTTP {status}, model {reply.get('model')!r}, {tokens} tokens, {time.monotonic() - started:.1f}s"
                            if status == 200 else f"HTTP {status}: {text[:200]}"))
    return checks


def stream(base: str, key: str, model: str) -> Check:
    """A streamed chat completion: server-sent events, several `data:` chunks, then `data: [DONE]`."""
    url = urlsplit(f"{base}/chat/completions")
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=ANSWER_TIMEOUT_S)
    started = time.monotonic()
    try:
        # ignore_eos (a vLLM sampling parameter the router passes on): the random stand-in model may
        # end at once, and a stream of one chunk would prove nothing.
        body = {**chat(model, "Count from one to ten.", 16, stream=True), "ignore_eos": True}
        connection.request("POST", url.path, body=json.dumps(body),
                           headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
        response = connection.getresponse()
        kind = response.getheader("Content-Type", "")
        chunks: list[float] = []
        done = False
        while response.status == 200:
            line = response.readline()
            if not line:
                break
            if line.startswith(b"data: [DONE]"):
                done = True
            elif line.startswith(b"data: {"):
                chunks.append(time.monotonic() - started)
        status = response.status
    except OSError as error:
        return Check(STAGE, f"streamed chat completion for {model!r}", False, str(error))
    finally:
        connection.close()
    ok = status == 200 and kind.startswith("text/event-stream") and len(chunks) >= 2 and done
    detail = (f"HTTP {status}, {kind}, {len(chunks)} chunks from {chunks[0]:.2f}s to {chunks[-1]:.2f}s, [DONE] {'seen' if done else 'missing'}"
              if chunks else f"HTTP {status}, {kind}, no data chunks")
    return Check(STAGE, f"streamed chat completion for {model!r} (SSE)", ok, detail)


def refusals(base: str, key: str, model: str) -> list[Check]:
    """Without a key, with a wrong one, and on the router's worker API: refused at the gateway."""
    checks = []
    for what, path, send_key, body in (
            ("no key", "/models", None, None),
            ("no key", "/chat/completions", None, chat(model, "hi", 1)),
            ("an unknown key", "/chat/completions", "sk-not-a-team-key", chat(model, "hi", 1))):
        status, text = request("POST" if body else "GET", base + path, key=send_key, body=body)
        checks.append(Check(STAGE, f"{'POST' if body else 'GET'} /v1{path} with {what} is refused 401", status == 401,
                            f"HTTP {status}: {text[:120]}"))
    root = base.removesuffix("/v1")
    status, text = request("POST", f"{root}/workers", key=key, body={"url": "http://127.0.0.1:9"})
    checks.append(Check(STAGE, "the router's worker API (POST /workers) is not reachable through the gateway",
                        status == 404, f"HTTP {status}: {text[:120]}"))
    return checks


def over_limit(base: str, team: str, key: str, burst: int, rate: str, model: str, other_key: str | None,
               other_team: str) -> list[Check]:
    """Floods the team past its NGINX limit_req burst with one-token completions (concurrent, bounded
    at three bursts) until NGINX answers 429; then the other team's key must still get an answer."""
    ceiling = 3 * (burst + 1)
    statuses: list[int] = []
    body = chat(model, "hi", 1)

    def one(_: int) -> int:
        if 429 in statuses:
            return -1          # stop early: the limit is shown
        status = request("POST", f"{base}/chat/completions", key=key, body=body, timeout=ANSWER_TIMEOUT_S)[0]
        statuses.append(status)
        return status

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(one, range(ceiling)))
    admitted = statuses.count(200)
    refused = statuses.count(429)
    others = sorted({s for s in statuses if s not in (200, 429)})
    checks = [Check(STAGE, f"team {team!r} over its limit (burst {burst}, {rate}) is refused 429", refused > 0 and not others,
                    f"{len(statuses)} requests in {time.monotonic() - started:.1f}s: {admitted} answered, {refused} refused 429"
                    + (f", other statuses {others}" if others else ""))]
    if other_key is not None:
        status, text = request("POST", f"{base}/chat/completions", key=other_key, body=body, timeout=ANSWER_TIMEOUT_S)
        checks.append(Check(STAGE, f"team {other_team!r} is still answered meanwhile (limits are per team)",
                            status == 200, f"HTTP {status}" if status == 200 else f"HTTP {status}: {text[:120]}"))
    return checks
