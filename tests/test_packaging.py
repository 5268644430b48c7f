"""What gets pushed and installed: leap.yaml covers every module the integration can import
(lazy imports included); requirements.txt lists exactly the libraries the pushed files import,
no more and no less, with compatible-release pins on the versions poetry.lock resolved; and
the model library (Keras) is imported only by the Keras branch of the model loader, which
the platform's ONNX path never takes."""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import re
import sys
from pathlib import Path

import yaml

from imdb.contract.config import REPO_ROOT, load_config
from imdb.tools.bundle import bundle_files

ENTRY_FILES = ("leap_integration.py", "leap_binder.py")
PACKAGE = "imdb"
# Modules of the bundle itself (the package and the entry files), never a distribution.
PROJECT_MODULES = frozenset({PACKAGE, *(Path(name).stem for name in ENTRY_FILES)})
# The model library: requirements.txt leaves it out, so only the Keras loader may import it.
MODEL_LIBRARY = frozenset({"keras", "keras_hub", "tensorflow", "tensorflow_text", "tf_keras"})
KERAS_LOADER = "imdb/models/loading.py"
# Keras custom layers of the BERT family, imported by the Keras loader alone.
KERAS_LAYERS = "imdb/models/bert_layers.py"
KERAS_LAYERS_MODULE = "imdb.models.bert_layers"
# Compatible-release pins; an exact pin only where a patch release breaks the clean install
# (requirements.txt says why beside it).
PIN = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)(?:~=|==)(?P<version>[0-9][0-9A-Za-z.]*)$")


