"""The rendered committed stacks are checked in under tests/golden/<stack> and reviewed like code:
dev in full (manifests and plan.json), prod's manifests (its GPU models' Deployments among them).

After an intended change: `UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden_render.py`,
then read `git diff tests/golden`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import PROJECT_DIR, recording_for
from vllm_eks.config.loader import load_stack_file
from vllm_eks.preview.rehearsal import rehearse
from vllm_eks.preview.render import write_render

GOLDEN = Path(__file__).parent / "golden"
# prod's plan.json would add thousands of lines of AWS inputs that dev's plan already covers.
KEPT = {"dev": ("manifests", "plan.json"), "prod": ("manifests",)}


def _files(root: Path, kept: tuple[str, ...]) -> dict[str, str]:
    return {str(path.relative_to(root)): path.read_text() for path in sorted(root.rglob("*"))
            if path.is_file() and path.relative_to(root).parts[0] in kept}


@pytest.mark.parametrize("stack", sorted(KEPT))
def test_the_render_matches_the_reviewed_snapshot(stack, tmp_path):
    recording = recording_for(stack)
    rehearsal = rehearse(recording, load_stack_file(PROJECT_DIR / f"Pulumi.{stack}.yaml"))
    write_render(recording, tmp_path, rehearsal.as_plan())
    golden = GOLDEN / stack
    if os.environ.get("UPDATE_GOLDEN"):
        shutil.rmtree(golden, ignore_errors=True)
        golden.mkdir(parents=True)
        for name in KEPT[stack]:
            source = tmp_path / name
            (shutil.copytree if source.is_dir() else shutil.copy)(source, golden / name)
    rendered, reviewed = _files(tmp_path, KEPT[stack]), _files(golden, KEPT[stack])
    assert sorted(rendered) == sorted(reviewed), "files differ; rerun with UPDATE_GOLDEN=1 and review git diff"
    changed = [name for name in rendered if rendered[name] != reviewed[name]]
    assert changed == [], f"{changed} differ from tests/golden/{stack}; rerun with UPDATE_GOLDEN=1 and review git diff"
