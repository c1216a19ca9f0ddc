"""One mistake, one error (issue 22): across both corpora (tests/bad_inputs, tests/config/invalid_sizing), no two
errors of one case suggest different values for the same key, and each case's errors are at distinct keys, so a
user is never told 'set tensorParallelSize to 2' and 'keep the degree' for one mistake."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from tests.corpus import cases, run_through_the_program

CASES = cases(Path(__file__).parent / "bad_inputs") + cases(Path(__file__).parent / "config" / "invalid_sizing")

# Cases meant to report two errors at one key (none today): name them here with why.
SAME_KEY_INTENDED: dict[str, str] = {}


@pytest.mark.parametrize("case", CASES, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_no_two_errors_of_one_case_suggest_different_changes_to_one_key(case, tmp_path):
    issues, _ = run_through_the_program(case, tmp_path)
    suggested: dict[str, set[tuple[object, ...]]] = defaultdict(set)
    for fix in (fix for issue in issues for fix in issue.fixes):
        suggested[fix.path].add((repr(fix.value), fix.rename, fix.remove))
    assert {path: changes for path, changes in suggested.items() if len(changes) > 1} == {}


@pytest.mark.parametrize("case", CASES, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_each_error_of_one_case_is_at_its_own_key(case, tmp_path):
    issues, _ = run_through_the_program(case, tmp_path)
    paths = [issue.path for issue in issues]
    repeated = sorted({path for path in paths if paths.count(path) > 1})
    assert repeated == [] or case.stem in SAME_KEY_INTENDED, f"{case.stem}: two errors at {repeated}"
