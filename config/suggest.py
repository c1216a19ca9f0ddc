""""Did you mean": the closest valid spelling of a key, an instance type or a choice, only when it is close.

Closeness is the optimal-string-alignment edit distance (insertions, deletions, substitutions and
swaps of two neighbours each cost 1), compared without case. A suggestion is made only within a
quarter of the word's length (at most 3 edits), so `maxNumSeq` gets `maxNumSeqs` and a
word that is merely different gets none. Valid keys are read from the pydantic models themselves,
so a key added to any config block later is suggested without a list to keep in step.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable, Sequence
from typing import Any, Union

from pydantic import BaseModel


def edit_distance(first: str, second: str) -> int:
    """Optimal string alignment distance: Levenshtein plus the swap of two neighbouring letters."""
    rows = [list(range(len(second) + 1))]
    for i, a in enumerate(first, 1):
        row = [i] + [0] * len(second)
        for j, b in enumerate(second, 1):
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (a != b))
            if i > 1 and j > 1 and a == second[j - 2] and first[i - 2] == b:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice nearest `word`, when within min(3, len // 4) edits (a word under 4 letters only by case: `tpu` is
    not a misspelt `gpu`); None otherwise or on a tie."""
    limit = min(3, len(word) // 4)
    scored = sorted((edit_distance(word.lower(), choice.lower()), choice) for choice in set(choices) if choice != word)
    if not scored or scored[0][0] > limit:
        return None
    if len(scored) > 1 and scored[1][0] == scored[0][0] and scored[1][1].lower() != scored[0][1].lower():
        return None  # two equally close: naming one would be a guess
    return scored[0][1]


def closest_key(word: str, keys: Iterable[str]) -> str | None:
    """`closest`, and for a key also the one key that extends it (`diskSize` -> `diskSizeGib`: a unit left off)."""
    keys = list(keys)
    extended = [key for key in keys if len(word) >= 4 and key.lower().startswith(word.lower()) and key != word]
    return closest(word, keys) or (extended[0] if len(extended) == 1 else None)


def model_at(root: type[BaseModel], loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The config block a location points into: (`models`, 0, `resources`) in StackConfig -> ResourcesConfig.
    Keys are matched by alias or field name; list indexes and mapping keys step into the item type."""
    current: Any = root
    for part in loc:
        model = _model_in(current)
        if isinstance(part, int) or model is None:
            current = _item_type(current)
            continue
        field = next((f for name, f in model.model_fields.items() if part in (name, f.alias)), None)
        if field is None:
            return None
        current = field.annotation
    return _model_in(current)


def keys_of(model: type[BaseModel]) -> dict[str, str]:
    """Field name -> the key a stack file writes (its alias, camelCase)."""
    return {name: field.alias or name for name, field in model.model_fields.items()}


def value_at(data: Any, loc: Sequence[str | int]) -> Any:
    """What the input held at `loc` (None when the path does not exist in it)."""
    for part in loc:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return None
    return data


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The BaseModel an annotation holds directly (unwrapping Optional, unions and Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _model_in(typing.get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        found = [m for m in map(_model_in, typing.get_args(annotation)) if m is not None]
        return found[0] if found else None
    return None


def _item_type(annotation: Any) -> Any:
    """The item type of a list, or the value type of a mapping, through Optional and Annotated."""
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if origin is typing.Annotated or origin is Union or origin is types.UnionType:
        for argument in (arguments[:1] if origin is typing.Annotated else arguments):
            item = _item_type(argument)
            if item is not None:
                return item
        return None
    if origin in (list, tuple, set, frozenset, Sequence) and arguments:
        return arguments[0]
    if origin in (dict, typing.Mapping) and len(arguments) == 2:
        return arguments[1]
    return None
