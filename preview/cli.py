"""`vllm-eks`: preview or render a stack offline, with no Pulumi CLI, AWS account or cluster."""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import textwrap
import time
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from ..config.autoscaling import replica_bounds
from ..config.errors import ConfigError
from ..config.loader import validate_stack_file
from ..config.placement.records import unit_name
from ..config.python_terms import python_text
from ..config.stack import StackConfig
from ..config.units import PROJECT
from ..config.validation import ValidatedStack
from ..config.wording import plural
from .diff import SIZING_FILE, Render, diff_renders
from .diff_format import format_markdown, format_text
from .diff_stack import RenderFailed, render_ref_and_work_tree
from .engine import Recording
from .monitoring_summary import MONITORING_FILE, monitoring_lines
from .rehearsal import Rehearsal, rehearse
from .render import resource_tree, write_render
from .runner import project_name, run_stack, stack_file
from .sizing_table import format_sizing_table

EXIT_CHANGED = 1
EXIT_INVALID_CONFIG = 2
EXIT_WARNINGS_STRICT = 3


def model_summary(validated: ValidatedStack, recording: Recording) -> list[str]:
    endpoints = recording.outputs.get("modelEndpoints", {})
    lines = []
    for placed in validated.placed:
        model = placed.model
        low, high = replica_bounds(model)
        count = plural(high, "replica") if low == high else f"{low}-{high} replicas (autoscaled)"
        lines.append(
            f"  {model.name}: {count} x {model.accelerators_per_pod} "
            f"{unit_name(placed.traits, model.accelerators_per_pod)} "
            f"on {model.node_group} ({placed.group.instance_type}), source {model.source.value}, "
            f"namespace {model.namespace}, {endpoints.get(model.name, 'no endpoint')}"
        )
    return lines


FRONT_DOOR = (("gatewayUrl", "gateway (OpenAI-compatible, every model)"), ("openWebuiUrl", "Open WebUI"))
"""Stack outputs the preview prints as the stack's entry points (docs/gateway.md)."""


def front_door_lines(recording: Recording) -> list[str]:
    """The one URL for every model, and Open WebUI's, when the stack has them."""
    found = [f"  {label}: {recording.outputs[key]}" for key, label in FRONT_DOOR if key in recording.outputs]
    return ["", "Front door:", *found] if found else []


def output_lines(recording: Recording) -> list[str]:
    """The program's stack outputs, secrets masked, for a program that is not this project's."""
    return [f"  {key}: {recording.outputs[key]}" for key in sorted(recording.outputs)]


def sizing_lines(validated: ValidatedStack, with_capacity: bool = True) -> list[str]:
    return ["", "Sizing:", format_sizing_table(validated, with_capacity)] if validated.placed else []


def _run(project_dir: Path, stack_name: str) -> tuple[Recording | None, ValidatedStack | None]:
    """Validate the stack file (nothing registered on an error), then run the program on it; the
    program's own validation of the same values is the loader's remembered result. Another
    project's program keeps its config its own: only what it registered is shown."""
    ours = project_name(project_dir) == PROJECT
    try:
        validated = validate_stack_file(stack_file(project_dir, stack_name)) if ours else None
        recording = run_stack(project_dir, stack_name, capture_error=True)
    except ConfigError as error:
        _print_config_error(error, registered=0)
        return None, None
    if isinstance(recording.error, ConfigError):
        _print_config_error(recording.error, registered=len(recording.resources))
        return None, None
    if recording.error is not None:
        raise recording.error
    return recording, validated or library_stack(recording)


def _print_config_error(error: ConfigError, registered: int) -> None:
    print(str(error), file=sys.stderr)
    if registered == 0:
        print("Nothing was created: 0 resources registered.", file=sys.stderr)
    else:
        # A component's own check (library mode) failed after the program had registered others: a real
        # `pulumi up` would create those before stopping, so say so rather than promise nothing was.
        print(f"Stopped after {plural(registered, 'resource')} had been registered: offline nothing was created, "
              f"but a real `pulumi up` would create {'it' if registered == 1 else 'them'} before failing here.",
              file=sys.stderr)


def _rehearsal(recording: Recording, validated: ValidatedStack | None) -> Rehearsal | None:
    """The deploy rehearsal of this project's stacks, or of the models another project's program checked
    through VllmModel (library mode); None for a program with no models."""
    return rehearse(recording, validated.stack) if validated is not None else None


