"""`--project-dir`: any Pulumi Python program previews offline under its own project name and config keys."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import PROJECT_DIR
from vllm_eks.config.model import ModelConfig
from vllm_eks.config.platform.node_groups import NodeGroupConfig
from vllm_eks.config.python_terms import python_text
from vllm_eks.config.stack import StackConfig
from vllm_eks.config.validation import validate_stack
from vllm_eks.preview.cli import EXIT_INVALID_CONFIG, EXIT_WARNINGS_STRICT, main
from vllm_eks.preview.runner import project_name, run_stack

EXAMPLE = PROJECT_DIR / "examples" / "existing-cluster"


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A copy of the example that a test may change."""
    copy = tmp_path / "existing-cluster"
    shutil.copytree(EXAMPLE, copy)
    return copy


def test_the_example_runs_as_its_own_project_and_reads_its_own_keys():
    recording = run_stack(EXAMPLE, "demo")
    assert project_name(EXAMPLE) == "team-llm"
    assert {resource.urn.split("::")[1] for resource in recording.resources} == {"team-llm"}
    deployment = recording.one("kubernetes:apps/v1:Deployment", "assistant-deployment").inputs
    assert deployment["metadata"]["namespace"] == "assistants"
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["template"]["spec"]["nodeSelector"] == {
        "node.kubernetes.io/instance-type": "g6e.xlarge", "karpenter.sh/nodepool": "gpu",
    }
    assert recording.outputs == {"endpoint": "http://qwen3-8b.assistants.svc.cluster.local:8000", "namespace": "assistants"}


def test_the_example_creates_no_platform_and_reaches_the_cluster_through_its_kubeconfig():
    recording = run_stack(EXAMPLE, "demo")
    assert not [r for r in recording.resources if r.type.startswith(("aws:", "eks:"))]
    [provider] = recording.by_type("pulumi:providers:kubernetes")
    assert provider.name == "existing-cluster"
    assert provider.inputs["kubeconfig"] == "[secret]"
    assert {r.provider.split("::")[3] for r in recording.kubernetes_objects()} == {"existing-cluster"}


def test_the_token_from_the_consumers_secure_key_stays_secret():
    recording = run_stack(EXAMPLE, "demo")
    secret = recording.one("kubernetes:core/v1:Secret", "assistant-ns-hf-token").inputs
    assert secret["stringData"] == {"token": "[secret]"}


def test_preview_of_the_example_prints_its_tree_and_outputs(capsys):
    assert main(["preview", "--stack", "demo", "--project-dir", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "    assistant-deployment  (kubernetes:apps/v1:Deployment)" in out
    assert "Outputs:\n  endpoint: http://qwen3-8b.assistants.svc.cluster.local:8000\n  namespace: assistants\n" in out


def test_render_of_the_example_writes_its_manifests(tmp_path, capsys):
    assert main(["render", "--stack", "demo", "--project-dir", str(EXAMPLE), "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "manifests" / "assistants" / "deployment-qwen3-8b.yaml").is_file()


def test_keys_that_would_be_invalid_vllm_eks_config_are_the_consumers_own_business(example, capsys):
    # `models` and `cluster` are vllm-eks stack keys; in another project's namespace they are not ours to check.
    with (example / "Pulumi.demo.yaml").open("a") as stack_file:
        stack_file.write("  team-llm:models: not-a-list\n  team-llm:cluster: 3\n")
    assert main(["preview", "--stack", "demo", "--project-dir", str(example)]) == 0


def test_a_model_the_consumers_nodes_cannot_hold_fails_with_the_components_check(example, capsys):
    text = (example / "Pulumi.demo.yaml").read_text().replace("team-llm:replicas: 2", "team-llm:replicas: 5")
    (example / "Pulumi.demo.yaml").write_text(text)
    assert main(["preview", "--stack", "demo", "--project-dir", str(example)]) == EXIT_INVALID_CONFIG
    err = capsys.readouterr().err
    assert err.startswith("Invalid VllmModel 'assistant' (1 problem):\n  - model.replicas: ")
    assert "need 5 g6e.xlarge nodes but max_size is 2" in err
    # The consumer's Provider registered before the component's check: the summary must not claim nothing would be.
    assert err.endswith("Stopped after 1 resource had been registered: offline nothing was created, but a real "
                        "`pulumi up` would create it before failing here.\n")


def test_preview_of_the_example_prints_the_sizing_table_and_the_rehearsal_in_python_terms(capsys):
    assert main(["preview", "--stack", "demo", "--project-dir", str(EXAMPLE), "--strict"]) == 0
    out = capsys.readouterr().out
    assert "\nSizing:\nmodel qwen3-8b on g6e.xlarge\n" in out
    assert "  max_model_len          16384\n" in out and "maxModelLen" not in out
    # The cluster exists: its nodes and storage class are not the program's, so the pods schedule at once.
    assert ("      qwen3-8b: 7m49s / 7m49s  (pull 1m30s (9 GB), download 2m44s (16 GB), load 3m22s incl. 30s rebuilding "
            "empty caches [torch.compile 20s, Triton kernels and autotuning 10s; estimates])\n") in out
    assert "awaits that would exceed their timeout: none" in out
    assert "Capacity and cost" not in out  # the existing cluster's nodes are not the program's


def _set_max_model_len(example: Path, length: int) -> None:
    with (example / "Pulumi.demo.yaml").open("a") as stack_file:
        stack_file.write(f"  team-llm:maxModelLen: {length}\n")


def test_a_library_model_gets_the_warnings_a_stack_file_gets_worded_for_python_and_strict_fails_on_them(example, capsys):
    _set_max_model_len(example, 131072)
    assert main(["preview", "--stack", "demo", "--project-dir", str(example), "--strict"]) == EXIT_WARNINGS_STRICT
    err = capsys.readouterr().err
    assert err.startswith("warning: model.max_model_len: qwen3-8b's KV cache holds 175,232 tokens")
    assert "set kv_cache_dtype to fp8" in " ".join(err.split())  # wrapped for the terminal
    assert err.endswith("--strict: 1 warning counts as an error.\n")


def test_the_library_warning_is_the_stack_files_warning_in_python_terms(example):
    _set_max_model_len(example, 131072)
    library = run_stack(example, "demo").warnings
    group = NodeGroupConfig(name="gpu", instance_type="g6e.xlarge", min_size=2, max_size=2)
    model = ModelConfig(name="qwen3-8b", namespace="assistants", accelerator="gpu", node_group="gpu",
                        image="vllm/vllm-openai:v0.10.2", model="Qwen/Qwen3-8B", max_model_len=131072, replicas=2,
                        resources={"cpu": "3", "memory": "24Gi"})
    # Monitoring on: the stack-wide warning for unmonitored replicas has no library counterpart.
    stack = validate_stack(StackConfig(node_groups=[group], models=[model], hf_token="x",
                                       cluster={"endpoint_public_access_cidrs": ["203.0.113.7/32"]},
                                       monitoring={"backend": "in-cluster", "grafana": {"enabled": False}}))
    assert library == [python_text(warning) for warning in stack.warnings]


def test_a_misspelt_model_config_keyword_is_one_line_naming_the_nearest_field(example, capsys):
    program = example / "__main__.py"
    program.write_text(program.read_text().replace("max_model_len=", "max_model_lenn="))
    assert main(["preview", "--stack", "demo", "--project-dir", str(example)]) == EXIT_INVALID_CONFIG
    err = capsys.readouterr().err
    assert err.startswith("Invalid ModelConfig(...) (1 problem):\n  - max_model_lenn: unknown keyword; did you mean max_model_len?\n")
    assert "Traceback" not in err
