"""One error type for every config mistake, carrying each problem with its config path."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from .suggest import closest, closest_key, model_at, value_at
from .tokens import redact
from .wording import plural

PathPart = str | int


@dataclass(frozen=True)
class Fix:
    """The suggested change as data, so it can be applied and checked (tests/test_advice_converges.py):
    set the key at `path` to `value`, rename it to `rename` (keeping its value), or `remove` it."""

    path: str
    value: Any = None
    rename: str | None = None
    remove: bool = False


@dataclass(frozen=True)
class ConfigIssue:
    """A single problem: where it is (`models[1].tensorParallelSize`) and what to do."""

    path: str
    message: str
    fixes: tuple[Fix, ...] = field(default=(), compare=False)
    """The change the message suggests, when it is one edit of the config (paths as `path`)."""

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class FixableError(ValueError):
    """A validator's error that carries its fix; `Fix.path` is relative to the field ('' is the field itself)."""

    def __init__(self, message: str, *fixes: Fix):
        super().__init__(message)
        self.fixes = fixes


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
        self.issues = [ConfigIssue(issue.path, redact(issue.message), issue.fixes) for issue in issues]
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


def issues_from_validation_error(
    error: ValidationError, prefix: Sequence[PathPart] = (), root: type[BaseModel] | None = None, data: Any = None,
    unknown_key: Callable[[type[BaseModel], Sequence[PathPart], Any, str], ConfigIssue] | None = None,
) -> list[ConfigIssue]:
    """Turn pydantic's errors into issues with Pulumi-style paths, the offending value, and
    words a stack file's author uses (no Python type names). `root` is the model validated and
    `data` its input, from which an unknown key gets the nearest valid one (`unknown_key` words it
    for another audience: config/python_terms.py)."""
    issues = []
    for item in error.errors(include_url=False):
        own = [part for part in item["loc"] if not _is_union_tag(part)]
        loc = [*prefix, *own]
        path = format_path(loc)
        nested = (item.get("ctx") or {}).get("error")
        if isinstance(nested, NestedIssues):
            issues += [ConfigIssue(_join(path, issue.path), issue.message, tuple(_rebase(fix, path) for fix in issue.fixes))
                       for issue in nested.issues]
        elif item["type"] == "extra_forbidden" and root is not None:
            issues.append((unknown_key or _unknown_key)(root, own, data, path))
        else:
            fixes = tuple(_rebase(fix, path) for fix in getattr(nested, "fixes", ()))
            default = _default_at(root, own) if root is not None else _NO_DEFAULT
            issues.append(ConfigIssue(path, _message(item, default), fixes or _choice_fix(item, path, default)))
    return issues


_NO_DEFAULT = object()
DEFAULT_NOTE = "; the default is "
"""How a message names the field's default it suggests (config/advice.py replaces it with a better-founded value)."""


def _default_at(root: type[BaseModel], loc: Sequence[PathPart]) -> Any:
    """The default of the field at `loc` (its value when the key is left out), or _NO_DEFAULT: a message suggests
    it, and its fix sets it, where the value given names nothing closer."""
    block = model_at(root, loc[:-1]) if loc and isinstance(loc[-1], str) else None
    field = None if block is None else next(
        (field for name, field in block.model_fields.items() if loc[-1] in (name, field.alias)), None)
    if field is None or field.is_required() or field.default_factory is not None or field.default is None:
        return _NO_DEFAULT
    default = field.default
    return default.value if isinstance(default, Enum) else default


def _rebase(fix: Fix, base: str) -> Fix:
    return Fix(_join(base, fix.path), fix.value, fix.rename, fix.remove)


def _unknown_key(root: type[BaseModel], loc: Sequence[PathPart], data: Any, path: str) -> ConfigIssue:
    """A key no field has: the camelCase key when it is a field's Python name (one error when both are
    given), else the nearest valid key by edit distance when one is close."""
    key, block = str(loc[-1]), model_at(root, loc[:-1])
    if block is None:
        return ConfigIssue(path, _UNKNOWN)
    aliases = {name: field.alias or name for name, field in block.model_fields.items()}
    given = value_at(data, loc[:-1])
    alias = aliases.get(key)
    if alias is not None and alias != key:
        if isinstance(given, dict) and alias in given:
            return ConfigIssue(path, (
                f"sets {alias} a second time under its Python name; a stack file spells each key once, in camelCase: "
                f"keep {alias} and delete {key}"), (Fix(path, remove=True),))
        return ConfigIssue(path, (
            f"is the Python name of {alias}; a stack file writes keys in camelCase (docs/config-reference.md): "
            f"rename it to {alias}"), (Fix(path, rename=alias),))
    nearest = closest_key(key, aliases.values())
    if nearest is None:
        return ConfigIssue(path, _UNKNOWN)
    if isinstance(given, dict) and nearest in given:
        return ConfigIssue(path, f"unknown key, next to {nearest} (a misspelt copy of it?); delete it",
                           (Fix(path, remove=True),))
    return ConfigIssue(path, f"unknown key; did you mean {nearest}?", (Fix(path, rename=nearest),))


