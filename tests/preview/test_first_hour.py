"""A newcomer's first commands (issue 22 item 6): the version, a stack named by its file, a folder that is not a
project, a failed render that leaves nothing stale, warnings that read in a terminal, and a dev stack that passes
its own --strict because it accepts the workshop's warnings by name, with the reasons."""

from __future__ import annotations

import pytest

from tests.conftest import PROJECT_DIR
from vllm_eks.config.accepted_warnings import AcceptedWarning, split_accepted
from vllm_eks.config.errors import ConfigError
from vllm_eks.config.loader import validate_stack_file
from vllm_eks.config.model import ModelConfig
from vllm_eks.preview.cli import EXIT_INVALID_CONFIG, EXIT_WARNINGS_STRICT, main, stack_name


def test_version_prints_the_installed_version(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("vllm-eks 0.")


def test_a_stack_named_by_its_file_is_that_stack():
    assert [stack_name(value) for value in ("dev", "Pulumi.dev.yaml", "./Pulumi.prod.yml")] == ["dev", "dev", "prod"]


def test_a_folder_that_is_not_a_project_points_to_project_dir(tmp_path, capsys):
    assert main(["preview", "--stack", "dev", "--project-dir", str(tmp_path)]) == EXIT_INVALID_CONFIG
    assert "is not a Pulumi project (it has no Pulumi.yaml and no stack files)" in capsys.readouterr().err
    assert "pass --project-dir DIR" in (PROJECT_DIR / "config" / "loader.py").read_text()


def test_the_dev_stack_passes_its_own_strict_and_names_what_it_accepts(capsys):
    assert main(["preview", "--stack", "dev", "--project-dir", str(PROJECT_DIR), "--strict"]) == 0
    err = capsys.readouterr().err
    assert "accepted warning at cluster.endpointPublicAccessCidrs: the workshop reaches the API from a laptop" in err
    assert "accepted warning at models[0] (host memory): " in err and "\nwarning:" not in f"\n{err}"


def test_an_acceptance_that_matches_no_warning_is_a_warning_itself():
    kept, taken = split_accepted(["cluster.endpointPublicAccessCidrs: 0.0.0.0/0 exposes"],
                                 [AcceptedWarning(key="models[3]", reason="gone")])
    assert taken == []
    assert kept[-1] == "acceptedWarnings[0].key: no warning starts with 'models[3]'; delete the entry"


def test_an_acceptance_names_the_key_and_a_phrase_and_takes_only_that_warning():
    entry = AcceptedWarning(key="models[0]", mentioning="host memory", reason="workshop")
    kept, taken = split_accepted(["models[0] a: shards in host memory", "models[0] a: padded heads",
                                  "models[01] b: host memory"], [entry])
    assert taken == [("models[0] a: shards in host memory", "models[0] (host memory): workshop")]
    assert kept == ["models[0] a: padded heads", "models[01] b: host memory"]


def test_without_the_acceptances_strict_fails_on_the_workshops_three_warnings(project, capsys):
    text = (project / "Pulumi.dev.yaml").read_text()
    (project / "Pulumi.dev.yaml").write_text(text[:text.index("  # The workshop's choices")])
    assert main(["preview", "--stack", "dev", "--project-dir", str(project), "--strict"]) == EXIT_WARNINGS_STRICT
    err = capsys.readouterr().err
    assert err.endswith("--strict: 3 warnings count as errors.\n")
    assert max(len(line) for line in err.splitlines()) <= 110  # 600-character warnings are wrapped


def test_a_render_that_fails_removes_the_earlier_render(project, capsys):
    out = project / "out"
    assert main(["render", "--stack", "dev", "--project-dir", str(project), "--out", str(out)]) == 0
    assert (out / "plan.json").is_file()
    text = (project / "Pulumi.dev.yaml").read_text().replace("maxNumSeqs: 4", "maxNumSeqs: 0")
    (project / "Pulumi.dev.yaml").write_text(text)
    assert main(["render", "--stack", "dev", "--project-dir", str(project), "--out", str(out)]) == EXIT_INVALID_CONFIG
    assert not (out / "plan.json").exists() and not (out / "manifests").exists()
    assert capsys.readouterr().err.endswith(
        f"Nothing was written under {out} (the earlier render there was removed, so it cannot be applied by mistake).\n")


def test_strings_are_kept_as_written():
    model = ModelConfig(name="qwen", accelerator="gpu", node_group="gpu", image="vllm/vllm-openai:v0.10.2",
                        model="Qwen/Qwen3-8B", env={"GREETING": "hello "})
    assert model.env == {"GREETING": "hello "}


def test_a_name_with_a_stray_space_is_refused_not_trimmed(project):
    text = (project / "Pulumi.dev.yaml").read_text().replace("- name: qwen3-8b-fp8-neuron", "- name: 'qwen3-8b-fp8-neuron '")
    (project / "Pulumi.dev.yaml").write_text(text)
    with pytest.raises(ConfigError) as raised:
        validate_stack_file(project / "Pulumi.dev.yaml")
    assert [issue.path for issue in raised.value.issues] == ["models[1].name"]
