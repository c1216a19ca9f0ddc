"""The invalid sizing/placement corpus (tests/config/invalid_sizing): each file is a valid base
stack with one mistake, and fails with exactly the problems its `# expect:` header lists, both
from the loader and through the preview program, with nothing registered."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.corpus import cases, expected, run_through_the_program
from vllm_eks.config.errors import ConfigError
from vllm_eks.config.loader import load_stack_file

CASES = cases(Path(__file__).parent / "invalid_sizing")


def test_the_corpus_has_at_least_30_cases_each_expecting_exactly_one_problem():
    assert len(CASES) >= 30
    assert [case.name for case in CASES if len(expected(case)) != 1] == []


@pytest.mark.parametrize("case", CASES, ids=lambda path: path.stem)
def test_loading_the_invalid_config_fails_with_its_path_and_message(case):
    with pytest.raises(ConfigError) as raised:
        load_stack_file(case)
    assert [str(issue) for issue in raised.value.issues] == expected(case)
    path = expected(case)[0].split(": ", 1)[0]
    assert [issue.path for issue in raised.value.issues] == [path]


@pytest.mark.parametrize("case", CASES, ids=lambda path: path.stem)
def test_the_program_registers_nothing_for_an_invalid_config(case, tmp_path):
    issues, registered = run_through_the_program(case, tmp_path)
    assert [str(issue) for issue in issues] == expected(case)
    assert registered == 0
