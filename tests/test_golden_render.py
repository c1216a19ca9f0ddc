"""The rendered dev stack is checked in under tests/golden/dev and reviewed like code.

After an intended change: `UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden_render.py`,
then read `git diff tests/golden`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from preview.render import write_render

GOLDEN = Path(__file__).parent / "golden" / "dev"


def _files(root: Path) -> dict[str, str]:
    return {str(path.relative_to(root)): path.read_text() for path in sorted(root.rglob("*")) if path.is_file()}


def test_dev_render_matches_the_reviewed_snapshot(dev_recording, tmp_path):
    write_render(dev_recording, tmp_path)
    if os.environ.get("UPDATE_GOLDEN"):
        shutil.rmtree(GOLDEN, ignore_errors=True)
        shutil.copytree(tmp_path, GOLDEN)
    rendered, golden = _files(tmp_path), _files(GOLDEN)
    assert sorted(rendered) == sorted(golden), "files differ; rerun with UPDATE_GOLDEN=1 and review git diff"
    changed = [name for name in rendered if rendered[name] != golden[name]]
    assert changed == [], f"{changed} differ from tests/golden/dev; rerun with UPDATE_GOLDEN=1 and review git diff"
