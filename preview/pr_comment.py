"""The pull-request comment: the offline diff of every committed stack against the PR's base.

`python -m vllm_eks.preview.pr_comment --base origin/main --out comment.md [--project-dir DIR ...]`, as
`.github/workflows/preview.yml` runs it. Needs no Pulumi CLI, cloud account or cluster: each stack
is rendered at the base ref (in a temporary git worktree) and in the work tree, and compared.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from .diff import diff_renders
from .diff_format import format_markdown
from .diff_stack import RenderFailed, render_ref_and_work_tree, stacks_at_ref

MARKER = "<!-- vllm-eks offline diff -->"
"""First line of the comment, so the workflow updates its own comment instead of adding another."""
GITHUB_COMMENT_LIMIT = 65536
"""GitHub refuses comment bodies longer than this many characters."""


def committed_stacks(project_dir: Path) -> list[str]:
    """Stacks with a `Pulumi.<stack>.yaml` in the work tree (the PR's head)."""
    return sorted(path.name[len("Pulumi."):-len(".yaml")] for path in project_dir.glob("Pulumi.*.yaml"))


def pr_comment(project_dirs: Sequence[Path], base_ref: str, root: Path | None = None) -> tuple[str, bool]:
    """(markdown, anything changed) for every stack of every project folder, at the base or the head
    (a stack the PR deletes shows as all removed)."""
    sections, changed = [], False
    for project_dir in project_dirs:
        shown = project_dir.resolve().relative_to(root.resolve()) if root else project_dir
        prefix = "" if str(shown) in (".", "") else f"{shown}: "
        for stack in sorted(set(committed_stacks(project_dir)) | set(stacks_at_ref(project_dir, base_ref))):
            title = f"{prefix}stack `{stack}`"
            with tempfile.TemporaryDirectory(prefix="vllm-eks-pr-") as scratch:
                try:
                    base, head = render_ref_and_work_tree(project_dir, stack, base_ref, Path(scratch))
                except RenderFailed as error:
                    sections.append(f"### {title}\n\n**Could not render:**\n\n```\n{error}\n```\n")
                    changed = True
                    continue
            diff = diff_renders(base, head)
            changed = changed or diff.changed
            sections.append(format_markdown(diff, title))
    header = f"{MARKER}\n## Infrastructure diff (offline preview, vllm-eks)\n\n" + (
        "Rendered at the base and at this PR's head with the mock engine: no cloud calls. "
        "`!` marks a replacement, with the input that forces it.\n"
    )
    return fit_comment("\n".join([header, *sections])), changed


_FENCE = "```"
TRUNCATED_NOTE = "\n\n_(truncated: the full diff is in this run's job summary and `vllm-eks diff --stack NAME --base REF`)_\n"


def fit_comment(body: str) -> str:
    """`body` cut to GitHub's limit, with the note saying so outside any code block: a cut inside
    a fenced block closes the fence first, or the note (and the rest of the page) renders as code."""
    if len(body) <= GITHUB_COMMENT_LIMIT:
        return body
    closing = "\n" + _FENCE
    cut = body[:GITHUB_COMMENT_LIMIT - len(TRUNCATED_NOTE) - len(closing)]
    fences = sum(1 for line in cut.splitlines() if line.startswith(_FENCE))
    return cut + (closing if fences % 2 else "") + TRUNCATED_NOTE


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vllm_eks.preview.pr_comment", description=__doc__)
    parser.add_argument("--base", required=True, metavar="GIT_REF", help="the pull request's base, e.g. origin/main")
    parser.add_argument("--project-dir", type=Path, action="append", help="Pulumi project folder (repeatable; default: .)")
    parser.add_argument("--out", type=Path, help="write the comment here (default: stdout)")
    args = parser.parse_args(argv)
    dirs = args.project_dir or [Path.cwd()]
    body, _ = pr_comment(dirs, args.base, root=Path.cwd())
    if args.out:
        args.out.write_text(body)
    else:
        sys.stdout.write(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