def _module_file(module: str) -> Path | None:
    base = REPO_ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _import_nodes(path: Path) -> list[tuple[str, bool]]:
    """``(module, at_module_level)`` for every absolute import in the file, function bodies included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top_level = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, id(node) in top_level) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, id(node) in top_level))
            found.extend((f"{node.module}.{alias.name}", id(node) in top_level) for alias in node.names)
    return found


def _imported_modules(path: Path) -> set[str]:
    """Every ``imdb`` module named by an import anywhere in the file, function bodies included."""
    modules = set()
    for name, _ in _import_nodes(path):
        if name == PACKAGE or name.startswith(PACKAGE + "."):
            parts = name.split(".")
            modules.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return modules


def integration_closure() -> set[str]:
    """Repository-relative files reachable by imports from the entry files."""
    pending = [REPO_ROOT / name for name in ENTRY_FILES]
    seen: set[Path] = set()
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        for module in _imported_modules(path):
            target = _module_file(module)
            if target is not None:
                pending.append(target)
    return {str(path.relative_to(REPO_ROOT)) for path in seen}


def leap_spec() -> dict:
    return yaml.safe_load((REPO_ROOT / "leap.yaml").read_text(encoding="utf-8"))


def pushed_files() -> list[str]:
    spec = leap_spec()
    return bundle_files(REPO_ROOT, spec["include"], spec.get("exclude") or [])


def _third_party_imports() -> dict[str, dict[str, bool]]:
    """Per pushed Python file: each third-party module it imports -> imported at module level."""
    imports: dict[str, dict[str, bool]] = {}
    for relative in pushed_files():
        if not relative.endswith(".py"):
            continue
        for name, at_top in _import_nodes(REPO_ROOT / relative):
            top = name.split(".")[0]
            if top in PROJECT_MODULES or top in sys.stdlib_module_names:
                continue
            seen = imports.setdefault(relative, {})
            seen[name] = seen.get(name, False) or at_top
    return imports


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.lru_cache(maxsize=1)
def _module_owners() -> dict[str, frozenset[str]]:
    """Dotted module (and every package above it) -> the installed distributions providing it.

    Built from the distributions' file lists, so namespace packages (``google.cloud.storage``
    from google-cloud-storage, ``google.auth`` from google-auth) resolve to their own owner.
    """
    owners: dict[str, set[str]] = {}
    for dist in importlib.metadata.distributions():
        name = _normalized(dist.metadata["Name"])
        for file in dist.files or ():
            parts = file.parts
            if not parts or parts[0].endswith((".dist-info", ".egg-info", ".data")) or parts[0] == "..":
                continue
            stem = [*parts[:-1], parts[-1].split(".")[0]]
            if stem[-1] == "__init__":
                stem.pop()
            for depth in range(1, len(stem) + 1):
                owners.setdefault(".".join(stem[:depth]), set()).add(name)
    return {module: frozenset(names) for module, names in owners.items()}


def distribution_of(module: str) -> str:
    """The one distribution that provides ``module`` (its deepest package with a single owner)."""
    owners = _module_owners()
    parts = module.split(".")
    for depth in range(len(parts), 0, -1):
        candidates = owners.get(".".join(parts[:depth]), frozenset())
        if len(candidates) == 1:
            return next(iter(candidates))
    raise AssertionError(f"no single installed distribution provides {module!r}")


def _namespace_of_another(module: str, modules: dict[str, bool]) -> bool:
    """``google.cloud`` in ``from google.cloud import storage``: a namespace several
    distributions share, resolved through the deeper name imported with it."""
    return len(_module_owners().get(module, ())) > 1 and any(other.startswith(module + ".") for other in modules)


def requirement_pins() -> dict[str, str]:
    pins = {}
    for line in (REPO_ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = PIN.match(line.strip())
        assert match, f"requirements.txt line {line!r} is not a pin NAME~=VERSION (or NAME==VERSION)"
        pins[_normalized(match["name"])] = match["version"]
    return pins


def _locked_versions() -> dict[str, str]:
    text = (REPO_ROOT / "poetry.lock").read_text(encoding="utf-8")
    return {_normalized(name): version for name, version in
            re.findall(r'^name = "([^"]+)"\nversion = "([^"]+)"', text, flags=re.MULTILINE)}


def test_leap_yaml_includes_every_module_the_integration_can_import() -> None:
    pushed = set(pushed_files())
    missing = integration_closure() - pushed
    assert not missing, f"leap.yaml must include {sorted(missing)}"
    config = load_config(environ={})
    for asset in (config.source_file, config.text.vocab_file, config.bert.vocab_file, REPO_ROOT / "requirements.txt"):
        assert str(asset.relative_to(REPO_ROOT)) in pushed, f"leap.yaml must push {asset}"


def test_requirements_list_exactly_what_the_pushed_code_imports() -> None:
    imported: dict[str, set[str]] = {}
    for relative, modules in _third_party_imports().items():
        for module in modules:
            if module.split(".")[0] in MODEL_LIBRARY or _namespace_of_another(module, modules):
                continue
            imported.setdefault(distribution_of(module), set()).add(f"{relative}: {module}")
    listed = set(requirement_pins())
    unlisted = {dist: sorted(where) for dist, where in imported.items() if dist not in listed}
    assert not unlisted, f"pushed code imports distributions requirements.txt does not list: {unlisted}"
    unused = listed - set(imported)
    assert not unused, f"requirements.txt lists {sorted(unused)}, which no pushed file imports"


def test_requirements_pin_the_locked_versions() -> None:
    locked = _locked_versions()
    pins = requirement_pins()
    assert pins, "requirements.txt pins nothing"
    for name, version in pins.items():
        assert locked.get(name) == version, f"{name} is pinned at {version} but poetry.lock has {locked.get(name)}"
    assert not MODEL_LIBRARY & set(pins), "the platform serves ONNX: requirements.txt must not install Keras"


def test_model_library_is_imported_only_by_the_keras_loader() -> None:
    for relative, modules in _third_party_imports().items():
        for module, at_top in modules.items():
            if module.split(".")[0] not in MODEL_LIBRARY:
                continue
            assert relative in (KERAS_LOADER, KERAS_LAYERS), f"{relative} imports {module}; only the Keras loader may"
            assert relative != KERAS_LOADER or not at_top, f"{KERAS_LOADER} must import {module} inside the loader"
    for relative in pushed_files():
        if relative.endswith(".py") and relative != KERAS_LAYERS:
            eager = {name for name, at_top in _import_nodes(REPO_ROOT / relative) if at_top}
            assert KERAS_LAYERS_MODULE not in eager, f"{relative} imports the Keras layers at module level"


def test_entry_file_imports_visualize_only_when_run_as_a_script() -> None:
    """``visualize`` needs matplotlib, which requirements.txt (rightly) does not install."""
    tree = ast.parse((REPO_ROOT / "leap_integration.py").read_text(encoding="utf-8"))
    # Inside the __main__ guard or a function (main() runs only from there): importing the module
    # (what the platform does) never reaches it.
    deferred = [node for node in tree.body if (isinstance(node, ast.If) and "__main__" in ast.unparse(node.test))
                or isinstance(node, ast.FunctionDef)]
    guarded = {id(node) for guard in deferred for node in ast.walk(guard)}
    plotting = [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                and node.module and node.module.startswith("code_loader.plot_functions")]
    assert plotting, "the local run plots with code-loader's visualize"
    assert all(id(node) in guarded for node in plotting), "import visualize only under __main__"
