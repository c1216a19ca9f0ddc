"""The invalid sizing/placement corpus (tests/config/invalid_sizing): each file is a valid base
stack with one mistake, and fails with exactly the problems its `# expect:` header lists, both
from the loader and through the preview program, with nothing registered."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from config.errors import ConfigError
from config.loader import load_stack_file
from preview.runner import run_stack
from tests.conftest import PROJECT_DIR

CORPUS = Path(__file__).parent / "invalid_sizing"
EXPECT = "# expect: "
CASES = sorted(CORPUS.glob("*.yaml"))


def _expected(path: Path) -> list[str]:
    return [line[len(EXPECT):] for line in path.read_text().splitlines() if line.startswith(EXPECT)]


def test_the_corpus_has_at_least_30_cases_each_expecting_exactly_one_problem():
    assert len(CASES) >= 30
    assert [case.name for case in CASES if len(_expected(case)) != 1] == []


@pytest.mark.parametrize("case", CASES, ids=lambda path: path.stem)
def test_loading_the_invalid_config_fails_with_its_path_and_message(case):
    with pytest.raises(ConfigError) as raised:
        load_stack_file(case)
    assert [str(issue) for issue in raised.value.issues] == _expected(case)
    path = _expected(case)[0].split(": ", 1)[0]
    assert [issue.path for issue in raised.value.issues] == [path]


@pytest.mark.parametrize("case", CASES, ids=lambda path: path.stem)
def test_the_program_registers_nothing_for_an_invalid_config(case, tmp_path):
    shutil.copy(PROJECT_DIR / "__main__.py", tmp_path / "__main__.py")
    shutil.copy(case, tmp_path / "Pulumi.bad.yaml")
    recording = run_stack(tmp_path, "bad", capture_error=True)
    assert isinstance(recording.error, ConfigError)
    assert [str(issue) for issue in recording.error.issues] == _expected(case)
    assert len(recording.resources) == 0
