"""Run a Pulumi Python program for one stack, offline, from its `Pulumi.<stack>.yaml`.

The program may be this project's `__main__.py` or any other Pulumi Python program that
imports the components: it runs under its own project name (the `name` in its Pulumi.yaml),
so `pulumi.Config()` reads its own namespace, and this project's config rules apply only
where its code calls them (as our `__main__.py` does through `load_stack_config`).
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path
from typing import Any

import yaml

from ..config.errors import ConfigError, ConfigIssue
from ..config.loader import StackFile, read_stack_file
from ..config.units import PROJECT
from .engine import Recording, run_program


def stack_file(project_dir: Path, stack: str) -> Path:
    return project_dir / f"Pulumi.{stack}.yaml"


def project_name(project_dir: Path) -> str:
    """The `name` in DIR/Pulumi.yaml, as `pulumi` reads it (Pulumi.yaml or Pulumi.yml).

    A folder without a project file runs as this project (`vllm-eks`): the tests run copies of
    our `__main__.py` from scratch folders.
    """
    for filename in ("Pulumi.yaml", "Pulumi.yml"):
        path = project_dir / filename
        if path.is_file():
            try:
                document = yaml.safe_load(path.read_text()) or {}
            except yaml.YAMLError as error:
                raise ConfigError([ConfigIssue("", f"malformed YAML: {error}; fix the project file")], str(path)) from None
            name = document.get("name") if isinstance(document, dict) else None
            if not isinstance(name, str) or not name:
                raise ConfigError([ConfigIssue("name", "the project file needs a `name:`, which is the config namespace of its keys")], str(path))
            return name
    return PROJECT


def program_path(project_dir: Path) -> Path:
    """The program's entry point: `main:` in Pulumi.yaml (a file or a folder), else `__main__.py`."""
    document: dict[str, Any] = {}
    for filename in ("Pulumi.yaml", "Pulumi.yml"):
        if (project_dir / filename).is_file():
            document = yaml.safe_load((project_dir / filename).read_text()) or {}
            break
    main = project_dir / str(document.get("main", "")) if document.get("main") else project_dir
    return main / "__main__.py" if main.is_dir() else main


def run_stack(
    project_dir: Path, stack: str, capture_error: bool = False, config: StackFile | None = None,
) -> Recording:
    """The same program `pulumi up` runs, with the stack file's config, under the mock engine.

    `config` replaces the stack file (tests that vary one key). A stack file that cannot be
    read raises ConfigError before the program starts.
    """
    project = project_name(project_dir)
    stack_config = config or read_stack_file(stack_file(project_dir, stack), project=project)
    values, secret_keys = stack_config.as_pulumi_config()
    program = program_path(project_dir)
    # The program imports its own modules the way `pulumi up` does: from its own directory.
    if str(program.parent) not in sys.path:
        sys.path.insert(0, str(program.parent))
    return run_program(
        lambda: runpy.run_path(str(program), run_name="__main__"),
        project=project, stack=stack, config=values, secret_keys=secret_keys, capture_error=capture_error,
    )
