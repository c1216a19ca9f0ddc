"""Advice converges: every fix the corpora's errors suggest (tests/bad_inputs, tests/config/invalid_sizing), applied
to the stack file, gives a stack that passes every check, so following one message never leads into the next.
Fixes are data (ConfigIssue.fixes), not only prose; a case whose mistake has no one-edit fix is listed below with
the reason."""

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

CASES = cases(Path(__file__).parent / "bad_inputs") + cases(Path(__file__).parent / "config" / "invalid_sizing")

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
    # tests/config/invalid_sizing
    "architecture-block-kv-heads-do-not-group": "the shape is the model's config.json's, and the catalog does not know it",
    "architecture-block-missing-kv-heads": "the shape is the model's config.json's, and the catalog does not know it",
    "architecture-id-not-in-catalog": "an id the catalog does not know: its shape is the model's config.json's",
    "neuron-kv-reservation-exceeds-memory-image": "the image's graphs are compiled for these settings: the fix is a "
                                                  "recompile (a new image, or source: hub), not a value here",
    "neuron-qwen3-32b-on-inf2-xlarge-image": "the image's graphs are compiled for these settings: the fix is a "
                                             "recompile (a new image, or source: hub), not a value here",
}
# Sizing cases (tests/config/invalid_sizing) whose errors do not carry their fix as data yet: each must still lack
# one, so the list only shrinks. Their messages name computed alternatives in prose (placement/vllm_budget.py,
# accelerator_memory.py, fit.py, host_memory.py); the first of them is the fix to give as data.
SIZING_NOT_YET = {
    "neuron-pipeline-parallel-unsupported",
}
# Sizing cases whose fix, applied, meets another error, with why; each must still diverge, so the list only shrinks.
# (None: an accelerator-memory error on a hub Neuron model whose request cannot hold the checkpoint carries the
# host-memory change too, placement/checks.py.)
SIZING_DIVERGENT: dict[str, str] = {}
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
        while isinstance(parent, dict) and key not in parent and keys:
            if not any(str(other).startswith(f"{key}.") for other in parent):
                parent[key] = {}  # a block the file leaves out (its defaults), made to hold the key set
                break
            key = f"{key}.{keys.pop(0)}"  # a key with dots in it (a label)
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
    if case.stem in NO_VALUE_FIX or case.stem in SIZING_NOT_YET:
        assert unfixed, f"{case.stem} has a fix now: take it off NO_VALUE_FIX/SIZING_NOT_YET"
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
        if case.stem in SIZING_DIVERGENT:
            return
        pytest.fail(f"the suggested fixes {[fix for issue in issues for fix in issue.fixes]} lead to: {error}")
    assert case.stem not in SIZING_DIVERGENT, f"{case.stem} converges now: take it off SIZING_DIVERGENT"


def test_every_case_the_lists_name_is_in_the_corpus():
    assert sorted((set(NO_VALUE_FIX) | SIZING_NOT_YET | set(SIZING_DIVERGENT)) - {case.stem for case in CASES}) == []
