"""Library mode's words: a program builds `ModelConfig(tensor_parallel_size=...)` and `VllmModelArgs(node_group=...)`,
not a stack file, so its errors and warnings name Python arguments (`node_group.max_size`), never camelCase keys.

The key names are read from every config block (every ConfigModel subclass) when first needed, so a block or
field added later is translated without a list to keep in step.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ValidationError

from .errors import ConfigIssue, Fix, PathPart, issues_from_validation_error
from .suggest import closest_key, model_at, value_at

# What a stack file's paths become in a VllmModel's arguments.
_LIBRARY_ARGUMENTS = {"models[0]": "model", "nodeGroups[0]": "node_group"}


def _blocks(root: type[BaseModel] = BaseModel) -> list[type[BaseModel]]:
    """Every config block of this package (config/_base.py's ConfigModel imports this module, so it is found by
    walking pydantic's subclasses rather than imported)."""
    own = [root] if root.__module__.startswith(__name__.rsplit(".", 1)[0]) else []
    return [*own, *(block for child in root.__subclasses__() for block in _blocks(child))]


@lru_cache(maxsize=4)
def _key_pattern(blocks: tuple[type[BaseModel], ...]) -> tuple[dict[str, str], re.Pattern[str]]:
    names = {field.alias: name for block in blocks for name, field in block.model_fields.items()
             if field.alias and field.alias != name}
    return names, re.compile(r"\b(" + "|".join(sorted(map(re.escape, names), key=len, reverse=True)) + r")\b")


def python_text(text: str) -> str:
    """`nodeGroups[0].maxSize` -> `node_group.max_size`, in a path or a message alike."""
    for stack_path, argument in _LIBRARY_ARGUMENTS.items():
        text = text.replace(stack_path, argument)
    names, pattern = _key_pattern(tuple(_blocks()))  # blocks imported since the last call count too
    return pattern.sub(lambda match: names[match.group(1)], text)


def in_python_terms(issue: ConfigIssue) -> ConfigIssue:
    fixes = tuple(Fix(python_text(fix.path), fix.value, fix.rename and python_text(fix.rename), fix.remove)
                  for fix in issue.fixes)
    return ConfigIssue(python_text(issue.path), python_text(issue.message), fixes)


def constructor_issues(error: ValidationError, block: type[BaseModel], data: dict[str, Any]) -> list[ConfigIssue]:
    """A `ModelConfig(...)` call's errors: one line per mistake, at the keyword (Python name), and for an
    unknown keyword the nearest valid one."""
    return [in_python_terms(issue) for issue in
            issues_from_validation_error(error, root=block, data=data, unknown_key=_unknown_keyword)]


def _unknown_keyword(block: type[BaseModel], loc: Sequence[PathPart], data: Any, path: str) -> ConfigIssue:
    key, owner = str(loc[-1]), model_at(block, loc[:-1])
    if owner is None:
        return ConfigIssue(path, "unknown keyword")
    names = {field.alias or name: name for name, field in owner.model_fields.items()}
    given = value_at(data, loc[:-1])
    given_keys = set(given) if isinstance(given, dict) else set()
    snake = set(names.values())
    camel_of = {name: alias for alias, name in names.items()}
    if key in snake and camel_of.get(key) in given_keys:
        return ConfigIssue(path, f"is given twice, also under its stack-file spelling; pass it once, as {key}",
                           (Fix(path, remove=True),))
    nearest = closest_key(key, snake)
    if nearest is None:
        return ConfigIssue(path, f"unknown keyword; {owner.__name__} takes {', '.join(sorted(snake))}")
    return ConfigIssue(path, f"unknown keyword; did you mean {nearest}?", (Fix(path, rename=nearest),))
