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
- What a start rebuilds and a later replica can reuse (AcceleratorTraits.persisted_cache_env: on GPUs
  vLLM's $VLLM_CACHE_ROOT, Triton's and inductor's caches) lives on the namespace's `huggingface-cache` claim
  (EFS, ReadWriteMany) instead, in a directory keyed by the config (`persisted_cache_sub_path`), mounted at
  PERSISTED_CACHE_PATH with a subPath. Image-served models mount it too: the claim exists in every model
  namespace, and a subPath mount at a path of its own hides nothing the image holds. These caches are shared
  safely by concurrent pods: Triton and inductor write a temporary file and rename it over the entry
  (triton runtime/cache.py FileCacheManager.put, 3.9.0; torch/_inductor/codecache.py write_atomic, 2.13),
  inductor's FileLocks are advisory locks, which EFS provides across clients ("All locks in Amazon EFS are
  advisory", docs.aws.amazon.com/efs/latest/ug/nfs4-unsupported-features.html), as the huggingface_hub
  download locks on the same claim already need. One exception: vLLM writes its compile index
  torch_compile_cache/<hash>/rank_*/vllm_compile_cache.py in place, open("w") (compilation/backends.py
  CompilerManager.save_to_file, 0.10.2 and 0.26.0), so a pod reading it while another writes it can fail to
  parse it and restart once; docs/autoscaling.md says so.
- Per pod, on emptyDir: TMPDIR scratch (vLLM's ZMQ IPC sockets go to tempfile.gettempdir(), vllm
  envs.py VLLM_RPC_BASE_PATH @ 0.10.2), VLLM_CONFIG_ROOT (usage-stats files only, vllm usage/usage_lib.py),
  HF_MODULES_CACHE (remote-code files copied from the snapshot, cheap to redo, imported as Python modules),
  FlashInfer's workspace (its JIT build locks live inside it, flashinfer jit/core.py get_tmpdir @ 0.6.13,
  with the maintainers' "TODO(lequn): Try /dev/shm first. This should help Lock on NFS."), the CUDA driver's
  compute cache and PyTorch's NVRTC kernel cache (not observable on the CPU build, so not moved onto shared
  storage unverified).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ..config.accelerators import ACCELERATORS
from ..config.image_catalog import neuron_image, pinned_image
from ..config.model import HF_CACHE_PATH, ModelConfig
from ..config.platform.node_groups import NodeGroupConfig
from ._vllm_args import vllm_args

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


PERSISTED_CACHE_PATH = "/var/cache/vllm-eks"
"""Where a model's keyed cache directory on the claim is mounted: a path no image the stacks use holds."""
PERSISTED_CACHE_DIR = "vllm-eks-caches"
"""The folder on the claim holding one directory per model and config (`<model name>-<key>`)."""


def persists_caches(model: ModelConfig) -> bool:
    return bool(ACCELERATORS[model.accelerator].persisted_cache_env)


def persisted_cache_key(model: ModelConfig, group: NodeGroupConfig) -> str:
    """A digest of everything that changes what the persisted caches hold, so only identical configs share.

    vLLM keys its compile cache itself (vllm compilation/backends.py VllmBackend.__call__ @ 0.10.2: a hash of
    envs.compute_hash(), VllmConfig.compute_hash() with the model's hf_config, the traced source files and the
    inductor factors), Triton keys each kernel by source, options and target (triton runtime/cache.py, 3.9.0), and
    modelinfos entries carry the model module's source hash (vllm registry.py @ 0.26.0). This key is coarser and
    on top of those, for what they leave out or get wrong: 0.10.2's envs.compute_hash hashes a fixed list of
    variables ("TODO(DefTruth): hash all environment variables?"), so every variable the user sets is in here;
    the P2P verdict $VLLM_CACHE_ROOT/gpu_p2p_access_cache_for_<devices>.json is keyed by device numbers only
    (vllm distributed/device_communicators/all_reduce_utils.py @ 0.10.2), so the node group's instance type is
    in here; and one directory per config lets an operator delete a stale config's caches as a whole
    (docs/autoscaling.md). The image (pinned: a digest when known) fixes vLLM, torch, Triton and CUDA; the
    rendered arguments carry the model, its revision (extraArgs), tensor and pipeline parallel sizes, dtype,
    quantization and every engine flag. A flag that changes no artefact (a port, a parser) only costs one
    cold start after it changes; a factor left out could load artefacts built for another config."""
    factors = {
        "image": pinned_image(model.image), "source": model.source.value, "args": vllm_args(model),
        "env": dict(sorted(model.env.items())), "accelerator": model.accelerator.value,
        "instanceType": group.instance_type,
    }
    return hashlib.sha256(json.dumps(factors, sort_keys=True).encode()).hexdigest()[:12]


def persisted_cache_sub_path(model: ModelConfig, group: NodeGroupConfig) -> str:
    """The model's directory on the claim: its name first, so `ls` shows whose caches a directory holds."""
    return f"{PERSISTED_CACHE_DIR}/{model.name}-{persisted_cache_key(model, group)}"


def persisted_env(model: ModelConfig) -> dict[str, str]:
    return {name: f"{PERSISTED_CACHE_PATH}/{subdir}" for name, subdir in ACCELERATORS[model.accelerator].persisted_cache_env}


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
        # The caches a later replica reuses replace their scratch defaults (VLLM_CACHE_ROOT, TRITON_CACHE_DIR).
        **persisted_env(model),
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
