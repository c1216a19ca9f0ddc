"""The `vllm-eks` command: preview and render a stack offline; refuse a broken one having created nothing."""

from __future__ import annotations

import json
import shutil

from tests.conftest import PROJECT_DIR
from vllm_eks.preview.cli import EXIT_INVALID_CONFIG, EXIT_WARNINGS_STRICT, main


def test_preview_prints_the_resource_tree_and_one_line_per_model(capsys):
    assert main(["preview", "--stack", "dev", "--project-dir", str(PROJECT_DIR)]) == 0
    out = capsys.readouterr().out
    assert "llama-3-1-8b-int8-neuron  (vllm-eks:index:VllmModel)" in out
    assert "    llama-3-1-8b-int8-neuron-deployment  (kubernetes:apps/v1:Deployment)" in out
    assert ("  qwen3-8b-fp8-neuron: 1 replica x 2 NeuronCores on inf2 (inf2.xlarge), source image, namespace vllm, "
            "http://qwen3-8b-fp8-neuron.vllm.svc.cluster.local:8000") in out


def test_render_writes_manifests_and_a_plan(tmp_path, capsys):
    out_dir = tmp_path / "build"
    assert main(["render", "--stack", "dev", "--project-dir", str(PROJECT_DIR), "--out", str(out_dir)]) == 0
    assert (out_dir / "manifests" / "vllm" / "deployment-llama-3-1-8b-int8-neuron.yaml").is_file()
    assert (out_dir / "manifests" / "_cluster" / "namespace-vllm.yaml").is_file()
    plan = json.loads((out_dir / "plan.json").read_text())
    types = {resource["type"] for resource in plan["resources"]}
    assert {"vllm-eks:index:VllmModel", "kubernetes:apps/v1:Deployment", "kubernetes:core/v1:Secret"} <= types


def test_a_broken_config_exits_2_with_the_message_and_registers_nothing(project, capsys):
    text = (project / "Pulumi.dev.yaml").read_text().replace("tensorParallelSize: 2", "tensorParallelSize: 0", 1)
    (project / "Pulumi.dev.yaml").write_text(text)
    assert main(["preview", "--stack", "dev", "--project-dir", str(project)]) == EXIT_INVALID_CONFIG
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"Invalid {project / 'Pulumi.dev.yaml'} (1 problem):\n"
        "  - models[0].tensorParallelSize: Input should be greater than or equal to 1 (got 0); the smallest degree at "
        "which models[0] passes every check on node group 'inf2' (inf2.xlarge) is 2\n"
        "Nothing was created: 0 resources registered.\n"
    )


def test_malformed_yaml_names_the_line(project, capsys):
    (project / "Pulumi.dev.yaml").write_text("config:\n  vllm-eks:models: [\n")
    assert main(["render", "--stack", "dev", "--project-dir", str(project), "--out", str(project / "out")]) == EXIT_INVALID_CONFIG
    err = capsys.readouterr().err
    assert "malformed YAML at line 3, column 1" in err
    assert not (project / "out").exists()


def test_an_unknown_stack_lists_the_stacks_that_exist(project, capsys):
    shutil.copy(PROJECT_DIR / "Pulumi.prod.yaml", project / "Pulumi.prod.yaml")
    assert main(["preview", "--stack", "prodd", "--project-dir", str(project)]) == EXIT_INVALID_CONFIG
    assert capsys.readouterr().err == (
        f"Invalid {project / 'Pulumi.prodd.yaml'} (1 problem):\n"
        f"  - stack 'prodd' does not exist: '{project / 'Pulumi.prodd.yaml'}' is missing, and the stacks there are "
        f"dev, prod; pick one with --stack, or create Pulumi.prodd.yaml (`pulumi stack init prodd`)\n"
        f"Nothing was created: 0 resources registered.\n"
    )


def test_strict_turns_warnings_into_a_failure(project, capsys):
    text = (project / "Pulumi.dev.yaml").read_text().replace(
        "  vllm-eks:cacheVolumes:", "    - name: spare\n      instanceType: g5.xlarge\n      minSize: 0\n  vllm-eks:cacheVolumes:", 1)
    (project / "Pulumi.dev.yaml").write_text(text)
    assert main(["preview", "--stack", "dev", "--project-dir", str(project)]) == 0
    assert "nodeGroups[1] 'spare' runs no model" in capsys.readouterr().err
    assert main(["preview", "--stack", "dev", "--project-dir", str(project), "--strict"]) == EXIT_WARNINGS_STRICT
    # The spare group; the open endpoint and the two inf2.xlarge host-memory warnings are the stack's acceptedWarnings.
    assert "--strict: 1 warning counts as an error." in capsys.readouterr().err


def test_the_summaries_say_one_warning_in_the_singular(project, capsys):
    text = (project / "Pulumi.dev.yaml").read_text().replace('["0.0.0.0/0"]', '["198.51.100.0/24"]', 1)
    text = text[:text.index("  # The workshop's choices")]  # nothing left to accept
    # inf2.8xlarge nodes with room for twice each checkpoint, so the spare group's is the one warning.
    text = text.replace("instanceType: inf2.xlarge", "instanceType: inf2.8xlarge").replace("memory: 12Gi", "memory: 31Gi")
    (project / "Pulumi.dev.yaml").write_text(text.replace(
        "  vllm-eks:cacheVolumes:", "    - name: spare\n      instanceType: g5.xlarge\n      minSize: 0\n  vllm-eks:cacheVolumes:", 1))
    assert main(["preview", "--stack", "dev", "--project-dir", str(project), "--strict"]) == EXIT_WARNINGS_STRICT
    assert capsys.readouterr().err.endswith("--strict: 1 warning counts as an error.\n")


def test_a_strict_render_that_fails_writes_nothing(project, capsys):
    text = (project / "Pulumi.dev.yaml").read_text().replace(
        "  vllm-eks:cacheVolumes:", "    - name: spare\n      instanceType: g5.xlarge\n      minSize: 0\n  vllm-eks:cacheVolumes:", 1)
    (project / "Pulumi.dev.yaml").write_text(text)
    out_dir = project / "out"
    assert main(["render", "--stack", "dev", "--project-dir", str(project), "--out", str(out_dir), "--strict"]) == EXIT_WARNINGS_STRICT
    assert not out_dir.exists()
    assert capsys.readouterr().err.endswith(f"--strict: 1 warning counts as an error.\nNothing was written under {out_dir}.\n")
