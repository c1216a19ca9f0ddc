"""Read stack config from Pulumi's key/value form or from a `Pulumi.<stack>.yaml` file.

Both paths end in `parse_stack_config`, so the offline preview, the tests and `pulumi up`
validate the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml
from pydantic import ValidationError

from config.errors import ConfigError, ConfigIssue, issues_from_validation_error
from config.stack import StackConfig, stack_issues

PROJECT = "vllm-eks"
SECRET_PLACEHOLDER = "[secret]"
"""Value given to `secure:` entries offline: the ciphertext needs the stack's key to decrypt."""


@dataclass
class StackFile:
    """A stack file's config, split by namespace, with values as Pulumi's engine passes them."""

    values: dict[str, Any] = field(default_factory=dict)
    """Keys of this project (`models`), plain Python values."""
    secret_keys: set[str] = field(default_factory=set)
    """Keys of this project that were `secure:`."""
    other: dict[str, Any] = field(default_factory=dict)
    """Fully qualified keys of other namespaces (`aws:region`)."""
    other_secret_keys: set[str] = field(default_factory=set)
    """Fully qualified keys of other namespaces that were `secure:`."""
    project: str = PROJECT
    """The project whose namespace `values` holds (the `name` in Pulumi.yaml)."""

    def as_pulumi_config(self) -> tuple[dict[str, str], list[str]]:
        """The `set_all_config` form: fully qualified keys, structured values as JSON strings."""
        config = {f"{self.project}:{key}": _to_config_string(value) for key, value in self.values.items()}
        config.update({key: _to_config_string(value) for key, value in self.other.items()})
        return config, sorted([f"{self.project}:{key}" for key in self.secret_keys] + list(self.other_secret_keys))


def parse_stack_config(values: Mapping[str, Any], source: str = "stack config") -> StackConfig:
    """Validate project config values (keys without the `vllm-eks:` prefix).

    String values that hold JSON objects or lists are decoded, as Pulumi passes structured
    config that way. Raises ConfigError listing every problem found.
    """
    decoded = {key: _decode(value) for key, value in values.items()}
    try:
        stack = StackConfig.model_validate(decoded)
    except ValidationError as error:
        raise ConfigError(issues_from_validation_error(error), source) from None
    issues = stack_issues(stack)
    if issues:
        raise ConfigError(issues, source)
    return stack


def read_stack_file(path: Path, project: str = PROJECT) -> StackFile:
    """Parse a stack file of `project`; `secure:` values become secrets holding SECRET_PLACEHOLDER."""
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise ConfigError([ConfigIssue("", f"stack file {str(path)!r} does not exist; create it or pick another --stack")], str(path)) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError([ConfigIssue("", f"malformed YAML{where}: {problem}; fix the file's indentation and quoting")], str(path)) from None
    if not isinstance(document, dict) or not isinstance(document.get("config", {}), dict):
        raise ConfigError([ConfigIssue("config", "must be a mapping of `namespace:key: value` entries")], str(path))
    stack_file = StackFile(project=project)
    for key, value in (document.get("config") or {}).items():
        namespace, _, name = str(key).partition(":")
        if not name:
            raise ConfigError([ConfigIssue(str(key), f"config keys are namespaced; write it as `{project}:{key}`")], str(path))
        secret = isinstance(value, dict) and set(value) == {"secure"}
        if namespace == project:
            stack_file.values[name] = SECRET_PLACEHOLDER if secret else value
            if secret:
                stack_file.secret_keys.add(name)
        else:
            stack_file.other[str(key)] = SECRET_PLACEHOLDER if secret else value
            if secret:
                stack_file.other_secret_keys.add(str(key))
    return stack_file


def load_stack_file(path: Path) -> StackConfig:
    """Read and validate a stack file in one step."""
    return parse_stack_config(read_stack_file(path).values, source=str(path))


def _decode(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _to_config_string(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
