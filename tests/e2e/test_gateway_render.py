"""The gateway stage against the real renders: prod's gateway, and the servers' stack with prod's
gateway blocks laid over it, plan into the same loopback processes (only the model list differs)."""

from __future__ import annotations

import json
from pathlib import Path

from e2e.gateway import OVERLAY_STACK, _gateway_parts, keys_text, overlay_project
from e2e.gateway_plan import matches, plan
from e2e.webui import rendered_env
from tests.conftest import recording_for
from vllm_eks.preview.render import manifests
from vllm_eks.preview.runner import run_stack

WORK = Path("/repo/build/e2e/gateway")   # the plan is pure: nothing is written there
PORTS = {"proxy": 41001, "router": 41002, "metrics": 41003, "hold_metrics": 41004}


def _prod():
    return manifests(recording_for("prod"))


def test_prods_gateway_plans_with_a_key_for_every_team_and_no_cluster_path_left():
    keys: dict[str, str] = {}

    def make(teams: list[str]) -> str:
        text, made = keys_text(teams)
        keys.update(made)
        return text

    gateway = plan(_prod(), work=WORK, ports=PORTS, router_executable="/venv/bin/vllm-router", keys_text=make)
    assert [t.name for t in gateway.teams] == sorted(keys, key=[t.name for t in gateway.teams].index)
    assert all(f'"Bearer {key}" "{team}";' in gateway.files[str(gateway.keys_path)] for team, key in keys.items())
    assert "/etc/gateway" not in gateway.nginx_conf and "listen 127.0.0.1:41001;" in gateway.nginx_conf
    assert "listen 127.0.0.1:41004;" in gateway.nginx_conf and f"js_var $gateway_held_dir {WORK}/tmp/held-requests;" in gateway.nginx_conf
    assert not any(a.startswith("--service-discovery") or a == "--selector" for a in gateway.router_argv)
    assert gateway.selector and gateway.proxy_user is not None


def test_the_servers_pods_are_what_prods_discovery_selector_picks(dev_recording):
    gateway = plan(_prod(), work=WORK, ports=PORTS, router_executable="x", keys_text=lambda teams: "")
    pods = [o for o in manifests(dev_recording) if o["kind"] == "Deployment"]
    picked = [p["metadata"]["name"] for p in pods
              if matches(gateway.selector, gateway.discovery_namespace, p["spec"]["template"]["metadata"]["labels"], p["metadata"]["namespace"])]
    assert sorted(picked) == ["llama-3-1-8b-int8-neuron", "qwen3-8b-fp8-neuron"]


def test_dev_with_prods_gateway_blocks_renders_prods_nginx_conf_and_router_flags_with_devs_models(tmp_path):
    project, taken = overlay_project("dev", tmp_path)
    overlay = manifests(run_stack(project, OVERLAY_STACK))
    assert "vllm-eks:gateway" in taken
    assert _gateway_parts(overlay) == _gateway_parts(_prod())
    models = next(o for o in overlay if o["kind"] == "ConfigMap" and "models.json" in o.get("data", {}))["data"]["models.json"]
    assert [m["id"] for m in json.loads(models)["data"]] == ["llama-3-1-8b-int8-neuron", "qwen3-8b-fp8-neuron"]


def test_open_webuis_rendered_env_is_read_without_its_secrets():
    env = rendered_env(_prod())
    assert env["OFFLINE_MODE"] == "true" and env["ENABLE_OLLAMA_API"] == "false"
    assert "OPENAI_API_KEYS" not in env and "WEBUI_ADMIN_PASSWORD" not in env  # from the Secret, supplied by the stage
