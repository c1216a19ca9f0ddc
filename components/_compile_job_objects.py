"""One compile per model: a Job that compiles a hub Neuron model's graphs before its replicas start.

Why: every replica of a `source: hub` Neuron model starts with an empty NEURON_COMPILED_ARTIFACTS
directory on the shared Neuron cache and compiles into it at once, racing writers on model.pt
(vLLM's NxD Inference loader compiles whenever loading from that directory fails:
upstreaming-to-vllm vllm/model_executor/model_loader/neuronx_distributed.py `load_weights`
@ dd417b31). The Job runs the replica's own container (image, args, env, mounts, resources, user,
scheduler) once, and the Deployment depends on it, so replicas only ever load finished graphs.

How it knows: NxD Inference's `compile` saves neuron_config.json first and model.pt (the traced
graphs, `COMPILED_MODEL_FILE_NAME`) only once tracing and compiling succeeded
(neuronx-distributed-inference models/application_base.py @ v0.6.10598), so model.pt in the
directory means done: the Job exits at once, and a later `pulumi up` costs nothing. Otherwise it
starts `vllm serve` with the replica's arguments, waits for /health (vLLM serves only after the
graphs are compiled and loaded), stops it and exits 0; a server that exits first fails the Job.

How `pulumi up` waits: pulumi-kubernetes awaits a Job until its `Complete` condition is True and
fails it on `Failed` (provider/pkg/await/job.go @ v4.32.0, `DefaultJobTimeoutMins = 10`). Its timer
restarts on every Job or pod event, and the provider's informers resync every minute
(await/informers/factory.go), so customTimeouts (set from compile_timeout_minutes) never end the wait of
a running Job: the hard stop is the Job's own `activeDeadlineSeconds`, the same budget, after which the
Job controller fails it (DeadlineExceeded) and the step with it. The Job's
`spec.template` is immutable and forces a replacement (provider/pkg/provider/diff.go `job`); its
name carries the compiled-graph path's digest, so a compile setting change is a new Job (and a new
directory), created before the old one is deleted; any other template change keeps the name, and the
provider then deletes the old Job first (provider.go `Diff`, `deleteBeforeReplace` when the new name
equals the old).
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from ..config.model import ModelConfig
from ..config.neuron_scale_out import compile_job_fills_cache
from ..config.platform.node_groups import NodeGroupConfig
from . import _deployment_objects as deployment
from . import _scanner_exceptions as scanner_exceptions

COMPILED_MODEL_FILE = "model.pt"
IMAGE_PULL_MINUTES = 10
"""Allowance for pulling a multi-GB Neuron image before the compile starts."""
BACKOFF_LIMIT = 1
"""One retry: a compile that fails twice has a cause a third run will not fix."""

COMPILE_SCRIPT = """\
artifacts="$NEURON_COMPILED_ARTIFACTS"
if [ -f "$artifacts/{done}" ]; then
  echo "compiled graphs found in $artifacts; nothing to compile"
  exit 0
fi
echo "compiling into $artifacts"
vllm serve "$@" &
server=$!
until python3 -c 'import urllib.request; urllib.request.urlopen("http://127.0.0.1:{port}/health", timeout=5)' 2>/dev/null; do
  if ! kill -0 "$server" 2>/dev/null; then
    wait "$server"; status=$?
    echo "vllm exited with status $status before it served: the compile failed" >&2
    exit $(( status == 0 ? 1 : status ))
  fi
  sleep 10
done
echo "compiled into $artifacts; stopping the server"
kill "$server"
wait "$server" || true
"""

Object = dict[str, Any]


def needs_compile_job(model: ModelConfig) -> bool:
    """Hub models compiled on first start with more than one replica, which would race, or autoscaled, whose new
    replicas must find compiled graphs (config/neuron_scale_out.py)."""
    return compile_job_fills_cache(model)


def compile_job_name(model: ModelConfig) -> str:
    """`<model>-compile-<digest of the compiled-graph path>`, at most 63 characters."""
    digest = hashlib.sha256(deployment.neuron_compiled_artifacts_path(model).encode()).hexdigest()[:8]
    return f"{model.name[:46].rstrip('-')}-compile-{digest}"


def compile_timeout_minutes(model: ModelConfig) -> int:
    """The Job's deadline and `pulumi up`'s wait: one start's budget (download, compile, load) plus the image pull."""
    return math.ceil(model.startup_timeout_seconds / 60) + IMAGE_PULL_MINUTES


def compile_job_object(model: ModelConfig, group: NodeGroupConfig, selector: dict[str, str] | None = None,
                       scheduler: str | None = deployment.DERIVED) -> Object:
    pod = deployment.pod_spec(model, group, selector, scheduler)
    [container] = pod["containers"]
    for key in ("startupProbe", "readinessProbe", "livenessProbe", "ports"):
        container.pop(key, None)  # nothing serves: the Job ends when the graphs are compiled
    container["name"] = "compile"
    container["command"] = ["/bin/bash", "-c", COMPILE_SCRIPT.format(done=COMPILED_MODEL_FILE, port=model.port), "compile"]
    pod["restartPolicy"] = "Never"
    labels = {**deployment.model_labels(model), "app.kubernetes.io/component": "neuron-compile"}
    labels.pop("app")  # the Service selects `app`; a compile pod must never receive traffic
    annotations = scanner_exceptions.skip_annotations(deployment.model_scanner_exceptions(model))
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": compile_job_name(model), "namespace": model.namespace, "labels": labels,
                     "annotations": annotations},
        "spec": {
            "backoffLimit": BACKOFF_LIMIT,
            "activeDeadlineSeconds": compile_timeout_minutes(model) * 60,
            "template": {"metadata": {"labels": labels}, "spec": pod},
        },
    }
