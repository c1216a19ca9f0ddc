"""A corpus of broken stack files (tests/bad_inputs), one mistake each. Every one fails with
exactly the problems its `# expect:` header lists, through the same path as `vllm-eks preview`,
and with nothing registered."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.corpus import cases, expected, run_through_the_program

CASES = cases(Path(__file__).parent / "bad_inputs")


def test_the_corpus_has_at_least_30_cases_each_with_an_expectation():
    assert len(CASES) >= 30
    assert [case.name for case in CASES if not expected(case)] == []


@pytest.mark.parametrize("case", CASES, ids=lambda path: path.stem)
def test_bad_input_fails_with_its_message_and_registers_nothing(case, tmp_path):
    issues, registered = run_through_the_program(case, tmp_path)
    assert [str(issue) for issue in issues] == expected(case)
    assert registered == 0
