"""Fixtures shared by the preview tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import PROJECT_DIR


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project's program and dev stack that a test may break."""
    shutil.copy(PROJECT_DIR / "__main__.py", tmp_path / "__main__.py")
    shutil.copy(PROJECT_DIR / "Pulumi.dev.yaml", tmp_path / "Pulumi.dev.yaml")
    return tmp_path
