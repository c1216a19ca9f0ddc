"""NGINX in front of the router: team keys, per-team limits, and the model list, as pure text.

vllm-router 0.1.17 has no inbound authentication and one global limit (measured, docs/gateway.md),
so this layer does what it lacks, with stock NGINX modules only (nginx.org/en/docs):
- `map $http_authorization $gateway_team` turns the key into a team; no team -> 401.
- per team, `limit_req_zone`/`limit_conn_zone` keyed on a variable that is the team's name for that
  team's requests and empty otherwise ("Requests with an empty key value are not accounted",
  ngx_http_limit_req_module and ngx_http_limit_conn_module), so each team has its own rate and
  concurrency; over either -> 429 (limit_req_status, limit_conn_status).
- `/v1/models` is a file generated from the stack's models, so it lists every model's served name
  even while a model has no ready replica (the router's own /v1/models answers 503 "No models
  available" then, and lists bare names, not OpenAI's {"object": "list", "data": [...]}).
- only inference paths reach the router; its unauthenticated worker API stays unreachable.
- a completion request for a model the router lists no worker for is held (njs, components/_gateway_hold.py)
  until one is, for that model's bounded hold time, then forwarded with its body; held requests are counted
  on HOLD_METRICS_PORT for KEDA's scale from zero.
The keys live in a second file, from a Secret: nginx.conf (a ConfigMap) holds no credential.
"""

from __future__ import annotations

import json

from ..config.gateway import GatewayConfig, GatewayTeamConfig
from ..config.model import ModelConfig
from . import _gateway_hold as hold
from ._gateway_router import ROUTER_PORT

PROXY_PORT = 8080
"""The unprivileged image's port (it runs as uid 101 and cannot bind below 1024)."""
CONFIG_DIR = "/etc/gateway/config"
KEYS_DIR = "/etc/gateway/keys"
KEYS_FILE = "keys.conf"
MODELS_FILE = "models.json"
HEALTH_PATH = "/healthz"
"""NGINX itself, for the proxy container's probes (no key needed)."""
ROUTER_LIVENESS_PATH = "/router-livez"
"""The router's /liveness through NGINX: the router listens on loopback, where kubelet probes cannot reach."""
INFERENCE_PATHS = ("/v1/chat/completions", "/v1/completions")
"""What a key opens: OpenAI chat and text completions, both streamed or not."""
UNAUTHORIZED = '{"error": {"message": "missing or unknown API key", "type": "invalid_request_error", "code": 401}}'
BODY_COPIES = 4
"""Worker memory per in-flight completion request, in bodies: NGINX's single in-memory body buffer (the hold reads
the body, and njs 0.7.9 throws "request body is in a file" for one written to a temporary file:
ngx_http_js_module.c ngx_http_js_ext_get_request_body), njs's copy from JSON.parse, and in njs 0.8.10 (the image's)
one more copy of r.requestText (nginx/njs nginx/ngx_js.h njs_vm_value_string_create); njs frees nothing until the
request ends (no garbage collector), streamed answer included. Measured with Debian's nginx 1.22.1 + njs 0.7.9:
three held 30 MiB bodies peaked at 279 MiB, about 3 bodies each (tests/components/test_gateway_hold.py measures it)."""
PROXY_BASE_MEMORY_MIB = 64
"""NGINX with njs and the team zones, idle (6.5 MiB measured), with room for the router's model list and headers."""


def proxy_memory_limit_mib(gateway: GatewayConfig) -> int:
    """The proxy container's memory limit: every team at its concurrency limit (limit_conn, per pod) with bodies at
    the largest size, so no authenticated team can push the container past its limit and kill it for all teams."""
    in_flight = sum(team.max_concurrent_requests for team in gateway.teams)
    return PROXY_BASE_MEMORY_MIB + BODY_COPIES * gateway.max_request_body_mib * in_flight


JS_MODULE = "modules/ngx_http_js_module.so"
"""njs, relative to NGINX's prefix: /etc/nginx/modules in the nginx.org packages the image is built from
(nginxinc/docker-nginx-unprivileged stable/debian/Dockerfile installs nginx-module-njs; the official 1.28.0
bookworm image lists NJS_VERSION=0.8.10), /usr/share/nginx/modules in Debian's nginx with libnginx-mod-http-js;
both link to /usr/lib/nginx/modules."""
NOT_FOUND = '{"error": {"message": "not found", "type": "invalid_request_error", "code": 404}}'


def models_document(models: list[ModelConfig]) -> str:
    """OpenAI's model list (GET /v1/models) for every model of the stack, sorted by served name (reordering
    the stack's models changes nothing)."""
    data = [{"id": name, "object": "model", "created": 0, "owned_by": "vllm-eks"}
            for name in sorted(model.resolved_served_model_name for model in models)]
    return json.dumps({"object": "list", "data": data}, indent=2) + "\n"


def keys_file(keys: dict[str, str]) -> str:
    """The key -> team map NGINX includes; `keys` is team -> key. Keys are checked to need no quoting
    (config/gateway_rules.API_KEY); this text is the only place they appear, inside a Secret."""
    lines = ["map $http_authorization $gateway_team {", '    default "";']
    lines += [f'    "Bearer {key}" "{team}";' for team, key in sorted(keys.items())]
    return "\n".join(lines + ["}", ""])


def _zone(team: GatewayTeamConfig) -> str:
    return team.name.replace("-", "_")


def _team_blocks(teams: list[GatewayTeamConfig]) -> list[str]:
    lines = []
    for team in teams:
        zone = _zone(team)
        lines += [
            f"    map $gateway_team $team_{zone} {{ \"{team.name}\" \"{team.name}\"; default \"\"; }}",
            f"    limit_req_zone $team_{zone} zone=rate_{zone}:1m rate={team.requests_per_minute}r/m;",
            f"    limit_conn_zone $team_{zone} zone=conn_{zone}:1m;",
        ]
    return lines


