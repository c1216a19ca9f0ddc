"""The HF token is a Pulumi secret end to end: never in plain text in the plan, the manifests,
the stack outputs, the warnings or the CLI's output."""

from __future__ import annotations

import json
import runpy

from tests.conftest import PROJECT_DIR
from vllm_eks.config.loader import read_stack_file
from vllm_eks.preview.engine import run_program
from vllm_eks.preview.render import manifests, plan

TOKEN = "hf_plaintextCanary0123456789"


def _run_dev_with_token():
    config, secret_keys = read_stack_file(PROJECT_DIR / "Pulumi.dev.yaml").as_pulumi_config()
    config["vllm-eks:hfToken"] = TOKEN
    return run_program(lambda: runpy.run_path(str(PROJECT_DIR / "__main__.py")), config=config, secret_keys=secret_keys)


def test_the_token_never_appears_in_plan_manifests_outputs_or_warnings():
    recording = _run_dev_with_token()
    rendered = json.dumps([plan(recording), manifests(recording), recording.outputs, recording.warnings])
    assert TOKEN not in rendered
    assert recording.one("kubernetes:core/v1:Secret", "vllm-hf-token").inputs["stringData"] == {"token": "[secret]"}


def test_a_token_the_stack_config_did_not_mark_secret_is_refused_without_printing_it():
    config, _ = read_stack_file(PROJECT_DIR / "Pulumi.dev.yaml").as_pulumi_config()
    config["vllm-eks:hfToken"] = TOKEN
    recording = run_program(lambda: runpy.run_path(str(PROJECT_DIR / "__main__.py")), config=config, secret_keys=[],
                            capture_error=True)
    assert [str(issue) for issue in recording.error.issues] == [
        "hfToken: is in plain text (not `secure:`), so the token sits unencrypted in the stack file and in everything "
        "that reads it; delete the line and run `pulumi config set --secret hfToken <token>`, which stores it encrypted"
    ]
    assert recording.resources == [] and TOKEN not in str(recording.error)


def test_the_stack_file_secure_value_is_read_as_a_secret_placeholder():
    stack_file = read_stack_file(PROJECT_DIR / "Pulumi.dev.yaml")
    assert stack_file.secret_keys == {"hfToken"}
    assert stack_file.values["hfToken"] == "[secret]"
