"""`--project-dir`: any Pulumi Python program previews offline under its own project name and config keys."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import PROJECT_DIR
from vllm_eks.preview.cli import EXIT_INVALID_CONFIG, main
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
