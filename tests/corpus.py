"""One harness for the stack-file corpora (tests/bad_inputs, tests/config/invalid_sizing): each case is a
stack file whose `# expect: ` lines list exactly the problems it must fail with."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import PROJECT_DIR
from vllm_eks.config.errors import ConfigError, ConfigIssue
from vllm_eks.preview.runner import run_stack

EXPECT = "# expect: "


def cases(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.yaml"))


def expected(case: Path) -> list[str]:
    return [line[len(EXPECT):] for line in case.read_text().splitlines() if line.startswith(EXPECT)]


def run_through_the_program(case: Path, scratch: Path) -> tuple[list[ConfigIssue], int]:
    """The case as `vllm-eks preview` runs it: this project's program on a copy of the stack file.
    Returns the problems reported and how many resources were registered before them."""
    shutil.copy(PROJECT_DIR / "__main__.py", scratch / "__main__.py")
    shutil.copy(case, scratch / "Pulumi.bad.yaml")
    try:
        recording = run_stack(scratch, "bad", capture_error=True)
    except ConfigError as error:  # the stack file itself could not be read
        return error.issues, 0
    assert isinstance(recording.error, ConfigError), f"{case.name} was accepted"
    return recording.error.issues, len(recording.resources)
