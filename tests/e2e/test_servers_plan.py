"""The e2e harness's pure part: how the dev stack's rendered Deployments become loopback servers.

No vLLM here: these pin what e2e/servers.py starts in the e2e stage of .ci/run.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from boot.pod import plan_deployments
from e2e.servers import BOOT_VENV, HOST, plan_servers
from vllm_eks.preview.render import manifests

MODEL_DIR = Path("/models/tiny")


def _servers(dev_recording, tmp_path: Path):
    objects = manifests(dev_recording)
    plans, _ = plan_deployments("dev", objects, home_for_uid=lambda uid: "/root")
    templates = {"tool_chat_template_llama3.1_json.jinja": Path("/templates/llama.jinja")}
    return objects, plan_servers("dev", objects, plans, model_dir=MODEL_DIR, templates=templates, work=tmp_path,
                                 ports=[18001, 18002])


def test_each_dev_deployment_becomes_one_server_serving_its_rendered_name_on_loopback(dev_recording, tmp_path):
    objects, servers = _servers(dev_recording, tmp_path)
    deployments = {o["metadata"]["name"] for o in objects if o["kind"] == "Deployment" and o["metadata"]["namespace"] == "vllm"}
    assert {s.deployment for s in servers} == deployments
    for server in servers:
        assert server.served_name == server.deployment  # the dev stack sets servedModelName to the model's name
        assert server.argv[-2:] == [f"--host={HOST}", f"--port={server.port}"]
        assert server.base_url.startswith("http://127.0.0.1:")
        assert server.argv[0] == str(BOOT_VENV / "bin" / "vllm") and server.argv[1] == "serve"
        assert server.argv[2] == str(MODEL_DIR)


def test_the_cpu_drops_are_gone_and_every_other_rendered_flag_is_kept(dev_recording, tmp_path):
    objects, servers = _servers(dev_recording, tmp_path)
    for server in servers:
        container = server.deployment_object["spec"]["template"]["spec"]["containers"][0]
        rendered = [a for a in container["args"][1:] if not a.startswith("--chat-template")]
        dropped = {d.split(" (")[0] for d in server.dropped}
        assert "--tensor-parallel-size=2" in dropped and "--gpu-memory-utilization=0.90" in dropped
        assert [a for a in rendered if a not in dropped] == [a for a in server.argv[3:-2] if not a.startswith("--chat-template")]


def test_a_chat_template_path_from_the_image_is_replaced_by_a_local_copy(dev_recording, tmp_path):
    _, servers = _servers(dev_recording, tmp_path)
    llama = next(s for s in servers if s.deployment.startswith("llama"))
    assert "--chat-template=/templates/llama.jinja" in llama.argv


def test_pod_scratch_paths_move_under_the_servers_own_directory(dev_recording, tmp_path):
    _, servers = _servers(dev_recording, tmp_path)
    for server in servers:
        assert server.env["VLLM_CACHE_ROOT"] == str(tmp_path / server.deployment / "tmp" / "vllm-cache")
        assert server.env["HOME"].startswith(str(tmp_path)) and server.env["HF_HUB_OFFLINE"] == "1"


def test_each_server_knows_the_service_that_selects_its_pods(dev_recording, tmp_path):
    _, servers = _servers(dev_recording, tmp_path)
    for server in servers:
        assert server.service_object is not None
        assert server.service_object["metadata"]["name"] == server.deployment
        assert [p["name"] for p in server.service_object["spec"]["ports"]] == ["http"]


def test_vllms_ipc_sockets_fit_a_unix_socket_path_however_deep_the_clone_is(dev_recording, tmp_path):
    deep = tmp_path / ("a-long-directory-name-for-a-clone-" * 4)
    _, servers = _servers(dev_recording, deep)
    for server in servers:
        # vLLM binds ipc://$TMPDIR/<uuid4> (VLLM_RPC_BASE_PATH defaults to tempfile.gettempdir()); sun_path holds 107 bytes.
        socket_path = f"{server.env['TMPDIR']}/{uuid.uuid4()}"
        assert len(socket_path.encode()) <= 107, socket_path
        assert server.env["TMPDIR"] != next(s for s in servers if s is not server).env["TMPDIR"]
