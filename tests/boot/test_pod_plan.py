"""The boot harness's pure part: how a rendered pod becomes mounts, env, user and a command.

No vLLM and no namespaces here: these pin what boot/pod.py decides, which boot/sandbox.py and
boot/run.py then carry out in the boot stage of .ci/run.
"""

from __future__ import annotations

import copy

import pytest

from boot.pod import (
    CPU_BUILD_SHM_BYTES,
    HARNESS_ENV,
    SECRET_PLACEHOLDER,
    TINY_MODEL_MAX_LEN,
    TINY_REVISION,
    PlanError,
    drop_cpu_flags,
    plan_container,
    quantity_bytes,
)
from boot.run import blocked_writes

HOME = {0: "/root", 1000: "/home/app"}


def _home(uid: int) -> str:
    return HOME.get(uid, "/")


def _deployment(args: list[str], *, image: str = "vllm/vllm-openai:v0.10.2", volumes=None, mounts=None,
                env=None, container_ctx=None, pod_ctx=None, working_dir=None) -> dict:
    container = {
        "name": "vllm", "image": image, "command": ["vllm", "serve"], "args": args,
        "env": env or [],
        "ports": [{"name": "http", "containerPort": 8000}],
        "readinessProbe": {"httpGet": {"path": "/health", "port": "http"}},
        "securityContext": {"readOnlyRootFilesystem": True, **(container_ctx or {})},
        "volumeMounts": mounts if mounts is not None else [{"name": "tmp", "mountPath": "/tmp"}],
        "resources": {"limits": {"nvidia.com/gpu": "1"}},
    }
    if working_dir:
        container["workingDir"] = working_dir
    pod = {"containers": [container], "volumes": volumes if volumes is not None else [{"name": "tmp", "emptyDir": {}}]}
    if pod_ctx:
        pod["securityContext"] = pod_ctx
    return {"kind": "Deployment", "metadata": {"name": "m"}, "spec": {"template": {"spec": pod}}}


def _plan(deployment: dict):
    return plan_container("dev", deployment, deployment["spec"]["template"]["spec"]["containers"][0], home_for_uid=_home)


