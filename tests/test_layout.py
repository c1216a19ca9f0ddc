"""The layout the project promises newcomers: layers import one way, no module imports itself in a circle,
and no module in config/ or components/ grows past what one reading holds."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import PROJECT_DIR

PACKAGES = ("config", "components", "preview")
MAX_MODULE_LINES = 350


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((PROJECT_DIR / package).rglob("*.py")):
            parts = path.relative_to(PROJECT_DIR).with_suffix("").parts
            found["vllm_eks." + ".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """Project modules `path` imports at run time (imports under `if TYPE_CHECKING:` excluded)."""
    tree = ast.parse(path.read_text())
    type_only = {id(node) for block in ast.walk(tree) if isinstance(block, ast.If)
                 and getattr(block.test, "id", "") == "TYPE_CHECKING" for node in ast.walk(block)}
    imported = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                imported.add(candidate if candidate in modules else node.module)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    return {name for name in imported if name in modules}


def test_the_import_graph_between_project_modules_has_no_circle():
    modules = _modules()
    graph = {name: _imports(path, modules) - {name} for name, path in modules.items()}
    assert sum(map(len, graph.values())) > len(graph), "the graph lost its edges: module names no longer match imports"
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> None:
        if name in trail:
            raise AssertionError("import circle: " + " -> ".join(trail[trail.index(name):] + [name]))
        if name in done:
            return
        for target in sorted(graph[name]):
            visit(target, trail + [name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])


def test_config_imports_nothing_from_the_builders_components_or_preview():
    modules = _modules()
    leaks = {name: sorted(target for target in _imports(path, modules) if not target.startswith("vllm_eks.config"))
             for name, path in modules.items() if name.startswith("vllm_eks.config")}
    assert {name: targets for name, targets in leaks.items() if targets} == {}


def test_no_module_in_config_or_components_is_longer_than_one_reading():
    long = {name: len(path.read_text().splitlines()) for name, path in _modules().items()
            if name.startswith(("vllm_eks.config", "vllm_eks.components")) and len(path.read_text().splitlines()) > MAX_MODULE_LINES}
    assert long == {}


def test_accelerator_kinds_are_named_only_in_the_catalogs():
    """Hardware differences are data (config/accelerators.py, config/instance_catalog.py); logic reads traits."""
    catalogs = {"vllm_eks.config.accelerators", "vllm_eks.config.instance_catalog", "vllm_eks.components._device_plugin_objects", "vllm_eks.components.device_plugins"}
    named = {name: path.read_text().count("AcceleratorKind.NEURON") + path.read_text().count("AcceleratorKind.GPU")
             for name, path in _modules().items() if name not in catalogs}
    assert {name: count for name, count in named.items() if count} == {}