def library_stack(recording: Recording) -> ValidatedStack | None:
    """The models a program's VllmModel components checked themselves, as a stack the sizing table and the
    rehearsal read (their warnings were already logged by the components)."""
    if not recording.library_checks:
        return None
    placed = tuple(check.placed for check in recording.library_checks)
    stack = StackConfig.model_construct(models=[p.model for p in placed], node_groups=[p.group for p in placed])
    return ValidatedStack(stack, placed, ())


def _finish(recording: Recording, strict: bool, rehearsal: Rehearsal | None = None,
            validated: ValidatedStack | None = None) -> int:
    """Print the program's warnings and the rehearsal's predicted timeouts, wrapped to read in a terminal;
    --strict fails on any the stack does not accept (`acceptedWarnings`)."""
    warnings = [*recording.warnings, *(rehearsal.warnings() if rehearsal else [])]
    for _, accepted in validated.accepted if validated is not None else ():
        print(_wrapped(f"accepted warning at {accepted}"), file=sys.stderr)
    for warning in warnings:
        print(_wrapped(f"warning: {warning}"), file=sys.stderr)
    if strict and warnings:
        count = len(warnings)
        print(f"--strict: {plural(count, 'warning')} {'counts as an error' if count == 1 else 'count as errors'}.",
              file=sys.stderr)
        return EXIT_WARNINGS_STRICT
    return 0


def _wrapped(text: str) -> str:
    """A long message on lines of at most 110 characters, continued lines indented (words and paths unbroken)."""
    return textwrap.fill(text, width=110, subsequent_indent="    ", break_long_words=False, break_on_hyphens=False)


def _clear_earlier_render(out: Path) -> str:
    """Remove what an earlier render wrote under `out`, so a failed render leaves nothing to apply by mistake."""
    removed = [path for path in (out / "manifests", out / "plan.json", out / SIZING_FILE) if path.exists()]
    for path in removed:
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    return " (the earlier render there was removed, so it cannot be applied by mistake)" if removed else ""


