"""Shared pydantic base: camelCase keys as Pulumi users write them, unknown keys rejected."""

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
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
        # No str_strip_whitespace: strings are kept as written (an env value's trailing space is the user's);
        # a name or image with stray whitespace fails its own format check, which names the value.
        # Field docstrings become descriptions, from which docs/config-reference.md is generated.
        use_attribute_docstrings=True,
    )

    def __init__(self, /, **data: Any) -> None:
        """Keyword construction (library mode, `ModelConfig(tensor_parallel_size=2, ...)`) fails with a
        ConfigError worded in Python terms, one line per mistake, instead of pydantic's traceback text."""
        try:
            super().__init__(**data)
        except ValidationError as error:
            from .errors import ConfigError
            from .python_terms import constructor_issues

            raise ConfigError(constructor_issues(error, type(self), data), f"{type(self).__name__}(...)") from None

    # Nested blocks are validated by pydantic-core directly (as for BaseModel's own __init__), not through this
    # method: a stack file's errors keep their full paths (pydantic/_internal/_model_construction.py reads this).
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]
