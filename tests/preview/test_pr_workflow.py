"""The pull-request workflow: it parses, runs the offline diff for every committed stack, and
runs `pulumi preview --diff` only where the repository has Pulumi credentials."""

from __future__ import annotations

import re
import shlex
import subprocess

import yaml

from tests.conftest import PROJECT_DIR
from tests.preview.scratch_repo import committed_copy
from vllm_eks.preview.pr_comment import GITHUB_COMMENT_LIMIT, MARKER, TRUNCATED_NOTE, committed_stacks, fit_comment, pr_comment

WORKFLOW = PROJECT_DIR / ".github" / "workflows" / "preview.yml"


def _workflow() -> dict:
    document = yaml.safe_load(WORKFLOW.read_text())
    # YAML 1.1 (PyYAML) reads the bare key `on` as True; GitHub reads it as "on".
    document["on"] = document.pop(True, document.get("on"))
    return document


def _steps(job: str) -> list[dict]:
    return _workflow()["jobs"][job]["steps"]


def test_the_workflow_runs_on_every_pull_request_and_may_comment():
    workflow = _workflow()
    assert workflow["on"] == {"pull_request": None}
    assert workflow["permissions"] == {"contents": "read", "pull-requests": "write"}
    for name, job in workflow["jobs"].items():
        assert job["runs-on"] == "ubuntu-latest", name
        assert job["steps"], name
        for step in job["steps"]:
            assert ("uses" in step) != ("run" in step), (name, step)


def test_the_offline_diff_job_runs_the_comment_script_on_every_committed_project():
    steps = _steps("offline-diff")
    assert steps[0] == {"uses": "actions/checkout@v4", "with": {"fetch-depth": 0}}
    [command] = [step["run"] for step in steps if "preview.pr_comment" in step.get("run", "")]
    words = shlex.split(command.replace("\\\n", " "))
    assert words[:3] == [".venv/bin/python", "-m", "vllm_eks.preview.pr_comment"]
    assert words[words.index("--base") + 1] == "origin/${{ github.base_ref }}"
    dirs = [words[i + 1] for i, word in enumerate(words) if word == "--project-dir"]
    assert dirs == [".", "examples/existing-cluster"]
    assert all(committed_stacks(PROJECT_DIR / folder) for folder in dirs)
    [post] = [step for step in steps if step.get("uses", "").startswith("actions/github-script@")]
    assert 'readFileSync("offline-diff.md"' in post["with"]["script"]
    assert "updateComment" in post["with"]["script"] and "createComment" in post["with"]["script"]
    assert post["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    assert any('>> "$GITHUB_STEP_SUMMARY"' in step.get("run", "") for step in steps)


def test_pulumi_preview_runs_per_stack_with_the_official_action_only_when_credentials_exist():
    job = _workflow()["jobs"]["pulumi-preview"]
    assert job["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.stacks.outputs.names) }}"
    assert job["if"] == "needs.stacks.outputs.names != '[]'"
    assert _workflow()["jobs"]["stacks"]["permissions"] == {"contents": "read"}
    assert job["env"] == {"PULUMI_ACCESS_TOKEN": "${{ secrets.PULUMI_ACCESS_TOKEN }}"}
    [notice, *guarded] = job["steps"]
    assert notice["if"] == "env.PULUMI_ACCESS_TOKEN == ''"
    assert {step.get("if") for step in guarded} == {"env.PULUMI_ACCESS_TOKEN != ''"}
    [pulumi] = [step for step in guarded if step.get("uses", "").startswith("pulumi/actions@")]
    assert pulumi["uses"] == "pulumi/actions@v6"
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["diff"] is True
    assert pulumi["with"]["comment-on-pr"] is True
    assert pulumi["with"]["github-token"] == "${{ secrets.GITHUB_TOKEN }}"


def test_the_stack_list_the_matrix_uses_matches_the_committed_stacks(tmp_path):
    [command] = [step["run"] for step in _steps("stacks") if "run" in step]
    listing = command.splitlines()[0].split("$(", 1)[1].split(" | jq", 1)[0]
    out = subprocess.run(listing, shell=True, cwd=PROJECT_DIR, capture_output=True, text=True, check=True).stdout
    assert out.split() == committed_stacks(PROJECT_DIR)
    assert out.split()


def test_the_script_produces_the_comment_offline_for_a_changed_stack(tmp_path):
    repo = committed_copy(tmp_path, "__main__.py", "Pulumi.yaml", "Pulumi.dev.yaml")
    stack_file = repo / "Pulumi.dev.yaml"
    stack_file.write_text(stack_file.read_text().replace("instanceType: inf2.xlarge", "instanceType: inf2.8xlarge", 1))
    body, changed = pr_comment([repo], "HEAD", root=repo)
    assert changed
    assert body.startswith(f"{MARKER}\n## Infrastructure diff (offline preview, vllm-eks)\n")
    assert re.search(r"\n### stack `dev`\n\n`HEAD \([0-9a-f]{7}\)` → `work tree`: \*\*0 to add, 0 to remove, 3 to update in place, 1 to replace; changed: sizing\*\*\n", body)  # noqa: E501
    assert '\n    instanceTypes[0]: "inf2.xlarge" -> "inf2.8xlarge"  [forces replacement]\n' in body


def test_a_stack_the_pull_request_deletes_is_shown_as_all_removed(tmp_path):
    repo = committed_copy(tmp_path, "__main__.py", "Pulumi.yaml", "Pulumi.dev.yaml")
    (repo / "Pulumi.dev.yaml").unlink()
    body, changed = pr_comment([repo], "HEAD", root=repo)
    assert changed
    assert "\n### stack `dev`\n" in body
    assert "\n- kubernetes:apps/v1:Deployment llama-3-1-8b-int8-neuron-deployment\n" in body
    assert "**0 to add, " in body


def test_a_comment_over_githubs_limit_is_cut_with_its_code_block_closed_before_the_note():
    section = "### stack `dev`\n\n```diff\n" + "".join(f"~ kubernetes:apps/v1:Deployment m{i}\n" for i in range(4000)) + "```\n"
    body = fit_comment(f"{MARKER}\n{section}")
    assert len(body) <= GITHUB_COMMENT_LIMIT
    assert body.endswith("\n```" + TRUNCATED_NOTE)
    assert sum(1 for line in body.splitlines() if line.startswith("```")) % 2 == 0
    assert fit_comment("short") == "short"
