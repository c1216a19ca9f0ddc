"""The gateway stage's pure part: how the rendered gateway becomes two loopback processes.

No router, NGINX or Open WebUI here: these pin what e2e/gateway_plan.py and e2e/webui.py hand to
the processes the gateway stage of .ci/run starts. The objects below have the rendered gateway's
shape (components/_gateway_objects.py, components/_gateway_proxy.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e.gateway import GATEWAY_KEYS, OVERLAY_STACK, overlay_project
from e2e.gateway_plan import PlanError, matches, plan, router_argv, teams
from e2e.webui import webui_env

RENDERED_ROUTER = [
    "vllm-router", "--host", "127.0.0.1", "--port", "30000", "--enable-igw", "--policy", "cache_aware",
    "--service-discovery", "--selector", "app.kubernetes.io/component=model-server", "app.kubernetes.io/part-of=vllm-eks",
    "--service-discovery-port", "8000", "--service-discovery-namespace", "vllm", "--max-concurrent-requests", "512",
    "--retry-max-retries", "3", "--prometheus-host", "0.0.0.0", "--prometheus-port", "29000", "--log-level", "info",
]
NGINX_CONF = """pid /tmp/nginx.pid;
http {
    proxy_temp_path /tmp/proxy;
    include /etc/gateway/keys/keys.conf;
    map $gateway_team $team_platform { "platform" "platform"; default ""; }
    limit_req_zone $team_platform zone=rate_platform:1m rate=600r/m;
    map $gateway_team $team_open_webui { "open-webui" "open-webui"; default ""; }
    limit_req_zone $team_open_webui zone=rate_open_webui:1m rate=300r/m;
    upstream router { server 127.0.0.1:30000; keepalive 32; }
    server {
        listen 8080;
        location = /v1/models { alias /etc/gateway/config/models.json; }
        location ~ ^/v1/(chat/completions|completions)$ {
            limit_req zone=rate_platform burst=100 nodelay;
            limit_conn conn_platform 64;
            limit_req zone=rate_open_webui burst=50 nodelay;
            proxy_pass http://router;
        }
    }
}
"""
LABELS = {"app.kubernetes.io/component": "gateway", "app.kubernetes.io/name": "vllm-gateway"}


def rendered_gateway() -> list[dict[str, Any]]:
    meta = {"namespace": "vllm-gateway", "labels": LABELS}
    proxy = {"name": "proxy", "command": ["nginx"], "args": ["-c", "/etc/gateway/config/nginx.conf", "-g", "daemon off;"],
             "ports": [{"containerPort": 8080, "name": "http"}], "securityContext": {"runAsUser": 65532, "runAsGroup": 65532},
             "volumeMounts": [{"name": "config", "mountPath": "/etc/gateway/config"}, {"name": "keys", "mountPath": "/etc/gateway/keys"},
                              {"name": "tmp", "mountPath": "/tmp"}]}
    router = {"name": "router", "command": RENDERED_ROUTER[:1], "args": RENDERED_ROUTER[1:]}
    volumes = [{"name": "config", "configMap": {"name": "vllm-gateway-config"}},
               {"name": "keys", "secret": {"secretName": "vllm-gateway-keys"}}, {"name": "tmp", "emptyDir": {}}]
    return [
        {"kind": "Deployment", "metadata": {"name": "vllm-gateway", **meta},
         "spec": {"template": {"metadata": {"labels": LABELS}, "spec": {"containers": [proxy, router], "volumes": volumes}}}},
        {"kind": "ConfigMap", "metadata": {"name": "vllm-gateway-config", **meta},
         "data": {"nginx.conf": NGINX_CONF, "models.json": '{"object": "list", "data": []}\n'}},
        {"kind": "Secret", "metadata": {"name": "vllm-gateway-keys", **meta}, "stringData": {"keys.conf": "[secret]"}},
    ]


def _plan(work: Path):
    return plan(rendered_gateway(), work=work, ports={"proxy": 41001, "router": 41002, "metrics": 41003},
                router_executable="/venv/bin/vllm-router", keys_text=lambda names: f"# keys for {names}\n")


def test_the_router_keeps_every_rendered_flag_but_discovery_and_its_ports_move_to_loopback():
    argv, notes = router_argv(RENDERED_ROUTER, executable="/venv/bin/vllm-router", port=41002, metrics_port=41003)
    assert argv == ["/venv/bin/vllm-router", "--host", "127.0.0.1", "--port", "41002", "--enable-igw", "--policy", "cache_aware",
                    "--max-concurrent-requests", "512", "--retry-max-retries", "3", "--prometheus-host", "127.0.0.1",
                    "--prometheus-port", "41003", "--log-level", "info"]
    assert any("--service-discovery" in note and "POST /workers" in note for note in notes)


def test_nginx_conf_runs_as_rendered_with_only_paths_listen_and_upstream_rewritten():
    tmp_path = Path("/repo/build/e2e/gateway")  # the plan is pure: nothing is written there
    gateway = _plan(tmp_path)
    rewritten = [line for line in NGINX_CONF.splitlines() if any(k in line for k in ("/tmp/", "/etc/gateway/", "listen", "127.0.0.1:"))]
    kept = [line for line in NGINX_CONF.splitlines() if line not in rewritten]
    assert [line for line in gateway.nginx_conf.splitlines() if line in kept] == kept
    assert f"pid {tmp_path}/tmp/nginx.pid;" in gateway.nginx_conf
    assert f"include {tmp_path}/keys/keys.conf;" in gateway.nginx_conf
    assert "listen 127.0.0.1:41001;" in gateway.nginx_conf and "server 127.0.0.1:41002;" in gateway.nginx_conf
    assert "/etc/gateway" not in gateway.nginx_conf and " /tmp/" not in gateway.nginx_conf
    assert gateway.proxy_argv == ["nginx", "-c", f"{tmp_path}/config/nginx.conf", "-g", "daemon off;"]
    assert gateway.proxy_user == (65532, 65532)


def test_a_clone_under_tmp_keeps_its_own_paths_whole():
    gateway = _plan(Path("/tmp/ci/build/e2e/gateway"))
    assert "include /tmp/ci/build/e2e/gateway/keys/keys.conf;" in gateway.nginx_conf
    assert "pid /tmp/ci/build/e2e/gateway/tmp/nginx.pid;" in gateway.nginx_conf


def test_the_files_nginx_reads_are_the_config_maps_and_a_keys_file_for_every_team(tmp_path):
    gateway = _plan(tmp_path)
    assert set(gateway.files) == {f"{tmp_path}/config/nginx.conf", f"{tmp_path}/config/models.json", f"{tmp_path}/keys/keys.conf"}
    assert gateway.files[f"{tmp_path}/keys/keys.conf"] == "# keys for ['platform', 'open-webui']\n"
    assert gateway.files[f"{tmp_path}/config/nginx.conf"] == gateway.nginx_conf


def test_teams_and_their_burst_come_from_nginx_conf():
    assert [(t.name, t.rate, t.burst, t.max_connections) for t in teams(NGINX_CONF)] == [
        ("platform", "600r/m", 100, 64), ("open-webui", "300r/m", 50, None)]


def test_a_render_without_the_gateway_says_so():
    with pytest.raises(PlanError, match="is the gateway enabled"):
        plan([d for d in rendered_gateway() if d["kind"] != "Deployment"], work=Path("/w"), ports={}, router_executable="x",
             keys_text=lambda names: "")


def test_an_nginx_conf_of_another_shape_fails_loudly_instead_of_running_something_else(tmp_path):
    objects = rendered_gateway()
    objects[1]["data"]["nginx.conf"] = NGINX_CONF.replace("listen 8080;", "listen 9090;")
    with pytest.raises(PlanError, match="listen 8080"):
        plan(objects, work=tmp_path, ports={"proxy": 1, "router": 2, "metrics": 3}, router_executable="x", keys_text=lambda n: "")


def test_discovery_picks_pods_carrying_every_selector_label_in_the_watched_namespace():
    selector = {"app.kubernetes.io/component": "model-server", "app.kubernetes.io/part-of": "vllm-eks"}
    pod = {**selector, "app.kubernetes.io/name": "qwen3-8b-fp8-neuron"}
    assert matches(selector, "vllm", pod, "vllm")
    assert matches(selector, None, pod, "elsewhere")
    assert not matches(selector, "vllm", pod, "elsewhere")
    assert not matches(selector, "vllm", {**pod, "app.kubernetes.io/component": "compile-job"}, "vllm")


def test_open_webui_gets_the_rendered_env_with_the_gateway_key_and_paths_of_this_machine(tmp_path):
    rendered = {"OFFLINE_MODE": "true", "OPENAI_API_BASE_URLS": "http://vllm-gateway.vllm-gateway.svc.cluster.local/v1",
                "DATA_DIR": "/app/backend/data", "HOME": "/tmp", "BYPASS_MODEL_ACCESS_CONTROL": "true"}
    env = webui_env(gateway_url="http://127.0.0.1:41001/v1", api_key="sk-e2e", admin_email="admin@example.com",
                    admin_password="pw", secret_key="s", data_dir=tmp_path / "data", rendered=rendered)
    assert env["OPENAI_API_BASE_URLS"] == "http://127.0.0.1:41001/v1" and env["OPENAI_API_KEYS"] == "sk-e2e"
    assert env["DATA_DIR"] == str(tmp_path / "data") and env["HOME"] == str(tmp_path / "home")
    assert env["BYPASS_MODEL_ACCESS_CONTROL"] == "true"  # rendered values the stage has no reason to change stay
    assert env["OFFLINE_MODE"] == "true" and env["ENABLE_OLLAMA_API"] == "false" and env["ENABLE_SIGNUP"] == "false"
    assert env["WEBUI_ADMIN_EMAIL"] == "admin@example.com" and env["WEBUI_ADMIN_PASSWORD"] == "pw"


def test_the_gateway_blocks_of_prod_are_laid_over_a_stack_that_does_not_enable_it(tmp_path):
    project, taken = overlay_project("dev", tmp_path)
    stack = yaml.safe_load((project / f"Pulumi.{OVERLAY_STACK}.yaml").read_text())["config"]
    dev = yaml.safe_load((Path(__file__).resolve().parents[2] / "Pulumi.dev.yaml").read_text())["config"]
    assert set(taken) <= set(GATEWAY_KEYS)
    assert {k: v for k, v in stack.items() if k not in taken} == {k: v for k, v in dev.items() if k not in taken}
    assert (project / "Pulumi.yaml").resolve() == (Path(__file__).resolve().parents[2] / "Pulumi.yaml")


def test_nginx_held_request_metrics_port_moves_to_loopback_too(tmp_path):
    objects = rendered_gateway()
    objects[0]["spec"]["template"]["spec"]["containers"][0]["ports"].append({"containerPort": 9113, "name": "hold-metrics"})
    objects[1]["data"]["nginx.conf"] = NGINX_CONF.replace("}\n}\n", "}\n    server { listen 9113; }\n}\n")
    gateway = plan(objects, work=tmp_path, ports={"proxy": 1, "router": 2, "metrics": 3, "hold_metrics": 4},
                   router_executable="x", keys_text=lambda n: "")
    assert "listen 127.0.0.1:4;" in gateway.nginx_conf and "listen 9113;" not in gateway.nginx_conf
    assert gateway.hold_metrics_port == 4
