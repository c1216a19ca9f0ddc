"""checkov scans every Kubernetes object of every committed stack: no failed check, and every
skipped check is one of the documented exceptions with its reason (components/_scanner_exceptions.py)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PROJECT_DIR, committed_stacks, recording_for
from vllm_eks.components import _scanner_exceptions as exceptions
from vllm_eks.preview.render import write_render

CHECKOV = Path(os.environ.get("CHECKOV", PROJECT_DIR / ".venv-checkov" / "bin" / "checkov"))
DOCUMENTED = {check: {reason} for check, reason in exceptions.VLLM_SERVER.items()}
for table in (exceptions.RUNS_AS_ROOT, exceptions.LOW_UID, exceptions.UNPINNED_IMAGE, exceptions.TOKEN_FROM_ENV,
              exceptions.DEVICE_PLUGIN, exceptions.API_CLIENT, exceptions.VENDOR_SCHEDULER, exceptions.GATEWAY, exceptions.OPEN_WEBUI,
              exceptions.DCGM_EXPORTER, exceptions.NEURON_MONITOR):
    for check, reason in table.items():
        DOCUMENTED.setdefault(check, set()).add(reason)


def run_checkov(manifest_dir: Path) -> dict:
    # Offline: no policy download, no mapping fetch from the vendor's API.
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    env.pop("BC_API_KEY", None)
    result = subprocess.run(
        [str(CHECKOV), "-d", str(manifest_dir), "--framework", "kubernetes", "--skip-download", "--compact", "-o", "json"],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert result.returncode in (0, 1), result.stderr[-2000:]
    report = json.loads(result.stdout)
    return report[0] if isinstance(report, list) else report


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, dict]:
    assert CHECKOV.exists(), f"checkov not found at {CHECKOV}; run scripts/setup --test"
    found = {}
    for stack in committed_stacks():
        out = tmp_path_factory.mktemp(stack)
        write_render(recording_for(stack), out)
        found[stack] = run_checkov(out / "manifests")
    return found


@pytest.mark.parametrize("stack", committed_stacks())
def test_checkov_finds_no_failed_check(reports, stack):
    report = reports[stack]
    failed = [f"{c['check_id']} {c['check_name']} on {c['resource']}" for c in report["results"]["failed_checks"]]
    assert failed == []
    assert report["summary"]["passed"] > 100
    assert report["summary"]["parsing_errors"] == 0


@pytest.mark.parametrize("stack", committed_stacks())
def test_every_skipped_check_is_a_documented_exception_with_its_reason(reports, stack):
    for check in reports[stack]["results"]["skipped_checks"]:
        assert check["check_id"] in DOCUMENTED, f"undocumented skip {check['check_id']} on {check['resource']}"
        assert check["check_result"]["suppress_comment"] in DOCUMENTED[check["check_id"]]


def test_the_scanner_still_fails_what_it_should(tmp_path):
    # Guards the scan above: a privileged pod without a security context must fail.
    (tmp_path / "bad.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: bad}\n"
        "spec: {containers: [{name: c, image: busybox, securityContext: {privileged: true}}]}\n"
    )
    failed = {c["check_id"] for c in run_checkov(tmp_path)["results"]["failed_checks"]}
    assert "CKV_K8S_16" in failed  # privileged container