def _limits(teams: list[GatewayTeamConfig]) -> list[str]:
    lines = []
    for team in teams:
        zone = _zone(team)
        lines += [f"            limit_req zone=rate_{zone} burst={team.burst} nodelay;",
                  f"            limit_conn conn_{zone} {team.max_concurrent_requests};"]
    return lines


def _router_proxy(timeout: str) -> list[str]:
    return [
        "            proxy_pass http://router;",
        "            proxy_http_version 1.1;",
        "            proxy_set_header Connection \"\";",
        # The team's key stops here: vLLM never sees it, and its logs cannot leak it.
        "            proxy_set_header Authorization \"\";",
        "            proxy_set_header X-Gateway-Team $gateway_team;",
        # Streams (SSE) go out token by token instead of when a buffer fills.
        "            proxy_buffering off;",
        "            proxy_request_buffering off;",
        f"            proxy_read_timeout {timeout};",
        f"            proxy_send_timeout {timeout};",
    ]


def nginx_conf(gateway: GatewayConfig, keys_dir: str = KEYS_DIR, config_dir: str = CONFIG_DIR,
               runtime_dir: str = "/tmp", listen: str = str(PROXY_PORT), router_port: int = ROUTER_PORT,
               metrics_listen: str = str(hold.HOLD_METRICS_PORT)) -> str:
    """The whole nginx.conf. The defaults are the pod's (mounts, the /tmp emptyDir, ports); a run on
    loopback passes its own directories, `listen` and `metrics_listen` (e.g. "127.0.0.1:18080") and runs the
    same text."""
    timeout = f"{gateway.request_timeout_seconds}s"
    paths = "|".join(path.removeprefix("/v1/") for path in INFERENCE_PATHS)
    lines = [
        "# Generated by vllm-eks (components/_gateway_proxy.py); keys are in the Secret-mounted keys.conf.",
        f"load_module {JS_MODULE};",
        "worker_processes 1;",
        f"pid {runtime_dir}/nginx.pid;",
        "error_log stderr notice;",
        "events { worker_connections 4096; }",
        "http {",
        "    server_tokens off;",
        f"    client_body_temp_path {runtime_dir}/client_body;",
        f"    proxy_temp_path {runtime_dir}/proxy;",
        f"    fastcgi_temp_path {runtime_dir}/fastcgi;",
        f"    uwsgi_temp_path {runtime_dir}/uwsgi;",
        f"    scgi_temp_path {runtime_dir}/scgi;",
        # Keys are long strings; the default bucket (a cache line) is too small for them.
        "    map_hash_bucket_size 256;",
        # The access log names the team, never the Authorization header.
        "    log_format gateway '$remote_addr team=$gateway_team \"$request\" $status $body_bytes_sent $request_time';",
        "    access_log /dev/stdout gateway;",
        f"    include {keys_dir}/{KEYS_FILE};",
        f"    js_import gateway_hold from {config_dir}/{hold.SCRIPT_FILE};",
        f"    js_var $gateway_holds {config_dir}/{hold.HOLDS_FILE};",
        f"    js_var $gateway_held_dir {runtime_dir}/{hold.HELD_DIR};",
        *_team_blocks(gateway.teams),
        "    limit_req_status 429;",
        "    limit_conn_status 429;",
        f"    upstream router {{ server 127.0.0.1:{router_port}; keepalive 32; }}",
        "    server {",
        f"        listen {listen};",
        f"        client_max_body_size {gateway.max_request_body_mib}m;",
        f"        client_body_buffer_size {gateway.max_request_body_mib}m;",
        "        client_body_in_single_buffer on;",
        "        default_type application/json;",
        f"        location = {HEALTH_PATH} {{ access_log off; return 200 '{{\"status\": \"ok\"}}'; }}",
        f"        location = {ROUTER_LIVENESS_PATH} {{ access_log off; proxy_pass http://router/liveness; }}",
        "        location = /v1/models {",
        f"            if ($gateway_team = \"\") {{ return 401 '{UNAUTHORIZED}'; }}",
        f"            alias {config_dir}/{MODELS_FILE};",
        "        }",
        f"        location ~ ^/v1/({paths})$ {{",
        f"            if ($gateway_team = \"\") {{ return 401 '{UNAUTHORIZED}'; }}",
        *_limits(gateway.teams),
        # Held while the model has no routable replica, then handed to @router (components/_gateway_hold.py).
        "            js_content gateway_hold.hold;",
        "        }",
        f"        location = {hold.ROUTER_MODELS_PATH} {{",
        "            internal;",
        "            access_log off;",
        "            proxy_pass http://router/v1/models;",
        "            proxy_pass_request_body off;",
        "            proxy_set_header Content-Length \"\";",
        "            proxy_set_header Authorization \"\";",
        "            proxy_http_version 1.1;",
        "            proxy_set_header Connection \"\";",
        # njs reads a subrequest's answer from memory; room for a long model list.
        "            subrequest_output_buffer_size 64k;",
        "        }",
        f"        location {hold.ROUTER_LOCATION} {{",
        *_router_proxy(timeout),
        "        }",
        f"        location / {{ return 404 '{NOT_FOUND}'; }}",
        "    }",
        "    server {",
        f"        listen {metrics_listen};",
        "        location = /metrics { access_log off; js_content gateway_hold.metrics; }",
        f"        location / {{ return 404 '{NOT_FOUND}'; }}",
        "    }",
        "}",
    ]
    return "\n".join(lines) + "\n"
