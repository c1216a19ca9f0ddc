"""Read stack config from Pulumi's key/value form or from a `Pulumi.<stack>.yaml` file.

Both paths end in `validate_stack_config`, so the offline preview, the tests and `pulumi up`
validate the same way. It is a pure function of the config values and remembers its last
results, so the CLI and the program it runs (which see the same values) validate once.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .advice import with_stack_advice
from .errors import ConfigError, ConfigIssue, Fix, PathPart, format_path, issues_from_validation_error
from .monitoring_rules import GRAFANA_PASSWORD_FIX, GRAFANA_PASSWORD_KEY
from .platform.region import REGION_KEY, region_issues
from .stack import StackConfig
from .tokens import SECRET_FIX
from .units import PROJECT, SECRET_PLACEHOLDER
from .validation import ValidatedStack, validate_stack

_REMEMBERED = 8
# Keyed on the config strings, the secret keys and the region: what validation depends on.
_ValidationKey = tuple[tuple[tuple[str, str], ...], tuple[str, ...] | None, str | None]
_validated: OrderedDict[_ValidationKey, ValidatedStack] = OrderedDict()


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


def validate_stack_config(
    values: Mapping[str, Any], source: str = "stack config", secret_keys: set[str] | None = None,
    region: str | None = None,
) -> ValidatedStack:
    """Validate project config values (keys without the `vllm-eks:` prefix) and run every rule once.

    String values that hold JSON objects or lists are decoded, as Pulumi passes structured
    config that way. `secret_keys` are the keys the stack marks secret (`secure:` in the file);
    when given, an `hfToken` outside them is refused. `region` is the stack's `aws:region`, checked
    offline (config/platform/region.py). Raises ConfigError listing every problem found.
    """
    key = (tuple(sorted((name, _to_config_string(value)) for name, value in values.items())),
           None if secret_keys is None else tuple(sorted(secret_keys)), region)
    if key in _validated:
        _validated.move_to_end(key)
        return _validated[key]
    decoded = {name: decode_json_string(value) for name, value in values.items()}
    issues = region_issues(region) + _plaintext_token_issues(decoded, secret_keys)
    try:
        # by_name=False: a stack file spells keys in camelCase; `max_num_seqs` is refused with that spelling.
        stack = StackConfig.model_validate(decoded, by_alias=True, by_name=False)
    except ValidationError as error:
        found = issues_from_validation_error(error, root=StackConfig, data=decoded)
        raise ConfigError(issues + with_stack_advice(found, decoded), source) from None
    try:
        validated = validate_stack(stack, source)
    except ConfigError as error:
        raise ConfigError(issues + error.issues, source) from None
    if issues:
        raise ConfigError(issues, source)
    _validated[key] = validated
    if len(_validated) > _REMEMBERED:
        _validated.popitem(last=False)
    return validated


def parse_stack_config(
    values: Mapping[str, Any], source: str = "stack config", secret_keys: set[str] | None = None,
) -> StackConfig:
    """`validate_stack_config`, for callers that need only the config."""
    return validate_stack_config(values, source, secret_keys).stack


SECRET_KEYS = {
    "hfToken": ("the token", SECRET_FIX),
    "gatewayApiKeys": ("each team's key", "`pulumi config set --secret gatewayApiKeys '{\"<team>\": \"<key>\"}'`"),
    "openWebuiSecrets": ("each of Open WebUI's secrets", "`pulumi config set --secret openWebuiSecrets '{...}'`"),
    GRAFANA_PASSWORD_KEY: ("the password", GRAFANA_PASSWORD_FIX),
}
"""Keys that hold credentials: each must be `secure:` in the stack file, or it is refused."""


def _plaintext_token_issues(values: Mapping[str, Any], secret_keys: set[str] | None) -> list[ConfigIssue]:
    if secret_keys is None:
        return []
    return [ConfigIssue(key, (
        f"is in plain text (not `secure:`), so {what} sits unencrypted in the stack file and in "
        f"everything that reads it; delete the line and run {fix}, which stores it encrypted"
    )) for key, (what, fix) in SECRET_KEYS.items() if values.get(key) is not None and key not in secret_keys]


def read_stack_file(path: Path, project: str = PROJECT) -> StackFile:
    """Parse a stack file of `project`; `secure:` values become secrets holding SECRET_PLACEHOLDER."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigError([ConfigIssue("", _missing_stack_message(path))], str(path)) from None
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            duplicates = list(_duplicate_keys(node, (), project, loader)) if node is not None else []
            document = loader.construct_document(node) if node is not None and not duplicates else None
        finally:
            loader.dispose()
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError([ConfigIssue("", f"malformed YAML{where}: {problem}; fix the file's indentation and quoting")], str(path)) from None
    if duplicates:
        raise ConfigError(duplicates, str(path))
    document = document or {}
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
    return validate_stack_file(path).stack


