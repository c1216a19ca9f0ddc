"""What `pip install` of the checkout puts on a consumer's path: the `vllm_eks` package only, so a
consumer's own `config.py` or `components/` never shadows ours (the repository keeps config/,
components/ and preview/ at its top level, as a Pulumi program's layout has them)."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from tests.conftest import PROJECT_DIR


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(PROJECT_DIR)],
                   check=True, capture_output=True, text=True)
    [built] = out.glob("vllm_eks-*.whl")
    return zipfile.ZipFile(built)


def test_the_distribution_installs_one_top_level_package_vllm_eks(wheel):
    top_level = {name.split("/")[0] for name in wheel.namelist()}
    assert {name for name in top_level if not name.endswith(".dist-info")} == {"vllm_eks"}
    assert {"vllm_eks/config/model.py", "vllm_eks/components/vllm_model.py", "vllm_eks/preview/cli.py",
            "vllm_eks/config/placement/checks.py"} <= set(wheel.namelist())


def test_the_command_is_vllm_eks_and_runs_the_packaged_cli(wheel):
    [entry_points] = [name for name in wheel.namelist() if name.endswith(".dist-info/entry_points.txt")]
    assert "vllm-eks = vllm_eks.preview.cli:main" in wheel.read(entry_points).decode()


def test_importing_the_public_api_needs_no_pulumi_until_a_component_is_used():
    code = ("import sys, vllm_eks, vllm_eks.config.validation; assert 'pulumi' not in sys.modules; "
            "vllm_eks.VllmModel; assert 'pulumi' in sys.modules; print(vllm_eks.__version__)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_DIR.parent)
    assert result.returncode == 0, result.stderr
