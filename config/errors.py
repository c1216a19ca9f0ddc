"""One error type for every config mistake, carrying each problem with its config path."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence, Union

from pydantic import ValidationError

PathPart = Union[str, int]


@dataclass(frozen=True)
class ConfigIssue:
    """A single problem: where it is (`models[1].tensorParallelSize`) and what to do."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def format_path(parts: Sequence[PathPart]) -> str:
    """`("models", 1, "tensorParallelSize")` -> `models[1].tensorParallelSize`."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


class ConfigError(ValueError):
    """Raised before any resource is registered; lists every problem found."""

    def __init__(self, issues: Iterable[ConfigIssue], source: str = "stack config"):
        self.issues = list(issues)
        self.source = source
        count = len(self.issues)
        noun = "problem" if count == 1 else "problems"
        lines = [f"Invalid {source} ({count} {noun}):"]
        lines += [f"  - {issue}" for issue in self.issues]
        super().__init__("\n".join(lines))


def issues_from_validation_error(error: ValidationError, prefix: Sequence[PathPart] = ()) -> list[ConfigIssue]:
    """Turn pydantic's errors into issues with Pulumi-style paths and the offending value."""
    issues = []
    for item in error.errors(include_url=False):
        loc = [part for part in (*prefix, *item["loc"]) if not _is_union_tag(part)]
        message = item["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, "):]
        if item["type"] == "extra_forbidden":
            message = "unknown key; remove it or check its spelling against the README's config reference"
        elif item["type"] == "missing":
            message = "required key is missing"
        elif "input" in item and item["type"] not in ("value_error", "assertion_error"):
            message = f"{message} (got {_describe(item['input'])})"
        issues.append(ConfigIssue(format_path(loc), message))
    return issues


def _describe(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _is_union_tag(part: PathPart) -> bool:
    # pydantic inserts the validator name of a union member (e.g. "function-after[...]")
    # into locations; users never wrote those keys.
    return isinstance(part, str) and ("[" in part or part.startswith("function-"))
