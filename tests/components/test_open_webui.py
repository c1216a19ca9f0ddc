"""Open WebUI: in front of the gateway with a key of its own, every model visible, credentials only in a Secret."""

from __future__ import annotations

import json
import runpy

from tests.conftest import PROJECT_DIR, recording_for
from vllm_eks.components import _open_webui_objects as objects
from vllm_eks.config.loader import read_stack_file
from vllm_eks.preview.cli import front_door_lines
from vllm_eks.preview.engine import run_program
from vllm_eks.preview.render import manifests, plan

PASSWORD = "canaryAdminPassword0123456789"
SESSION_KEY = "canarySessionKey0123456789abcdef"
WEBUI_KEY = "canaryWebUiKey0123456789abcdefghijklmnopqrst"


def _prod_with_secrets():
    config, secret_keys = read_stack_file(PROJECT_DIR / "Pulumi.prod.yaml").as_pulumi_config()
    config["vllm-eks:gatewayApiKeys"] = json.dumps({"platform": "p" * 40, "open-webui": WEBUI_KEY})
    config["vllm-eks:openWebuiSecrets"] = json.dumps({"adminPassword": PASSWORD, "secretKey": SESSION_KEY})
    return run_program(lambda: runpy.run_path(str(PROJECT_DIR / "__main__.py")), config=config, secret_keys=secret_keys)


def _deployment(recording) -> dict:
    return next(obj for obj in manifests(recording) if obj["kind"] == "Deployment" and obj["metadata"]["name"] == objects.NAME)


def test_open_webui_talks_only_to_the_gateway_offline_with_signup_off_and_every_model_visible():
    env = {item["name"]: item for item in _deployment(recording_for("prod"))["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["OPENAI_API_BASE_URLS"]["value"] == "http://vllm-gateway.vllm-gateway.svc.cluster.local/v1"
    assert env["OFFLINE_MODE"]["value"] == "true" and env["ENABLE_OLLAMA_API"]["value"] == "false"
    assert env["ENABLE_SIGNUP"]["value"] == "false" and env["BYPASS_MODEL_ACCESS_CONTROL"]["value"] == "true"
    for name in ("OPENAI_API_KEYS", "WEBUI_SECRET_KEY", "WEBUI_ADMIN_PASSWORD"):
        assert env[name]["valueFrom"]["secretKeyRef"]["name"] == objects.SECRET_NAME and "value" not in env[name]


def test_its_credentials_and_gateway_key_never_appear_in_clear():
    recording = _prod_with_secrets()
    rendered = json.dumps([plan(recording), manifests(recording), recording.outputs, recording.warnings])
    for value in (PASSWORD, SESSION_KEY, WEBUI_KEY):
        assert value not in rendered
    secret = recording.one("kubernetes:core/v1:Secret", "open-webui-secret")
    assert secret.inputs["stringData"] == {"adminPassword": "[secret]", "gatewayKey": "[secret]", "secretKey": "[secret]"}


def test_one_pod_with_its_own_claim_replaced_not_rolled():
    deployment = _deployment(recording_for("prod"))
    assert deployment["spec"]["replicas"] == 1 and deployment["spec"]["strategy"] == {"type": "Recreate"}
    volumes = deployment["spec"]["template"]["spec"]["volumes"]
    assert {"name": "data", "persistentVolumeClaim": {"claimName": objects.DATA_CLAIM}} in volumes
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["securityContext"]["runAsNonRoot"] and container["securityContext"]["readOnlyRootFilesystem"]
    assert container["startupProbe"]["httpGet"]["path"] == "/health"


def test_preview_prints_the_one_gateway_url_and_open_webui_at_their_https_hosts_when_exposed():
    lines = front_door_lines(recording_for("prod"))
    assert lines[2:] == [
        "  gateway (OpenAI-compatible, every model): https://api.example.com/v1",
        "  Open WebUI: https://openwebui.example.com",
    ]
    assert front_door_lines(recording_for("dev")) == []


def test_built_in_tools_are_off_for_every_model_unless_the_stack_turns_them_on():
    # prod's llama-3-3-70b has no toolCallParser: vLLM would answer every chat carrying Open WebUI's tools with 400.
    env = {item["name"]: item.get("value") for item in
           _deployment(recording_for("prod"))["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert json.loads(env["DEFAULT_MODEL_METADATA"]) == {"capabilities": {"builtin_tools": False}}
    from vllm_eks.config.gateway import OpenWebUiConfig
    on = objects.settings(OpenWebUiConfig(builtinTools=True), "http://gateway/v1")
    assert json.loads(on["DEFAULT_MODEL_METADATA"]) == {"capabilities": {"builtin_tools": True}}


def test_built_in_tools_are_allowed_once_every_model_has_a_tool_call_parser():
    from vllm_eks.config.gateway_rules import gateway_issues
    from vllm_eks.config.loader import load_stack_file
    stack = load_stack_file(PROJECT_DIR / "Pulumi.prod.yaml")
    with_tools = stack.model_copy(update={"open_webui": stack.open_webui.model_copy(update={"builtin_tools": True})})
    [issue] = [i for i in gateway_issues(with_tools) if i.path == "openWebui.builtinTools"]
    assert issue.message.endswith("from a model without a tool-call parser: llama-3-3-70b; set toolCallParser on it, "
                                  "or openWebui.builtinTools: false")
    parsed = with_tools.model_copy(update={"models": [m.model_copy(update={"tool_call_parser": m.tool_call_parser or "llama3_json"})
                                                      for m in with_tools.models]})
    assert [i for i in gateway_issues(parsed) if i.path == "openWebui.builtinTools"] == []


def test_the_end_to_end_stage_takes_the_built_in_tools_setting_from_the_render(tmp_path):
    from e2e.webui import rendered_env, webui_env
    rendered = rendered_env(manifests(recording_for("prod")))
    env = webui_env(gateway_url="http://127.0.0.1:1/v1", api_key="k", admin_email="a@b.c", admin_password="p",
                    secret_key="s", data_dir=tmp_path / "data", rendered=rendered)
    assert env["DEFAULT_MODEL_METADATA"] == rendered["DEFAULT_MODEL_METADATA"]
    assert "DEFAULT_MODEL_METADATA" not in webui_env(gateway_url="u", api_key="k", admin_email="a@b.c", admin_password="p",
                                                     secret_key="s", data_dir=tmp_path / "data")
