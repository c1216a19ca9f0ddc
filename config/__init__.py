"""Stack configuration: pydantic models, catalogs and validation. Imports no Pulumi."""

from config.accelerators import ACCELERATORS, AcceleratorKind
from config.errors import ConfigError, ConfigIssue
from config.loader import PROJECT, SECRET_PLACEHOLDER, load_stack_file, parse_stack_config, read_stack_file
from config.model import ModelConfig, ModelSource, NeuronConfigArg
from config.platform import NodeGroupConfig
from config.stack import StackConfig, stack_warnings

__all__ = [
    "ACCELERATORS", "AcceleratorKind", "ConfigError", "ConfigIssue", "ModelConfig", "ModelSource",
    "NeuronConfigArg", "NodeGroupConfig", "PROJECT", "SECRET_PLACEHOLDER", "StackConfig",
    "load_stack_file", "parse_stack_config", "read_stack_file", "stack_warnings",
]
