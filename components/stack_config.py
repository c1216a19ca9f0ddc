"""Read this stack's config from the Pulumi engine and validate it with the pure loader."""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from ..config.loader import validate_stack_config
from ..config.platform.region import REGION_KEY
from ..config.units import PROJECT
from ..config.validation import ValidatedStack


def project_config_values() -> dict[str, Any]:
    """Every `vllm-eks:*` key, so unknown keys are reported rather than silently ignored.

    `pulumi.Config` can only look keys up by name; the engine hands the whole bag to the
    program in PULUMI_CONFIG (real runs) or through `set_all_config` (tests, offline preview).
    """
    prefix = f"{PROJECT}:"
    return {key[len(prefix):]: value for key, value in _config_bag().items() if key.startswith(prefix)}


def project_secret_keys() -> set[str]:
    """The `vllm-eks:*` keys the stack marks secret (`secure:` in its file, or `pulumi config set --secret`)."""
    prefix = f"{PROJECT}:"
    secret = {*runtime_config.get_config_secret_keys_env(), *filter(runtime_config.is_config_secret, _config_bag())}
    return {key[len(prefix):] for key in secret if key.startswith(prefix)}


def _config_bag() -> dict[str, Any]:
    return {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}


def load_stack_config() -> ValidatedStack:
    """Validated config for the running stack; raises ConfigError before anything is registered."""
    region = _config_bag().get(REGION_KEY)
    validated = validate_stack_config(project_config_values(), source=f"config of stack {pulumi.get_stack()!r}",
                                      secret_keys=project_secret_keys(), region=None if region is None else str(region))
    for warning in validated.warnings:
        pulumi.log.warn(warning)
    for _, accepted in validated.accepted:
        pulumi.log.info(f"accepted warning at {accepted}")
    return validated
