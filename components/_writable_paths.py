"""Where a vLLM container may write on a read-only root filesystem: emptyDir scratch, the working
directory and the environment that points libraries at them.

- /tmp and /var/tmp are emptyDirs, unless the image keeps vLLM itself under /tmp (the 0.7.2 Neuron
  DLC installs it editable from /tmp/upstreaming-to-vllm), where an emptyDir would hide it: then
  scratch moves to the working directory and TMPDIR and NxD Inference's BASE_COMPILE_WORK_DIR
  (default /tmp/nxd_model/, neuronx-distributed-inference models/application_base.py @ v0.6.10598)
  follow it (config/image_catalog.py says which images).
- Backends that write relative to the working directory (AcceleratorTraits.working_dir: NxD
  Inference's `local-models/`) run in an emptyDir of their own.
- What vLLM and its libraries would write under $HOME is redirected, so nothing is mounted over
  /root/.cache (which would hide weights baked into image-served models). Usage stats are off.
"""

from __future__ import annotations

from typing import Any

from ..config.accelerators import ACCELERATORS
from ..config.image_catalog import neuron_image
from ..config.model import HF_CACHE_PATH, ModelConfig

SCRATCH_MOUNTS = {"tmp": "/tmp", "var-tmp": "/var/tmp"}
WORK_VOLUME = "work"
"""The emptyDir a container runs in when its backend writes relative to the working directory."""


def working_dir(model: ModelConfig) -> str | None:
    return ACCELERATORS[model.accelerator].working_dir


def tmp_holds_vllm(model: ModelConfig) -> bool:
    facts = neuron_image(model.image)
    return facts is not None and facts.tmp_holds_vllm


def scratch_dir(model: ModelConfig) -> str:
    """/tmp, or the working directory when the image keeps vLLM under /tmp."""
    work = working_dir(model)
    return work if work is not None and tmp_holds_vllm(model) else "/tmp"


def scratch_volumes(model: ModelConfig) -> dict[str, str]:
    """emptyDir volume name -> mount path."""
    mounts = dict(SCRATCH_MOUNTS)
    if tmp_holds_vllm(model):
        del mounts["tmp"]
    work = working_dir(model)
    if work is not None:
        mounts[WORK_VOLUME] = work
    return mounts


def runtime_env(model: ModelConfig) -> dict[str, str]:
    scratch = scratch_dir(model)
    env = {
        "HF_MODULES_CACHE": f"{scratch}/hf-modules",  # remote-code modules (--trust-remote-code)
        "VLLM_CACHE_ROOT": f"{scratch}/vllm-cache",
        "VLLM_CONFIG_ROOT": f"{scratch}/vllm-config",
        "TRITON_CACHE_DIR": f"{scratch}/triton-cache",
        "VLLM_NO_USAGE_STATS": "1",
        "DO_NOT_TRACK": "1",
        # The backend's own libraries (GPU: FlashInfer's workspace, the CUDA and PyTorch kernel caches).
        **{name: f"{scratch}/{subdir}" for name, subdir in ACCELERATORS[model.accelerator].runtime_env},
    }
    if scratch != "/tmp":
        env = {"TMPDIR": scratch, "BASE_COMPILE_WORK_DIR": f"{scratch}/nxd_model/", **env}
    return env


def hub_env(model: ModelConfig) -> dict[str, str]:
    """Hub models own the HF cache (the PVC at HF_CACHE_PATH), so the rest of ~/.cache can move to
    scratch. Image models keep the image's own HF_HOME and cache layout, which their weights may be in."""
    return {"HF_HOME": HF_CACHE_PATH, "XDG_CACHE_HOME": f"{scratch_dir(model)}/cache"}


def working_dir_fields(model: ModelConfig) -> dict[str, Any]:
    work = working_dir(model)
    return {} if work is None else {"workingDir": work}
