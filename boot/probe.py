"""HTTP checks against a booted container, run inside its network namespace (127.0.0.1 only).

`python3 boot/probe.py health PORT PATH` exits 0 when the health endpoint answers 200.
`python3 boot/probe.py serve PORT SERVED_NAME TOOLS` checks /v1/models and one chat completion
(with a `tools` request when TOOLS is 1) and prints one JSON line with what it saw.
Standard library only; every request has a timeout.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request

HOST = "127.0.0.1"
TOOLS = [{
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}]


def request(port: int, path: str, body: dict | None = None, timeout: float = 10.0) -> tuple[int, dict | str]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://{HOST}:{port}{path}", data=data,
                                 headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            text = resp.read().decode()
            status = resp.status
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")[:2000]
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def health(port: int, path: str) -> int:
    try:
        status, _ = request(port, path, timeout=3.0)
    except (OSError, urllib.error.URLError):
        return 1
    return 0 if status == 200 else 1


def serve(port: int, served_name: str, tools: bool) -> int:
    result: dict = {"ok": False}
    status, models = request(port, "/v1/models", timeout=15.0)
    ids = [m.get("id") for m in models.get("data", [])] if isinstance(models, dict) else []
    result["models"] = ids
    if status != 200 or served_name not in ids:
        result["error"] = f"/v1/models answered {status} with {ids or models!r}; expected the served name {served_name!r}"
        print(json.dumps(result))
        return 1
    body = {"model": served_name, "max_tokens": 8, "temperature": 0,
            "messages": [{"role": "user", "content": "What is the weather in Paris?"}]}
    if tools:
        body.update(tools=TOOLS, tool_choice="auto")
    status, answer = request(port, "/v1/chat/completions", body, timeout=180.0)
    if status != 200 or not isinstance(answer, dict) or not answer.get("choices"):
        result["error"] = f"chat completion answered {status}: {answer!r}"[:2000]
        print(json.dumps(result))
        return 1
    message = answer["choices"][0].get("message", {})
    result.update(ok=True, finish_reason=answer["choices"][0].get("finish_reason"),
                  tool_calls=len(message.get("tool_calls") or []), tools_sent=tools)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode == "health":
        sys.exit(health(port, sys.argv[3]))
    sys.exit(serve(port, sys.argv[3], sys.argv[4] == "1"))
