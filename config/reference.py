"""Generate the config reference (docs/config-reference.md) from the models' field docstrings,
so the documented keys, types and defaults cannot drift from what is validated."""

from __future__ import annotations

import enum
import types
import typing
from typing import Any

from pydantic import BaseModel, SecretStr
from pydantic_core import PydanticUndefined

from .platform.kubernetes_versions import CALENDAR, DEFAULT_KUBERNETES_VERSION, EKS_VERSIONS, TABLE_AS_OF
from .stack import StackConfig

HEADER = """# Config reference

Generated from `config/` by `python -m vllm_eks.config.reference > docs/config-reference.md`; a test fails
when it is stale. Keys go under the `vllm-eks:` namespace in `Pulumi.<stack>.yaml`.
"""


def render_reference() -> str:
    sections = [HEADER]
    for title, model in _reachable(StackConfig, "vllm-eks:<key>"):
        sections.append(_section(title, model))
    sections.append(_kubernetes_versions())
    return "\n".join(sections)


def _kubernetes_versions() -> str:
    """The EKS support table `cluster.kubernetesVersion` is checked against (config/platform/kubernetes_versions.py)."""
    rows = [
        f"| `{row.version}` | {row.end_of_standard_support.isoformat()} | {row.end_of_extended_support.isoformat()} |"
        f"{' default |' if row.version == DEFAULT_KUBERNETES_VERSION else ' |'}"
        for row in EKS_VERSIONS.values()
    ]
    return "\n".join([
        "## EKS Kubernetes versions", "",
        f"`cluster.kubernetesVersion` is checked against this table (as of {TABLE_AS_OF.isoformat()}, from the "
        f"[EKS release calendar]({CALENDAR})): in extended support is a warning (`--strict` fails), past it an error.",
        "",
        "| version | end of standard support | end of extended support | |",
        "|---|---|---|---|",
        *rows, "",
    ])


def _reachable(root: type[BaseModel], title: str) -> list[tuple[str, type[BaseModel]]]:
    found: list[tuple[str, type[BaseModel]]] = []
    seen: set[type[BaseModel]] = set()

    def visit(model: type[BaseModel], path: str) -> None:
        if model in seen:
            return
        seen.add(model)
        found.append((path, model))
        for field in model.model_fields.values():
            for nested in _models_in(field.annotation):
                suffix = "[]" if typing.get_origin(field.annotation) is list else ""
                visit(nested, f"{field.alias}{suffix}" if model is root else f"{path}.{field.alias}{suffix}")

    visit(root, title)
    return found


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in typing.get_args(annotation) for model in _models_in(arg)]


def _section(title: str, model: type[BaseModel]) -> str:
    lines = [f"## `{title}`", "", (model.__doc__ or "").strip().splitlines()[0], "",
             "| key | type | default | meaning |", "|---|---|---|---|"]
    for field in model.model_fields.values():
        meaning = " ".join((field.description or "").split()).replace("|", "\\|")
        lines.append(f"| `{field.alias}` | {_type_name(field.annotation)} | {_default(field)} | {meaning} |")
    return "\n".join(lines) + "\n"


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin is typing.Union or origin is types.UnionType:  # Optional[X] and X | None
        return " or ".join(_type_name(arg) for arg in args)
    if origin is typing.Literal:
        return " \\| ".join(f"`{value}`" for value in typing.get_args(annotation))
    if origin is list:
        return f"list of {_type_name(args[0])}"
    if origin is dict:
        return f"map of {_type_name(args[0])} to {_type_name(args[1])}"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return " \\| ".join(f"`{member.value}`" for member in annotation)
    if annotation is SecretStr:
        return "secret string"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "mapping (below)"
    return getattr(annotation, "__name__", str(annotation))


def _default(field: Any) -> str:
    if field.is_required():
        return "required"
    value = field.default_factory() if field.default is PydanticUndefined else field.default
    if value is None:
        return "derived (see meaning)" if field.description and "default" in field.description.lower() else "unset"
    if isinstance(value, BaseModel):
        return "see below"
    if isinstance(value, enum.Enum):
        return f"`{value.value}`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"


if __name__ == "__main__":
    print(render_reference(), end="")
