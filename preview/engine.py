"""Run a Pulumi program in-process against a recording mock engine.

The monitor sees every registration as the Pulumi engine would (type, name, parent,
provider, dependencies, inputs), so the preview and the tests inspect exactly what
`pulumi up` would send. Each run happens in a fresh `contextvars.Context`, which isolates
Pulumi's global settings, root stack and config between runs in one process.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime.stack import wait_for_rpcs
from pulumi.runtime.sync_await import _sync_await

from ..config.units import PROJECT, SECRET_PLACEHOLDER
from ..config.validation import CheckedModel, collect_library_checks
from .mock_outputs import mock_outputs

SECRET_MASK = SECRET_PLACEHOLDER
_SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass
class RegisteredResource:
    type: str
    name: str
    urn: str
    parent: str | None
    provider: str | None
    dependencies: list[str]
    inputs: dict[str, Any]
    """Inputs as sent, with every secret value replaced by SECRET_MASK."""
    custom: bool
    protect: bool = False
    retain_on_delete: bool = False
    custom_timeouts: dict[str, str] = field(default_factory=dict)
    ignore_changes: list[str] = field(default_factory=list)
    replace_on_changes: list[str] = field(default_factory=list)
    delete_before_replace: bool = False

    @property
    def is_provider(self) -> bool:
        return self.type.startswith("pulumi:providers:")


@dataclass
class Recording:
    """Everything one program run registered, in registration order."""

    stack: str
    resources: list[RegisteredResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    error: BaseException | None = None
    """What the program raised, if anything; registrations before it are still listed."""
    library_checks: list[CheckedModel] = field(default_factory=list)
    """Models VllmModel components checked themselves (library mode), in registration order."""

    def by_type(self, type_: str) -> list[RegisteredResource]:
        return [resource for resource in self.resources if resource.type == type_]

    def one(self, type_: str, name: str) -> RegisteredResource:
        matches = [r for r in self.resources if r.type == type_ and r.name == name]
        if len(matches) != 1:
            raise LookupError(f"expected one {type_} named {name!r}, found {len(matches)}")
        return matches[0]

    def by_urn(self, urn: str) -> RegisteredResource:
        return next(resource for resource in self.resources if resource.urn == urn)

    def children_of(self, parent: RegisteredResource) -> list[RegisteredResource]:
        return [resource for resource in self.resources if resource.parent == parent.urn]

    def kubernetes_objects(self) -> list[RegisteredResource]:
        """Custom resources of the Kubernetes provider (not the provider itself)."""
        return [r for r in self.resources if r.type.startswith("kubernetes:") and r.custom]


def normalize_inputs(value: Any) -> Any:
    """Mask secrets and restore integers (protobuf Structs carry every number as a double)."""
    if isinstance(value, dict):
        if value.get(_SECRET_SIG_KEY) == _SECRET_SIG:
            return _mask_leaves(value.get("value"))
        return {key: normalize_inputs(item) for key, item in value.items()}
    if isinstance(value, list):
        return [normalize_inputs(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _mask_leaves(value: Any) -> Any:
    # Pulumi marks a whole map secret when one value in it is; keep the (public) keys so the
    # rendered object keeps its shape, and mask every value.
    if isinstance(value, dict):
        return {key: _mask_leaves(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask_leaves(item) for item in value]
    return SECRET_MASK


class _Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        state = {**args.inputs, **mock_outputs(args.typ, args.name, args.inputs)}
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> Any:
        return mock_outputs(args.token, "", args.args)


class _RecordingMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, recording: Recording) -> None:
        super().__init__(_Mocks())
        self.recording = recording

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]  # pulumi's MockMonitor is untyped
        if request.type != _STACK_TYPE:
            timeouts = request.customTimeouts
            self.recording.resources.append(RegisteredResource(
                type=request.type,
                name=request.name,
                urn=response.urn,
                parent=request.parent or None,
                provider=request.provider or None,
                dependencies=list(request.dependencies),
                inputs=normalize_inputs(json_format.MessageToDict(request.object)),
                custom=request.custom,
                protect=request.protect,
                retain_on_delete=request.retainOnDelete,
                custom_timeouts={k: v for k, v in (("create", timeouts.create), ("update", timeouts.update), ("delete", timeouts.delete)) if v},
                ignore_changes=list(request.ignoreChanges),
                replace_on_changes=list(request.replaceOnChanges),
                delete_before_replace=request.deleteBeforeReplace,
            ))
        return response


class _WarningCollector(logging.Handler):
    def __init__(self, recording: Recording):
        super().__init__(logging.WARNING)
        self.recording = recording

    def emit(self, record: logging.LogRecord) -> None:
        self.recording.warnings.append(record.getMessage())


def run_program(
    program: Callable[[], object],
    *,
    project: str = PROJECT,
    stack: str = "dev",
    config: dict[str, str] | None = None,
    secret_keys: list[str] | None = None,
    capture_error: bool = False,
) -> Recording:
    """Run `program` as a Pulumi program under mocks and return what it registered.

    An exception raised by the program is re-raised unchanged (after its outstanding
    registrations finished) unless `capture_error`, which stores it in `Recording.error`
    so a caller can also check what was registered before it.
    """
    recording = Recording(stack=stack)

    def run() -> None:
        # A loop of the run's own, closed at the end: a loop left for the garbage collector
        # at interpreter exit prints "Invalid file descriptor" noise.
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            run_in_loop()
        finally:
            loop.close()
            asyncio.set_event_loop(None)

    def run_in_loop() -> None:
        logger = logging.getLogger(f"vllm-eks.preview.{id(recording)}")
        logger.propagate = False
        logger.addHandler(_WarningCollector(recording))
        recording.library_checks = collect_library_checks()
        pulumi.runtime.set_all_config(dict(config or {}), list(secret_keys or []))
        pulumi.runtime.set_mocks(
            _Mocks(), project=project, stack=stack, preview=False,
            logger=logger, monitor=_RecordingMonitor(recording),
        )
        try:
            program()
        except Exception as error:
            recording.error = error
        _sync_await(wait_for_rpcs())
        if recording.error is None:
            recording.outputs = _resolve_stack_outputs()

    contextvars.Context().run(run)
    if recording.error is not None and not capture_error:
        raise recording.error
    return recording


def _resolve_stack_outputs() -> dict[str, Any]:
    root = pulumi.runtime.settings.get_root_resource()
    outputs = getattr(root, "outputs", {}) or {}
    resolved = {}
    for key, value in outputs.items():
        output = pulumi.Output.from_input(value)
        is_secret = _sync_await(output.is_secret())
        resolved[key] = SECRET_MASK if is_secret else _sync_await(output.future())
    return resolved
