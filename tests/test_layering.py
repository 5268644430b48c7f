"""The package's layers: imports only point down, no circle anywhere, the push bundle is the runtime.

Read from the code's own imports (``ast``), lazy ones inside functions included, so a
circle or an upward import cannot hide behind a function-level ``import``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from imdb.contract.config import REPO_ROOT
from imdb.tools.bundle import bundle_files, matches

PACKAGE = "imdb"
# Layer of each top-level sub-package; a module may import its own layer and those below.
LAYERS = {"contract": 1, "text": 2, "data": 3, "probes": 4, "runtime": 5, "models": 6, "training": 7, "tools": 8}
ENTRY_FILES = ("leap_integration.py", "leap_binder.py")
# Third-party packages the runtime layer (what the platform executes) must never import.
HEAVY_LIBRARIES = {"tensorflow", "keras", "keras_hub", "tf2onnx", "onnxruntime"}
# Import names of the layers that must never be pushed.
NOT_PUSHED = ("imdb.training", "imdb.tools", "imdb.models.bert", "imdb.models.word", "imdb.models.build",
              "imdb.models.inference", "imdb.models.bert_checkpoint")


def _module_files(root: Path) -> dict[str, Path]:
    modules = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _imports(path: Path, module: str, known: set[str]) -> set[str]:
    """Every project module ``path`` imports, at any depth of the file (lazy imports too)."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[:len(base) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.add(name)
            found.update(f"{name}.{alias.name}" for alias in node.names)
    return {name for name in found if name in known}


def _third_party(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module.split(".")[0])
    return names


def import_graph(root: Path = REPO_ROOT) -> dict[str, set[str]]:
    files = _module_files(root)
    known = set(files)
    return {module: _imports(path, module, known) - {module} for module, path in files.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}
    trail: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        trail.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return trail[trail.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        trail.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def layer_of(module: str) -> int:
    parts = module.split(".")
    return LAYERS[parts[1]] if len(parts) > 1 and parts[1] in LAYERS else 0


def test_every_module_lives_in_a_layer() -> None:
    loose = [module for module in import_graph() if module != PACKAGE and layer_of(module) == 0]
    assert not loose, f"modules outside the layer folders ({', '.join(LAYERS)}): {loose}"


def test_no_import_circle() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def test_cycle_finder_sees_a_lazy_circle(tmp_path: Path) -> None:
    """The check can fail: a circle closed by a function-level import is found."""
    package = tmp_path / PACKAGE / "runtime"
    package.mkdir(parents=True)
    (tmp_path / PACKAGE / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from imdb.runtime.b import thing\n")
    (package / "b.py").write_text("def thing():\n    from imdb.runtime import a\n")
    assert find_cycle(import_graph(tmp_path)) == ["imdb.runtime.a", "imdb.runtime.b", "imdb.runtime.a"]


def test_imports_only_point_down() -> None:
    upward = [f"{module} (layer {layer_of(module)}) imports {target} (layer {layer_of(target)})"
              for module, targets in import_graph().items() for target in sorted(targets)
              if layer_of(target) > layer_of(module)]
    assert not upward, "\n".join(upward)


def test_runtime_and_below_import_no_model_library() -> None:
    offenders = {}
    for module, path in _module_files(REPO_ROOT).items():
        if layer_of(module) <= LAYERS["runtime"]:
            heavy = _third_party(path) & HEAVY_LIBRARIES
            if heavy:
                offenders[module] = sorted(heavy)
    assert not offenders, f"the runtime must run without TensorFlow/Keras: {offenders}"


def _pushed() -> list[str]:
    spec = yaml.safe_load((REPO_ROOT / "leap.yaml").read_text(encoding="utf-8"))
    return bundle_files(REPO_ROOT, spec["include"], spec.get("exclude") or [])


def _as_module(relative: str) -> str:
    parts = list(Path(relative).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_bundle_holds_the_runtime_and_the_loader_only() -> None:
    pushed = {_as_module(relative) for relative in _pushed() if relative.endswith(".py")}
    wrong = sorted(module for module in pushed
                   if any(module == name or module.startswith(f"{name}.") for name in NOT_PUSHED))
    assert not wrong, f"leap.yaml pushes training/tool modules: {wrong}"
    layers = {layer_of(module) for module in pushed if module.startswith(PACKAGE)}
    assert max(layers) <= LAYERS["models"], layers
    assert "imdb.models.loading" in pushed


def test_bundle_holds_everything_the_entry_files_import() -> None:
    graph = import_graph()
    known = set(graph)
    pending = set()
    for name in ENTRY_FILES:
        pending |= _imports(REPO_ROOT / name, Path(name).stem, known)
    needed: set[str] = set()
    while pending:
        module = pending.pop()
        if module not in needed:
            needed.add(module)
            pending |= graph[module]
    pushed = {_as_module(relative) for relative in _pushed() if relative.endswith(".py")}
    missing = sorted(needed - pushed)
    assert not missing, f"the entry files import modules leap.yaml does not push: {missing}"


@pytest.mark.parametrize(("pattern", "path", "expected"), [
    ("imdb/**", "imdb/data/cache.py", True),
    ("imdb/**", "imdb", False),
    ("**/__pycache__/**", "imdb/__pycache__/config.cpython-311.pyc", True),
    ("**/__pycache__/**", "__pycache__/x.pyc", True),
    ("imdb/*.py", "imdb/data/cache.py", False),
    ("imdb/*.py", "imdb/__init__.py", True),
    ("model/**", "imdb/model/x", False),
    ("leap_?inder.py", "leap_binder.py", True),
])
def test_doublestar_semantics(pattern: str, path: str, expected: bool) -> None:
    assert matches(pattern, path) is expected
