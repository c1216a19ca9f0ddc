"""Run a project's `__main__.py` for one stack, offline, from its `Pulumi.<stack>.yaml`."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from config.loader import PROJECT, read_stack_file
from preview.engine import Recording, run_program


def stack_file(project_dir: Path, stack: str) -> Path:
    return project_dir / f"Pulumi.{stack}.yaml"


def run_stack(project_dir: Path, stack: str, capture_error: bool = False) -> Recording:
    """The same program `pulumi up` runs, with the stack file's config, under the mock engine.

    A stack file that cannot be read raises ConfigError before the program starts.
    """
    config, secret_keys = read_stack_file(stack_file(project_dir, stack)).as_pulumi_config()
    program = project_dir / "__main__.py"
    # The program imports `components` and `config` the way `pulumi up` does: from its own directory.
    if str(project_dir) not in sys.path:
        sys.path.insert(0, str(project_dir))
    return run_program(
        lambda: runpy.run_path(str(program), run_name="__main__"),
        project=PROJECT, stack=stack, config=config, secret_keys=secret_keys, capture_error=capture_error,
    )
