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


def _resolve(path: Path, node: ast.ImportFrom) -> Path:
    """The file or package folder a relative `from` import names, found by path alone (as static tools do)."""
    base = path.parent
    for _ in range(node.level - 1):
        base = base.parent
    return base.joinpath(*(node.module or "").split(".")) if node.module else base


def _as_module(target: Path) -> Path | None:
    if target.with_suffix(".py").is_file():
        return target.with_suffix(".py")
    if (target / "__init__.py").is_file():
        return target / "__init__.py"
    return None


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """Project modules `path` imports at run time (imports under `if TYPE_CHECKING:` excluded)."""
    tree = ast.parse(path.read_text())
    type_only = {id(node) for block in ast.walk(tree) if isinstance(block, ast.If)
                 and getattr(block.test, "id", "") == "TYPE_CHECKING" for node in ast.walk(block)}
    by_path = {file.resolve(): name for name, file in modules.items()}
    imported = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.level:
            target = _resolve(path, node)
            for alias in node.names:
                found = _as_module(target / alias.name) or _as_module(target)
                if found is not None and found.resolve() in by_path:
                    imported.add(by_path[found.resolve()])
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                imported.add(candidate if candidate in modules else node.module)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    return {name for name in imported if name in modules}


def _python_files() -> list[Path]:
    """Every Python file of the repository (not the virtualenvs or build output)."""
    skipped = {".git", "build", "node_modules"}
    return sorted(path for path in PROJECT_DIR.rglob("*.py")
                  if not any(part in skipped or part.startswith(".venv") for part in path.relative_to(PROJECT_DIR).parts))


def test_every_relative_import_names_a_module_or_a_name_that_exists_by_path():
    """Static tools (type checkers, IDEs, import graphs) follow a relative import by path: the folder and
    module it names must be real files next to the importer, and a name it takes from a module must be
    defined there (or be a submodule)."""
    missing = []
    for path in _python_files():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not (isinstance(node, ast.ImportFrom) and node.level):
                continue
            target = _resolve(path, node)
            module = _as_module(target)
            for alias in node.names:
                if _as_module(target / alias.name) is None and (
                        module is None or alias.name not in _defined_names(module)):
                    missing.append(f"{path.relative_to(PROJECT_DIR)}:{node.lineno}: "
                                   f"from {'.' * node.level}{node.module or ''} import {alias.name}")
    assert missing == []


def _defined_names(module: Path) -> set[str]:
    tree = ast.parse(module.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


def test_the_library_imports_its_own_modules_relatively_so_each_import_is_a_path():
    """Inside config/, components/ and preview/ the installed name `vllm_eks.<package>` is mapped onto
    the top-level folders by setup.py, a mapping static tools do not see; relative imports are."""
    absolute = []
    for path in _modules().values():
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level
                     else [alias.name for alias in node.names] if isinstance(node, ast.Import) else [])
            absolute += [f"{path.relative_to(PROJECT_DIR)}:{node.lineno}: {module}"
                         for module in names if module == "vllm_eks" or module.startswith("vllm_eks.")]
    assert absolute == []


def test_every_import_of_the_public_name_resolves_to_a_file_through_the_packaging_map():
    """Tests, the boot harness, examples and the program import `vllm_eks.<package>...`; setup.py maps
    `vllm_eks.<package>` onto the folder `<package>/`, so each such import must name a real module there."""
    missing = []
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").startswith("vllm_eks"):
                dotted = [f"{node.module}.{alias.name}" for alias in node.names]
                module = node.module
            elif isinstance(node, ast.Import):
                dotted = [alias.name for alias in node.names if alias.name.startswith("vllm_eks")]
                module = None
            else:
                continue
            for name in dotted:
                if _public_to_path(name) is None and (module is None or _public_to_path(module) is None
                                                      or name.rsplit(".", 1)[1] not in _defined_names(_public_to_path(module))):
                    missing.append(f"{path.relative_to(PROJECT_DIR)}:{node.lineno}: {name}")
    assert missing == []


def _public_to_path(dotted: str) -> Path | None:
    """`vllm_eks.config.x` by path: vllm_eks/config is a link to config/, as setup.py maps it."""
    parts = dotted.split(".")
    return _as_module(PROJECT_DIR.joinpath(*parts)) if parts[0] == "vllm_eks" else None


def test_the_public_package_links_each_folder_setup_py_maps_into_it():
    for package in PACKAGES:
        link = PROJECT_DIR / "vllm_eks" / package
        assert link.is_symlink() and link.resolve() == (PROJECT_DIR / package).resolve(), link


def test_the_names_type_checkers_see_in_vllm_eks_are_the_names_it_exports_lazily():
    import vllm_eks

    tree = ast.parse((PROJECT_DIR / "vllm_eks" / "__init__.py").read_text())
    block = next(node for node in tree.body if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING")
    seen = {alias.asname: node.module for node in block.body if isinstance(node, ast.ImportFrom) for alias in node.names}
    assert seen == vllm_eks._EXPORTS


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
    catalogs = {"vllm_eks.config.accelerators", "vllm_eks.config.instance_catalog",
                "vllm_eks.components._device_plugin_objects", "vllm_eks.components.device_plugins",
                "vllm_eks.components._hardware_exporters"}
    named = {name: path.read_text().count("AcceleratorKind.NEURON") + path.read_text().count("AcceleratorKind.GPU")
             for name, path in _modules().items() if name not in catalogs}
    assert {name: count for name, count in named.items() if count} == {}


def test_a_relative_import_of_a_module_that_is_not_there_is_reported(tmp_path: Path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "real.py").write_text("X = 1\n")
    importer = tmp_path / "pkg" / "user.py"
    importer.write_text("from .real import X\nfrom .gone import Y\n")
    found = [_as_module(_resolve(importer, node)) for node in ast.parse(importer.read_text()).body
             if isinstance(node, ast.ImportFrom)]
    assert found == [tmp_path / "pkg" / "real.py", None]
