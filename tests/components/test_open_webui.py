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
