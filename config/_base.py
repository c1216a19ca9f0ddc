"""Shared pydantic base: camelCase keys as Pulumi users write them, unknown keys rejected."""

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class ConfigModel(BaseModel):
    """Base for every config block.

    `extra="forbid"` turns a typo such as `tensorParalelSize` into an error instead of a
    silently ignored key; `frozen` keeps a validated plan from being edited behind the
    validators' back.
    """

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        str_strip_whitespace=True,
        # Field docstrings become descriptions, from which docs/config-reference.md is generated.
        use_attribute_docstrings=True,
    )