def validate_stack_file(path: Path) -> ValidatedStack:
    stack_file = read_stack_file(path)
    region = stack_file.other.get(REGION_KEY)
    return validate_stack_config(stack_file.values, source=str(path), secret_keys=stack_file.secret_keys,
                                 region=None if region is None else str(region))


def _missing_stack_message(path: Path) -> str:
    stack = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
    found = sorted(other.name[len("Pulumi."):-len(".yaml")] for other in path.parent.glob("Pulumi.*.yaml"))
    known = f"the stacks there are {', '.join(found)}" if found else "that folder has no stack files"
    if not found and not any((path.parent / name).is_file() for name in ("Pulumi.yaml", "Pulumi.yml")):
        return (f"{str(path.parent)!r} is not a Pulumi project (it has no Pulumi.yaml and no stack files), so there "
                f"is no stack {stack!r} to read; run vllm-eks in the project's folder or pass --project-dir DIR")
    return (f"stack {stack!r} does not exist: {str(path)!r} is missing, and {known}; pick one with --stack, "
            f"or create {path.name} (`pulumi stack init {stack}`)")


_MERGE_TAG = "tag:yaml.org,2002:merge"


def _duplicate_keys(node: yaml.Node, path: tuple[PathPart, ...], project: str, loader: yaml.SafeLoader,
                    seen: set[int] | None = None) -> Iterator[ConfigIssue]:
    """Keys written twice in one mapping. PyYAML keeps the last silently, but YAML requires keys to
    be unique (yaml.org/spec/1.2.2, 3.2.1.1). Keys a merge (`<<: *anchor`) brings in are not
    duplicates: an explicit key overrides them (yaml.org/type/merge.html). Each node is visited once,
    so an anchor reused many times costs nothing extra. The fix keeps the first: the later one is
    the likelier paste, and the value read is the last, so keeping the first is the change."""
    seen = set() if seen is None else seen
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first: dict[tuple[str, str], tuple[int, yaml.Node]] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            scalar = isinstance(key_node, yaml.ScalarNode)
            child = (*path, _issue_key(str(key_node.value), path, project) if scalar else "?")
            key = (key_node.tag, key_node.value) if scalar else None
            if key is not None and key in first:
                in_config = child[0] == "config" and len(child) > 1
                shown = format_path(child[1:] if in_config else child)  # `models[0]`, not `config.models[0]`
                line, kept = first[key]
                yield ConfigIssue(shown, (
                    f"is given twice in one mapping (lines {line} and {key_node.start_mark.line + 1}), and YAML "
                    f"keeps only the last one without a word; delete the one on line {key_node.start_mark.line + 1} "
                    f"to keep the first, or merge their settings"
                ), (Fix(shown, loader.construct_object(kept, deep=True)),) if in_config else ())
            elif key is not None:
                first[key] = (key_node.start_mark.line + 1, value_node)
            yield from _duplicate_keys(value_node, child, project, loader, seen)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicate_keys(item, (*path, index), project, loader, seen)


def _issue_key(key: str, path: tuple[PathPart, ...], project: str) -> str:
    """Keys as every other issue names them: `config: vllm-eks:models` is `models`, `aws:region` stays."""
    if path == ("config",):
        return key.removeprefix(f"{project}:")
    return key


def decode_json_string(value: Any) -> Any:
    """A string holding a JSON object or array (how Pulumi passes structured config, how AWS takes
    a policy document) as the value it holds; any other value unchanged."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _to_config_string(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
