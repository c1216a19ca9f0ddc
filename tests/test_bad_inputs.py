"""A corpus of broken stack files (tests/bad_inputs), one mistake each. Every one fails with
exactly the problems its `# expect:` header lists, through the same path as `vllm-eks preview`,
and with nothing registered."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from config.errors import ConfigError
from preview.runner import run_stack
from tests.conftest import PROJECT_DIR

CORPUS = Path(__file__).parent / "bad_inputs"
EXPECT = "# expect: "


def _expected(path: Path) -> list[str]:
    return [line[len(EXPECT):] for line in path.read_text().splitlines() if line.startswith(EXPECT)]


def test_the_corpus_has_at_least_30_cases_each_with_an_expectation():
    cases = sorted(CORPUS.glob("*.yaml"))
    assert len(cases) >= 30
    assert [case.name for case in cases if not _expected(case)] == []


@pytest.mark.parametrize("case", sorted(CORPUS.glob("*.yaml")), ids=lambda path: path.stem)
def test_bad_input_fails_with_its_message_and_registers_nothing(case, tmp_path):
    shutil.copy(PROJECT_DIR / "__main__.py", tmp_path / "__main__.py")
    shutil.copy(case, tmp_path / "Pulumi.bad.yaml")
    try:
        recording = run_stack(tmp_path, "bad", capture_error=True)
    except ConfigError as error:  # the stack file itself could not be read
        issues, registered = error.issues, 0
    else:
        assert isinstance(recording.error, ConfigError), f"{case.name} was accepted"
        issues, registered = recording.error.issues, len(recording.resources)
    assert [str(issue) for issue in issues] == _expected(case)
    assert registered == 0