def cmd_preview(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    recording, validated = _run(args.project_dir, args.stack)
    if recording is None:
        return EXIT_INVALID_CONFIG
    print(resource_tree(recording))
    if validated is None or not recording.outputs.get("modelEndpoints") and recording.library_checks:
        print("\nOutputs:")
        print("\n".join(output_lines(recording)) or "  (none)")
        if validated is not None:  # library mode: the models the program's VllmModels checked, in Python terms
            # The cluster's nodes are not the program's: no node-group capacity or cost of ours to show.
            print(python_text("\n".join(sizing_lines(validated, with_capacity=False))))
    else:
        print("\nModels:")
        print("\n".join(model_summary(validated, recording)) or "  (none)")
        door = front_door_lines(recording)
        if door:
            print("\n".join(door))
        print("\n".join(sizing_lines(validated)))
        print("\nMonitoring:")
        print("\n".join(monitoring_lines(validated.stack.monitoring, recording)))
    rehearsal = _rehearsal(recording, validated)
    if rehearsal is not None:
        print("\n".join(rehearsal.lines()))
    print(f"\n{plural(len(recording.resources), 'resource')}, {plural(len(recording.kubernetes_objects()), 'Kubernetes object')} "
          f"(previewed offline in {time.perf_counter() - started:.2f}s)")
    return _finish(recording, args.strict, rehearsal, validated)


def cmd_render(args: argparse.Namespace) -> int:
    recording, validated = _run(args.project_dir, args.stack)
    if recording is None:
        print(f"Nothing was written under {args.out}{_clear_earlier_render(args.out)}.", file=sys.stderr)
        return EXIT_INVALID_CONFIG
    rehearsal = _rehearsal(recording, validated)
    status = _finish(recording, args.strict, rehearsal, validated)
    if status:  # a render that fails writes nothing, so no stale or half-checked manifests are left to apply
        print(f"Nothing was written under {args.out}{_clear_earlier_render(args.out)}.", file=sys.stderr)
        return status
    written = write_render(recording, args.out, rehearsal.as_plan() if rehearsal else None)
    extra = ""
    if validated is not None and validated.placed:
        # What `vllm-eks diff` compares besides the plan.
        library = bool(recording.library_checks) and not recording.outputs.get("modelEndpoints")
        table = format_sizing_table(validated, with_capacity=not library)
        (args.out / SIZING_FILE).write_text((python_text(table) if library else table) + "\n")
        extra = f" and {SIZING_FILE}"
    if validated is not None:
        # What is monitored: the chart is one opaque resource in plan.json, so say it in words too.
        lines = monitoring_lines(validated.stack.monitoring, recording)
        (args.out / MONITORING_FILE).write_text("\n".join(lines) + "\n")
        print("Monitoring:\n" + "\n".join(lines))
        extra += f", {MONITORING_FILE}"
    print(f"Wrote {plural(len(written) - 1, 'manifest')}, plan.json{extra} under {args.out}")
    return status


def cmd_diff(args: argparse.Namespace) -> int:
    """Exit 0 (or 1 with --exit-code when anything changed); 2 when a side cannot be rendered."""
    try:
        if args.stack:
            if args.dirs or not args.base:
                print("diff --stack NAME needs --base GIT_REF and no folders", file=sys.stderr)
                return EXIT_INVALID_CONFIG
            with tempfile.TemporaryDirectory(prefix="vllm-eks-diff-") as scratch:
                base, head = render_ref_and_work_tree(args.project_dir, args.stack, args.base, Path(scratch))
            title = f"vllm-eks offline diff: stack `{args.stack}`"
        else:
            if len(args.dirs) != 2 or args.base:
                print("diff needs BASE_DIR HEAD_DIR, or --stack NAME --base GIT_REF", file=sys.stderr)
                return EXIT_INVALID_CONFIG
            base, head = (Render.read(Path(folder), folder) for folder in args.dirs)
            title = None
    except (RenderFailed, FileNotFoundError) as error:
        print(str(error), file=sys.stderr)
        return EXIT_INVALID_CONFIG
    diff = diff_renders(base, head)
    print(format_markdown(diff, title) if args.format == "markdown" else format_text(diff), end="")
    return EXIT_CHANGED if args.exit_code and diff.changed else 0


def stack_name(value: str) -> str:
    """A stack's name, also from the file name a newcomer types (`Pulumi.dev.yaml` is stack `dev`)."""
    match = re.fullmatch(r"(?:.*/)?Pulumi\.(.+)\.ya?ml", value)
    return match.group(1) if match else value


def _version() -> str:
    try:
        return version("vllm-eks")
    except PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vllm-eks", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, handler, help_text in (
        ("preview", cmd_preview, "print the resource tree, model summary, sizing and deploy rehearsal for a stack"),
        ("render", cmd_render, "write every Kubernetes object as YAML and the full plan (with the rehearsal) as JSON"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--stack", required=True, type=stack_name,
                             help="stack name (or its file name); reads Pulumi.<stack>.yaml")
        command.add_argument("--project-dir", type=Path, default=Path.cwd(), help="folder with Pulumi.yaml (default: current)")
        command.add_argument("--strict", action="store_true", help="fail (exit 3) when there are warnings")
        command.set_defaults(handler=handler)
        if name == "render":
            command.add_argument("--out", type=Path, required=True, help="output folder")
    diff = commands.add_parser(
        "diff", help="compare two renders, or a stack at a git ref with the work tree, resource by resource",
        description="vllm-eks diff BASE_DIR HEAD_DIR  |  vllm-eks diff --stack NAME --base GIT_REF",
    )
    diff.add_argument("dirs", nargs="*", metavar="DIR", help="two `vllm-eks render` folders: base, then head")
    diff.add_argument("--stack", type=stack_name, help="stack to render at --base and in the work tree")
    diff.add_argument("--base", metavar="GIT_REF", help="git ref to compare the work tree with (rendered in a temporary worktree)")
    diff.add_argument("--project-dir", type=Path, default=Path.cwd(), help="folder with Pulumi.yaml (default: current)")
    diff.add_argument("--format", choices=("text", "markdown"), default="text", help="markdown: for a pull-request comment")
    diff.add_argument("--exit-code", action="store_true", help="exit 1 when anything changed")
    diff.set_defaults(handler=cmd_diff)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.project_dir = args.project_dir.resolve()
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
