"""Render one stack at a git ref and in the work tree, for `vllm-eks diff --stack NAME --base REF`.

The ref is checked out in a temporary `git worktree`, and each side renders in its own Python
process with its own checkout first on `sys.path`, so the base is rendered by the base's code
(components, builders and preview as they were) and the two runs share no imported modules.
In a consumer's repository, which imports an installed vllm-eks, both sides run that installed
version, so the diff is the consumer's own change.
A stack file that does not exist at the ref renders as an empty stack (a new stack: all added),
and one deleted from the work tree as an empty head (all removed).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from .diff import Render


class RenderFailed(RuntimeError):
    """One side of the diff could not be rendered; the message is that render's own output."""


def _git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise RenderFailed(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout.strip()


def render_in_subprocess(code_root: Path, project_dir: Path, stack: str, out: Path) -> None:
    """`vllm-eks render` of `project_dir` with the preview code of `code_root`."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(code_root), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    result = subprocess.run(
        [sys.executable, "-m", "vllm_eks.preview.cli", "render", "--stack", stack, "--project-dir", str(project_dir), "--out", str(out)],
        cwd=code_root, env=env, capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise RenderFailed(f"rendering stack {stack!r} of {project_dir} failed (exit {result.returncode}):\n{result.stderr.strip()}")


def render_ref_and_work_tree(project_dir: Path, stack: str, base_ref: str, scratch: Path) -> tuple[Render, Render]:
    """(base at `base_ref`, head in the work tree) renders of one stack."""
    repo = Path(_git(project_dir, "rev-parse", "--show-toplevel"))
    commit = _git(repo, "rev-parse", "--verify", "--quiet", f"{base_ref}^{{commit}}")
    relative = project_dir.resolve().relative_to(repo.resolve())
    base_tree = Path(tempfile.mkdtemp(prefix="vllm-eks-base-", dir=scratch))
    _git(repo, "worktree", "add", "--detach", "--force", str(base_tree), commit)
    try:
        base_label = f"{base_ref} ({commit[:7]})"
        base_project = base_tree / relative
        if (base_project / f"Pulumi.{stack}.yaml").is_file():
            render_in_subprocess(base_tree, base_project, stack, scratch / "base")
            base = Render.read(scratch / "base", base_label)
        else:
            base = Render.empty(base_label)
    finally:
        _git(repo, "worktree", "remove", "--force", str(base_tree))
    if not (project_dir / f"Pulumi.{stack}.yaml").is_file():
        return base, Render.empty("work tree")  # the stack was deleted: everything is removed
    render_in_subprocess(repo, project_dir.resolve(), stack, scratch / "head")
    return base, Render.read(scratch / "head", "work tree")


def stacks_at_ref(project_dir: Path, base_ref: str) -> list[str]:
    """Stack names with a `Pulumi.<stack>.yaml` in `project_dir` at `base_ref` (none if the folder is new)."""
    repo = Path(_git(project_dir, "rev-parse", "--show-toplevel"))
    relative = project_dir.resolve().relative_to(repo.resolve()).as_posix()
    prefix = "" if relative == "." else f"{relative}/"
    try:
        names = _git(repo, "ls-tree", "--name-only", f"{base_ref}:{relative}" if prefix else base_ref).splitlines()
    except RenderFailed:
        return []
    return sorted(name[len("Pulumi."):-len(".yaml")] for name in names if name.startswith("Pulumi.") and name.endswith(".yaml")
                  and name not in ("Pulumi.yaml",))