_UNKNOWN = "unknown key; remove it or check its spelling against the config reference (docs/config-reference.md)"


def _choice_fix(item: Any, path: str, default: Any = _NO_DEFAULT) -> tuple[Fix, ...]:
    """The value a message suggests, as data: the nearest choice, the choice YAML read as a number, the bound a
    number crossed (`>= 1` -> 1), the quoted string YAML read as a number, a mapping made a list of one, or the
    field's default for a value of the wrong kind that names no choice."""
    nearest = _nearest_choice(item)
    if nearest is not None:
        return (Fix(path, nearest),)
    value = item.get("input")
    if item["type"] in ("enum", "literal_error"):
        quoted = _quoted_choice(item)
        return (Fix(path, quoted),) if quoted is not None else (Fix(path, default),) if default is not _NO_DEFAULT else ()
    if item["type"] == "list_type" and isinstance(value, dict):
        return (Fix(path, [value]),)
    bound = (item.get("ctx") or {}).get({"greater_than_equal": "ge", "less_than_equal": "le"}.get(item["type"], ""))
    if isinstance(bound, (int, float)) and not isinstance(bound, bool):
        return (Fix(path, bound),)
    if item["type"] == "string_type" and isinstance(value, (int, float)) and not isinstance(value, bool):
        shown = repr(value)
        return (Fix(path, f"{shown}0" if isinstance(value, float) and len(shown.partition(".")[2]) == 1 else shown),)
    if item["type"] == "string_type" and isinstance(value, bool):
        return ()  # the words YAML read as a boolean are gone; the message asks for them quoted
    if item["type"] in _TYPE_WORDS and item["type"] not in _SHAPE_TYPES and default is not _NO_DEFAULT:
        return (Fix(path, default),)
    return ()


def _quoted_choice(item: Any) -> str | None:
    """A choice YAML read as a number (`directoryPerms: 700` for '700')."""
    value = item.get("input")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and f"'{value}'" in item["msg"]:
        return str(value)
    return None


def _nearest_choice(item: Any) -> str | None:
    """For a value outside a fixed set of choices, the choice it is a misspelling of."""
    if item["type"] not in ("enum", "literal_error") or not isinstance(item.get("input"), str):
        return None
    return closest(item["input"], re.findall(r"'([^']*)'", item["msg"].removeprefix("Input should be ")))


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
# Errors about a block's shape: the key holds a mapping or list, whose default would drop what was written.
_SHAPE_TYPES = {"model_type", "model_attributes_type", "dict_type", "list_type"}


def _message(item: ErrorDetails, default: Any = _NO_DEFAULT) -> str:
    kind, message = item["type"], item["msg"]
    the_default = "" if default is _NO_DEFAULT else f" (the default is {default!r})"
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    if kind == "extra_forbidden":
        return _UNKNOWN
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
                    f"yes/no/on/off/true/false as booleans); write one of {allowed}{the_default}")
        if _quoted_choice(item) is not None:
            return f"must be one of {allowed}, but YAML read the unquoted number {value}; put it in quotes: '{value}'"
        nearest = _nearest_choice(item)
        return f"must be one of {allowed} (got {_describe(value)})" + (
            f"; did you mean {nearest!r}?" if nearest else f"{DEFAULT_NOTE}{default!r}" if the_default else "")
    if kind == "list_type" and isinstance(value, dict):
        return "must be a list (got a mapping); write '- ' before its first key to make it a list of one"
    if kind in _TYPE_WORDS:
        return f"{_TYPE_WORDS[kind]} (got {_describe(value)})" + (
            "" if kind in _SHAPE_TYPES or default is _NO_DEFAULT else f"{DEFAULT_NOTE}{default!r}")
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
