"""One compile per hub Neuron model: a Job runs the replica's container once before the replicas, skips
when model.pt is already there, and `pulumi up` waits for it (components/_compile_job_objects.py).
The Job's script is run here for real, under bash, against a stand-in `vllm` on PATH."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import recording_for
from vllm_eks.components import _compile_job_objects as compile_job
from vllm_eks.components import _deployment_objects as deployment
from vllm_eks.config.model import ModelConfig
from vllm_eks.config.platform.node_groups import NodeGroupConfig

INF2 = NodeGroupConfig(name="inf2", instance_type="inf2.24xlarge")


def _model(**overrides) -> ModelConfig:
    fields = dict(name="llama", accelerator="neuron", node_group="inf2", image="example/vllm-neuron:1", source="hub",
                  model="meta-llama/Llama-3.1-8B-Instruct", tensor_parallel_size=4, max_num_seqs=8, max_model_len=8192,
                  replicas=3, startup_timeout_seconds=3600, resources={"cpu": "24", "memory": "96Gi"})
    return ModelConfig.model_validate({**fields, **overrides})


@pytest.mark.parametrize(("change", "needed"), [({}, True), ({"replicas": 1}, False), ({"source": "image", "model": "/m"}, False)])
def test_only_hub_neuron_models_with_replicas_to_race_get_a_compile_job(change, needed):
    assert compile_job.needs_compile_job(_model(**change)) is needed


def test_the_job_runs_the_replicas_container_without_probes_ports_or_the_services_label():
    job = compile_job.compile_job_object(_model(), INF2)
    replica = deployment.deployment_object(_model(), INF2)["spec"]["template"]["spec"]
    pod = job["spec"]["template"]["spec"]
    [container], [served] = pod["containers"], replica["containers"]
    for key in ("image", "args", "env", "volumeMounts", "resources", "securityContext", "workingDir"):
        assert container[key] == served[key], key
    assert not {"startupProbe", "readinessProbe", "livenessProbe", "ports"} & set(container)
    assert (pod["restartPolicy"], pod["schedulerName"], pod["volumes"]) == ("Never", "my-scheduler", replica["volumes"])
    assert "app" not in job["spec"]["template"]["metadata"]["labels"]
    assert (job["spec"]["backoffLimit"], job["spec"]["activeDeadlineSeconds"]) == (1, (60 + 10) * 60)


def test_a_compile_setting_change_names_a_new_job():
    assert compile_job.compile_job_name(_model()).startswith("llama-compile-")
    assert compile_job.compile_job_name(_model(max_num_seqs=4)) != compile_job.compile_job_name(_model())
    assert len(compile_job.compile_job_name(_model(name="m" * 63))) <= 63


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(tmp_path: Path, fake_vllm: str, port: int, artifacts_exist: bool = False) -> subprocess.CompletedProcess:
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    if artifacts_exist:
        (artifacts / "model.pt").write_text("graphs")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "vllm").write_text(f"#!{sys.executable}\n" + textwrap.dedent(fake_vllm))
    (bin_dir / "vllm").chmod(0o755)
    (bin_dir / "python3").symlink_to(sys.executable)
    script = compile_job.COMPILE_SCRIPT.format(done="model.pt", port=port)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "NEURON_COMPILED_ARTIFACTS": str(artifacts),
           "MARKER": str(tmp_path / "started"), "PORT": str(port)}
    return subprocess.run(["bash", "-c", script, "compile", "serve", "meta-llama/Llama-3.1-8B-Instruct"],
                          env=env, capture_output=True, text=True, timeout=60)


SERVES = """
import http.server, os, pathlib, time
pathlib.Path(os.environ["MARKER"]).write_text("started")
time.sleep(1)  # "compiling"
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Health).serve_forever()
"""


def test_the_script_skips_when_the_graphs_are_there(tmp_path):
    result = _run(tmp_path, SERVES, _free_port(), artifacts_exist=True)
    assert result.returncode == 0 and "nothing to compile" in result.stdout
    assert not (tmp_path / "started").exists()


def test_the_script_compiles_until_vllm_serves_then_stops_it_and_succeeds(tmp_path):
    result = _run(tmp_path, SERVES, _free_port())
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "started").exists() and "stopping the server" in result.stdout


@pytest.mark.parametrize(("code", "expected"), [(3, 3), (0, 1)])
def test_a_vllm_that_exits_before_serving_fails_the_job(tmp_path, code, expected):
    result = _run(tmp_path, f"import sys; sys.exit({code})\n", _free_port())
    assert result.returncode == expected
    assert f"vllm exited with status {code} before it served: the compile failed" in result.stderr


def test_prod_llama_waits_for_its_compile_job_with_a_compile_sized_timeout():
    prod_recording = recording_for("prod")
    [job] = prod_recording.by_type("kubernetes:batch/v1:Job")
    assert job.name == "llama-3-1-8b-neuron-compile"
    assert job.custom_timeouts == {"create": "70m", "update": "70m"}
    deployment_resource = prod_recording.one("kubernetes:apps/v1:Deployment", "llama-3-1-8b-neuron-deployment")
    assert job.urn in deployment_resource.dependencies
