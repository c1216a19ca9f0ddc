"""One error type for every config mistake, carrying each problem with its config path."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence, Union

from pydantic import ValidationError

from .tokens import redact
from .wording import plural

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
        # A message may quote the value it refuses; a token-shaped value is never printed.
        self.issues = [ConfigIssue(issue.path, redact(issue.message)) for issue in issues]
        self.source = source
        count = len(self.issues)
        lines = [f"Invalid {source} ({plural(count, 'problem')}):"]
        lines += [f"  - {issue}" for issue in self.issues]
        super().__init__("\n".join(lines))


class NestedIssues(ValueError):
    """Raised by a validator that checks a nested block itself: its issues' paths are relative to
    the field, and `issues_from_validation_error` prefixes them, so every path has one form
    (`models[0].architecture.parameters`)."""

    def __init__(self, issues: Sequence[ConfigIssue]):
        self.issues = list(issues)
        super().__init__("; ".join(str(issue) for issue in self.issues))


def issues_from_validation_error(error: ValidationError, prefix: Sequence[PathPart] = ()) -> list[ConfigIssue]:
    """Turn pydantic's errors into issues with Pulumi-style paths, the offending value, and
    words a stack file's author uses (no Python type names)."""
    issues = []
    for item in error.errors(include_url=False):
        loc = [part for part in (*prefix, *item["loc"]) if not _is_union_tag(part)]
        nested = (item.get("ctx") or {}).get("error")
        if isinstance(nested, NestedIssues):
            base = format_path(loc)
            issues += [ConfigIssue(_join(base, issue.path), issue.message) for issue in nested.issues]
            continue
        issues.append(ConfigIssue(format_path(loc), _message(item)))
    return issues


def _join(base: str, path: str) -> str:
    """`models[0].architecture` + `kvHeads` -> `models[0].architecture.kvHeads`."""
    if not base or not path:
        return base or path
    return f"{base}{path}" if path.startswith("[") else f"{base}.{path}"


# pydantic error types whose text names a Python type; said here in YAML's words instead.
_TYPE_WORDS = {
    "model_type": "must be a mapping of keys", "model_attributes_type": "must be a mapping of keys",
    "dict_type": "must be a mapping of keys", "list_type": "must be a list", "string_type": "must be a string",
    "int_type": "must be a whole number", "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number", "float_type": "must be a number", "float_parsing": "must be a number",
    "bool_type": "must be true or false", "bool_parsing": "must be true or false",
}


def _message(item: dict) -> str:
    kind, message = item["type"], item["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    if kind == "extra_forbidden":
        return "unknown key; remove it or check its spelling against the config reference (docs/config-reference.md)"
    if kind == "missing":
        return "required key is missing"
    if kind in ("value_error", "assertion_error") or "input" not in item:
        return message
    value = item["input"]
    if kind == "string_type" and isinstance(value, bool):
        return (f"must be a string, but YAML read an unquoted {str(value).lower()} (YAML 1.1 also reads yes/no/on/off "
                f"that way); put the value in quotes")
    if kind == "string_type" and isinstance(value, float):
        # Only a one-digit fraction can be a two-digit one that lost its zero (1.30 -> 1.3); 1.35 is as written.
        shown = repr(value)
        example = f"{shown}0" if len(shown.partition(".")[2]) == 1 else shown
        return (f"must be a string, but YAML read the unquoted number {shown} (it drops trailing zeros: 1.30 "
                f"reads as 1.3); put the value in quotes exactly as meant, e.g. \"{example}\"")
    if kind == "string_type" and isinstance(value, int):
        return f"must be a string, but YAML read the unquoted number {value}; put it in quotes: \"{value}\""
    if kind in ("enum", "literal_error"):
        allowed = message.removeprefix("Input should be ").replace(" or ", ", ")
        if isinstance(value, bool):
            return (f"must be one of {allowed}, but YAML read an unquoted {str(value).lower()} (YAML 1.1 reads "
                    f"yes/no/on/off/true/false as booleans); write one of {allowed}")
        if isinstance(value, (int, float)) and f"'{value}'" in allowed:
            return f"must be one of {allowed}, but YAML read the unquoted number {value}; put it in quotes: '{value}'"
        return f"must be one of {allowed} (got {_describe(value)})"
    if kind in _TYPE_WORDS:
        return f"{_TYPE_WORDS[kind]} (got {_describe(value)})"
    return f"{message} (got {_describe(value)})"


def _describe(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value)


def _is_union_tag(part: PathPart) -> bool:
    # pydantic inserts the validator name of a union member (e.g. "function-after[...]")
    # into locations; users never wrote those keys.
    return isinstance(part, str) and ("[" in part or part.startswith("function-"))
