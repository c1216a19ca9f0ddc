"""Advice converges: every fix the bad-input corpus's errors suggest, applied to the stack file, gives a stack
that passes every check, so following one message never leads into the next. Fixes are data (ConfigIssue.fixes),
not only prose; a case whose mistake has no one-edit fix is listed below with the reason."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.corpus import cases, run_through_the_program
from vllm_eks.config.errors import ConfigError, Fix
from vllm_eks.config.loader import read_stack_file, validate_stack_config
from vllm_eks.config.platform.region import REGION_KEY

CASES = cases(Path(__file__).parent / "bad_inputs")

# Cases whose fix is not one edit of the config's values, each with why.
NO_VALUE_FIX = {
    "monitoring-amazon-managed-behind-the-network-policy": "a choice between two backends, or a policy engine the stack does not know",
    "exposure-without-the-controller-policy": "the policy is the account's to create first; its ARN is only known then",
    "malformed-yaml": "the file does not parse; the fix is to its text (indentation, quoting)",
    "config-not-a-mapping": "the file's shape is wrong, not a value",
    "key-without-namespace": "the key's namespace prefix is a text edit of the file",
    "gateway-without-keys": "the fix is `pulumi config set --secret gatewayApiKeys`: ciphertext only Pulumi makes",
    "gateway-api-keys-in-plain-text": "the fix is `pulumi config set --secret gatewayApiKeys`: ciphertext only Pulumi makes",
    "cuda-image-on-a-neuron-model": "which Neuron image depends on the model and the Neuron SDK; the message names where to find one",
    "instance-type-outside-the-catalog": "the facts (vCPUs, memory, device, count) are the user's to look up; the message says which",
    "misspelt-key-without-a-close-field": "no valid key is close enough to name; the message points to the config reference",
    "architecture-moe-block-without-hidden-size": "the value is the model's config.json hidden_size, which the planner cannot know",
    "plaintext-hf-token": "the fix is a command (`pulumi config set --secret hfToken`), which writes ciphertext only Pulumi can make",
    "monitoring-grafana-password-in-plain-text": "the fix is `pulumi config set --secret`, whose ciphertext only Pulumi can write",
    "hub-model-without-token": "the fix is `pulumi config set --secret hfToken` (ciphertext only Pulumi makes), or weights "
                               "baked into an image of the user's, whose path only they know",
    "unreachable-private-endpoint": "the CIDRs to list are the egress addresses pulumi and kubectl run from, which only "
                                    "the user's network knows",
    "image-digest-too-short": "a digest cut short when copied cannot be completed; only the registry knows the rest",
    "missing-image": "with source: image the weights are baked into an image of the user's; no catalog image holds "
                     "this model path as written",
    "empty-image": "with source: image the weights are baked into an image of the user's; no catalog image holds "
                   "this model path as written",
    "missing-model": "which model to serve, and where the user's image holds it, is the user's choice",
    "node-group-not-a-mapping": "a name where a node group's mapping goes: its instance type and sizes are the user's choice",
}
_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def apply(document: dict[str, Any], fix: Fix) -> None:
    """Apply one fix to a parsed stack file (`config:` holds `vllm-eks:<key>` and other namespaces' keys)."""
    parts: list[Any] = [int(index) if index else key for key, index in _PART.findall(fix.path)]
    config = document["config"]
    first = parts[0] if ":" in str(parts[0]) else f"vllm-eks:{parts[0]}"
    parent: Any = config
    keys: list[Any] = [first, *parts[1:]]
    while True:
        key = keys.pop(0)
        while isinstance(parent, dict) and key not in parent and keys:  # a key with dots in it (a label)
            key = f"{key}.{keys.pop(0)}"
        if not keys:
            break
        parent = parent[key]
    last = key
    if fix.remove:
        del parent[last]
    elif fix.rename is not None:
        parent[fix.rename] = parent.pop(last)
    else:
        parent[last] = fix.value


@pytest.mark.parametrize("case", CASES, ids=lambda path: path.stem)
def test_applying_every_suggested_fix_gives_a_stack_that_passes_every_check(case, tmp_path):
    issues, _ = run_through_the_program(case, tmp_path)
    unfixed = [str(issue) for issue in issues if not issue.fixes]
    if case.stem in NO_VALUE_FIX:
        assert unfixed, f"{case.stem} has a fix now: take it off NO_VALUE_FIX"
        return
    assert unfixed == [], "each error carries its fix as data (config/errors.py Fix)"
    document = yaml.safe_load(case.read_text())
    fixes = [fix for issue in issues for fix in issue.fixes]
    # Removals last, the highest list index first, so removing extraArgs[1] does not move extraArgs[2].
    for fix in sorted(fixes, key=lambda fix: (fix.remove, fix.path), reverse=True):
        apply(document, fix)
    fixed = tmp_path / "Pulumi.fixed.yaml"
    fixed.write_text(yaml.safe_dump(document))
    stack_file = read_stack_file(fixed)
    region = stack_file.other.get(REGION_KEY)
    try:
        validate_stack_config(stack_file.values, str(fixed), stack_file.secret_keys, None if region is None else str(region))
    except ConfigError as error:
        pytest.fail(f"the suggested fixes {[fix for issue in issues for fix in issue.fixes]} lead to: {error}")


def test_every_case_said_to_have_no_value_fix_is_in_the_corpus():
    assert sorted(set(NO_VALUE_FIX) - {case.stem for case in CASES}) == []