def test_an_empty_dir_with_a_size_limit_becomes_a_tmpfs_of_that_size_in_memory_or_not():
    plan = _plan(_deployment(
        ["org/model"],
        volumes=[{"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "16Gi"}}, {"name": "tmp", "emptyDir": {}},
                 {"name": "huggingface-cache", "persistentVolumeClaim": {"claimName": "huggingface-cache"}}],
        mounts=[{"name": "shm", "mountPath": "/dev/shm"}, {"name": "tmp", "mountPath": "/tmp"},
                {"name": "huggingface-cache", "mountPath": "/root/.cache/huggingface"}],
        env=[{"name": "HF_HOME", "value": "/root/.cache/huggingface"}]))
    mounts = {m.path: m for m in plan.mounts}
    assert (mounts["/dev/shm"].kind, mounts["/dev/shm"].size_bytes, mounts["/dev/shm"].medium) == ("emptyDir", 16 * 2**30, "Memory")
    assert (mounts["/tmp"].kind, mounts["/tmp"].size_bytes) == ("emptyDir", None)
    assert mounts["/root/.cache/huggingface"].kind == "pvc"
    assert plan.writable_paths() == ["/dev/shm", "/root/.cache/huggingface", "/tmp"]


def test_a_pod_without_a_dev_shm_volume_gets_the_runtime_default_sized_for_the_cpu_build_and_says_so():
    plan = _plan(_deployment(["/models/m"]))
    shm = next(m for m in plan.mounts if m.path == "/dev/shm")
    assert (shm.kind, shm.size_bytes) == ("shm", CPU_BUILD_SHM_BYTES)
    assert any("the runtime gives 64 MiB" in note and "512 MiB" in note for note in plan.notes)


def test_a_volume_kind_the_harness_cannot_reproduce_is_an_error_naming_it():
    deployment = _deployment(["/models/m"], volumes=[{"name": "tmp", "configMap": {"name": "x"}}])
    with pytest.raises(PlanError, match="volume 'tmp' is a configMap; the harness reproduces emptyDir and PVC volumes only"):
        _plan(deployment)


def test_rendered_env_is_applied_with_secret_references_replaced_by_a_placeholder_and_the_harness_env_on_top():
    plan = _plan(_deployment(["/models/m"], env=[
        {"name": "NCCL_DEBUG", "value": "INFO"},
        {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf-token", "key": "token"}}}]))
    assert plan.env["NCCL_DEBUG"] == "INFO"
    assert plan.env["HF_TOKEN"] == SECRET_PLACEHOLDER
    assert plan.env["HOME"] == "/root"
    assert {k: plan.env[k] for k in HARNESS_ENV} == HARNESS_ENV


def test_the_container_user_wins_over_the_pod_user_and_home_follows_the_uid():
    plan = _plan(_deployment(["/models/m"], pod_ctx={"runAsUser": 2000, "runAsGroup": 2000},
                             container_ctx={"runAsUser": 1000}))
    assert (plan.uid, plan.gid, plan.env["HOME"]) == (1000, 2000, "/home/app")


def test_without_run_as_user_the_image_user_root_runs_the_container():
    plan = _plan(_deployment(["/models/m"]))
    assert (plan.uid, plan.gid) == (0, 0)


def test_read_only_root_follows_the_container_security_context():
    deployment = _deployment(["/models/m"], container_ctx={"readOnlyRootFilesystem": False})
    assert _plan(deployment).read_only_root is False
    assert _plan(_deployment(["/models/m"])).read_only_root is True


def test_only_the_flags_the_cpu_build_cannot_honour_are_dropped_and_each_drop_says_why():
    argv = ["vllm", "serve", "m", "--served-model-name=x", "--gpu-memory-utilization=0.90", "--tensor-parallel-size=2",
            "--quantization=fp8", '--override-neuron-config={"quantized": true}',
            '--additional-config={"neuron_config": {}}', "--max-num-seqs=4", "--reasoning-parser=qwen3",
            "--enable-auto-tool-choice", "--tool-call-parser=hermes"]
    kept, dropped = drop_cpu_flags(argv)
    assert kept == ["vllm", "serve", "m", "--served-model-name=x", "--max-num-seqs=4", "--reasoning-parser=qwen3",
                    "--enable-auto-tool-choice", "--tool-call-parser=hermes"]
    assert [d.split(" (")[0] for d in dropped] == [
        "--gpu-memory-utilization=0.90", "--tensor-parallel-size=2", "--quantization=fp8",
        '--override-neuron-config={"quantized": true}', '--additional-config={"neuron_config": {}}']
    assert dropped[1] == "--tensor-parallel-size=2 (needs that many accelerators)"


def test_parallel_size_one_and_an_auto_kv_cache_dtype_are_kept():
    kept, dropped = drop_cpu_flags(["vllm", "serve", "m", "--tensor-parallel-size=1", "--kv-cache-dtype=auto"])
    assert dropped == []
    assert kept == ["vllm", "serve", "m", "--tensor-parallel-size=1", "--kv-cache-dtype=auto"]


def test_an_fp8_kv_cache_is_kept_where_the_cpu_build_has_avx512_and_dropped_where_it_has_not():
    argv = ["vllm", "serve", "m", "--kv-cache-dtype=fp8"]
    assert drop_cpu_flags(argv, host_fp8_kv=True) == (argv, [])
    kept, dropped = drop_cpu_flags(argv, host_fp8_kv=False)
    assert kept == argv[:3]
    assert dropped == ["--kv-cache-dtype=fp8 (fp8 KV cache needs AVX-512 or AMX on the CPU build, which this host lacks)"]
    assert drop_cpu_flags(["vllm", "serve", "m", "--kv-cache-dtype=auto"], host_fp8_kv=False)[1] == []


def test_a_flag_not_on_the_drop_list_reaches_the_cpu_build_unchanged_even_when_unknown():
    kept, dropped = drop_cpu_flags(["vllm", "serve", "m", "--speculative-model=x"])
    assert kept[-1] == "--speculative-model=x" and dropped == []


def test_max_model_len_beyond_the_tiny_model_is_capped_and_the_cap_is_reported():
    plan = _plan(_deployment(["/models/m", "--max-model-len=65536"]))
    assert f"--max-model-len={TINY_MODEL_MAX_LEN}" in plan.argv
    assert plan.notes[-1] == f"--max-model-len=65536 capped to {TINY_MODEL_MAX_LEN}, the tiny model's context"
    assert "--max-model-len=16384" in _plan(_deployment(["/models/m", "--max-model-len=16384"])).argv


def test_a_model_path_is_kept_verbatim_and_the_tiny_model_is_seeded_there_in_the_image():
    plan = _plan(_deployment(["/opt/vllm/huggingface-cache/Llama"]))
    assert plan.argv[2] == "/opt/vllm/huggingface-cache/Llama"
    assert [(s.path, s.what, s.into) for s in plan.seeds] == [("/opt/vllm/huggingface-cache/Llama", "model", "image")]
    assert plan.findings == []


def test_a_model_path_under_a_volume_is_a_finding_because_the_volume_hides_the_image():
    plan = _plan(_deployment(
        ["/root/.cache/huggingface/hub/models--Q/snapshots/r"],
        volumes=[{"name": "hf", "persistentVolumeClaim": {"claimName": "hf"}}],
        mounts=[{"name": "hf", "mountPath": "/root/.cache/huggingface"}]))
    assert plan.findings == ["model path /root/.cache/huggingface/hub/models--Q/snapshots/r lies under the pvc volume "
                             "'hf' at /root/.cache/huggingface, which hides what the image holds there"]


def test_a_hub_id_is_kept_and_the_tiny_model_is_seeded_into_the_hf_cache_on_its_volume():
    plan = _plan(_deployment(
        ["meta-llama/Llama-3.3-70B-Instruct"],
        volumes=[{"name": "hf", "persistentVolumeClaim": {"claimName": "hf"}}],
        mounts=[{"name": "hf", "mountPath": "/root/.cache/huggingface"}],
        env=[{"name": "HF_HOME", "value": "/root/.cache/huggingface"}]))
    assert plan.argv[2] == "meta-llama/Llama-3.3-70B-Instruct"
    [seed] = plan.seeds
    assert (seed.path, seed.into) == (
        f"/root/.cache/huggingface/hub/models--meta-llama--Llama-3.3-70B-Instruct/snapshots/{TINY_REVISION}", "volume:hf")
    assert plan.env["HF_HUB_OFFLINE"] == "1"


def test_a_hub_id_whose_hf_cache_is_on_the_read_only_root_is_a_finding():
    plan = _plan(_deployment(["org/model"]))
    assert plan.findings == ["hub model org/model: the HF cache /root/.cache/huggingface/hub is on the read-only root, "
                             "so the download cannot be written"]


def test_a_relative_chat_template_resolves_against_working_dir_and_an_image_known_to_hold_it_is_no_finding():
    plan = _plan(_deployment(["/models/m", "--chat-template=examples/tool_chat_template_llama3.1_json.jinja"]))
    assert plan.working_dir == "/vllm-workspace"
    assert plan.findings == []
    assert ("/vllm-workspace/examples/tool_chat_template_llama3.1_json.jinja", "chat-template", "image") in [
        (s.path, s.what, s.into) for s in plan.seeds]


def test_a_relative_chat_template_an_image_is_not_known_to_hold_is_a_finding_and_is_provided_for_the_boot():
    plan = _plan(_deployment(["/models/m", "--chat-template=examples/t.jinja"], image="example.com/unknown:1"))
    assert plan.working_dir == "/"
    assert len(plan.findings) == 1
    assert plan.findings[0].startswith("chat template examples/t.jinja resolves against the image's WORKDIR (unknown) "
                                       "to /examples/t.jinja, which the image example.com/unknown:1 is not known to hold")
    assert ("/examples/t.jinja", "chat-template", "image") in [(s.path, s.what, s.into) for s in plan.seeds]


def test_a_rendered_working_dir_is_where_the_command_starts_and_relative_templates_resolve():
    plan = _plan(_deployment(["/models/m", "--chat-template=examples/t.jinja"], working_dir="/work",
                             image="public.ecr.aws/t0h7h1e6/vllm-neuron:qwen3-8b"))
    assert plan.working_dir == "/work"
    assert "workingDir /work to /work/examples/t.jinja" in plan.findings[0]
    in_vllm_tree = _plan(_deployment(["/models/m", "--chat-template=/opt/vllm/examples/t.jinja"], working_dir="/work",
                                     image="public.ecr.aws/t0h7h1e6/vllm-neuron:qwen3-8b"))
    assert in_vllm_tree.findings == []


def test_served_name_tool_calling_and_the_probe_port_come_from_the_rendered_container():
    plan = _plan(_deployment(["/models/m", "--served-model-name=llama", "--enable-auto-tool-choice"]))
    assert (plan.served_model_name, plan.tool_calling, plan.port, plan.health_path, plan.gpu) == (
        "llama", True, 8000, "/health", True)


def test_kubernetes_quantities_read_as_bytes():
    assert [quantity_bytes(q) for q in ("64Mi", "16Gi", "1G", "512")] == [64 * 2**20, 16 * 2**30, 10**9, 512]
    with pytest.raises(PlanError, match="cannot read the quantity '12 GB'"):
        quantity_bytes("12 GB")


def test_failed_writes_outside_the_writable_mounts_are_reported_and_reads_and_mount_writes_are_not(tmp_path):
    plan = _plan(_deployment(["/models/m"]))
    (tmp_path / "trace.12").write_text("\n".join([
        'openat(AT_FDCWD, "/root/.cache/flashinfer/0.6.13/flashinfer_jit.log", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0666) = -1 EROFS (Read-only file system)',
        'mkdir("/root/.cache/flashinfer", 0777) = -1 EROFS (Read-only file system)',
        'openat(AT_FDCWD, "/usr/lib/x.so", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory)',
        'openat(AT_FDCWD, "/etc/shadow", O_RDONLY) = -1 EACCES (Permission denied)',
        'mkdir("/tmp/torchinductor_root", 0777) = -1 EEXIST (File exists)',
        'openat(AT_FDCWD, "/tmp/x/y", O_WRONLY|O_CREAT, 0666) = -1 EACCES (Permission denied)',
    ]))
    assert blocked_writes(tmp_path, plan) == [
        "/root/.cache/flashinfer (mkdir: EROFS)",
        "/root/.cache/flashinfer/0.6.13/flashinfer_jit.log (openat: EROFS)",
    ]


def test_planning_does_not_change_the_rendered_deployment():
    deployment = _deployment(["/models/m", "--gpu-memory-utilization=0.9"])
    before = copy.deepcopy(deployment)
    _plan(deployment)
    assert deployment == before


def test_only_vllm_containers_are_booted_and_the_others_are_named_as_skipped():
    from boot.pod import plan_deployments

    server = _deployment(["/models/m"])
    scheduler = _deployment([], image="public.ecr.aws/neuron/neuron-scheduler:2.29.148.0")
    scheduler["metadata"]["name"] = "k8s-neuron-scheduler"
    scheduler["spec"]["template"]["spec"]["containers"][0].update(name="neuron-scheduler-exp", command=["/neuron-scheduler"])
    plans, skipped = plan_deployments("prod", [server, scheduler, {"kind": "Service"}], home_for_uid=_home)
    assert [p.label for p in plans] == ["prod/m/vllm"]
    assert skipped == ["prod/k8s-neuron-scheduler/neuron-scheduler-exp (public.ecr.aws/neuron/neuron-scheduler:2.29.148.0): "
                       "not a vLLM server"]


_CLAIM = [{"name": "tmp", "emptyDir": {}},
          {"name": "huggingface-cache", "persistentVolumeClaim": {"claimName": "huggingface-cache"}}]


def test_a_claim_mounted_twice_keeps_each_mounts_subpath_and_the_hub_seed_goes_to_the_whole_claim():
    plan = _plan(_deployment(
        ["org/model"], volumes=_CLAIM,
        mounts=[{"name": "tmp", "mountPath": "/tmp"}, {"name": "huggingface-cache", "mountPath": "/root/.cache/huggingface"},
                {"name": "huggingface-cache", "mountPath": "/var/cache/vllm-eks", "subPath": "vllm-eks-caches/m-0123"}],
        env=[{"name": "HF_HOME", "value": "/root/.cache/huggingface"}]))
    mounts = {m.path: m for m in plan.mounts}
    assert (mounts["/var/cache/vllm-eks"].kind, mounts["/var/cache/vllm-eks"].sub_path) == ("pvc", "vllm-eks-caches/m-0123")
    assert mounts["/root/.cache/huggingface"].sub_path is None
    assert [seed.into for seed in plan.seeds if seed.what == "model"] == ["volume:huggingface-cache"]


@pytest.mark.parametrize("sub_path", ["/abs", "a/../../b"])
def test_a_subpath_the_api_server_would_refuse_is_an_error(sub_path):
    deployment = _deployment(["/models/m"], volumes=_CLAIM, mounts=[
        {"name": "tmp", "mountPath": "/tmp"}, {"name": "huggingface-cache", "mountPath": "/c", "subPath": sub_path}])
    with pytest.raises(PlanError, match="must be relative and must not contain '..'"):
        _plan(deployment)


def test_after_a_boot_the_keyed_claim_directory_must_hold_what_vllm_caches_there(tmp_path):
    from boot.run import persisted_caches

    plan = _plan(_deployment(
        ["/models/m"], volumes=_CLAIM,
        mounts=[{"name": "tmp", "mountPath": "/tmp"},
                {"name": "huggingface-cache", "mountPath": "/var/cache/vllm-eks", "subPath": "vllm-eks-caches/m-0123"}],
        env=[{"name": "VLLM_CACHE_ROOT", "value": "/var/cache/vllm-eks/vllm"}]))
    spec = {"pvc_dirs": {"huggingface-cache": str(tmp_path)}}
    keyed = tmp_path / "vllm-eks-caches" / "m-0123" / "vllm"
    (keyed / "modelinfos").mkdir(parents=True)
    lines, missing = persisted_caches(plan, spec)
    assert missing == [f"VLLM_CACHE_ROOT/torch_compile_cache ({keyed / 'torch_compile_cache'})"]
    (keyed / "torch_compile_cache" / "abc").mkdir(parents=True)
    (keyed / "torch_compile_cache" / "abc" / "f").write_bytes(b"x" * 2**20)
    lines, missing = persisted_caches(plan, spec)
    assert missing == []
    assert lines == ["claim huggingface-cache subPath vllm-eks-caches/m-0123 at /var/cache/vllm-eks: "
                     "vllm/modelinfos (0.0 MiB), vllm/torch_compile_cache (1.0 MiB)"]
