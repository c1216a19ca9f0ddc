"""A throwaway git repository with a copy of this project's program files, committed once: the
base that `vllm-eks diff --base` and the pull-request comment render from."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import PROJECT_DIR


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def committed_copy(tmp_path: Path, *names: str) -> Path:
    """`tmp_path/repo` holding `names` copied from the project, committed as its first commit."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in names:
        shutil.copy(PROJECT_DIR / name, repo / name)
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "base")
    return repo
