"""What gets pushed and installed: leap.yaml covers every module the integration can import
(lazy imports included), and requirements.txt pins the versions poetry.lock resolved."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

from imdb.contract.config import REPO_ROOT

ENTRY_FILES = ("leap_integration.py", "leap_binder.py")
PACKAGE = "imdb"


def _module_file(module: str) -> Path | None:
    base = REPO_ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported_modules(path: Path) -> set[str]:
    """Every ``imdb`` module named by an import anywhere in the file, function bodies included."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    modules = set()
    for name in found:
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


def test_leap_yaml_includes_every_module_the_integration_can_import() -> None:
    include = set(yaml.safe_load((REPO_ROOT / "leap.yaml").read_text())["include"])
    missing = integration_closure() - include
    assert not missing, f"leap.yaml must include {sorted(missing)}"
    for asset in ("imdb/project_config.yaml", "imdb/assets/word_vocab.txt", "requirements.txt"):
        assert asset in include


def _locked_versions() -> dict[str, str]:
    text = (REPO_ROOT / "poetry.lock").read_text()
    return {name.lower(): version for name, version in
            re.findall(r'^name = "([^"]+)"\nversion = "([^"]+)"', text, flags=re.MULTILINE)}


def test_requirements_pin_the_locked_versions() -> None:
    locked = _locked_versions()
    pins = [line.split("==") for line in (REPO_ROOT / "requirements.txt").read_text().splitlines()
            if line.strip() and not line.startswith("#")]
    assert pins, "requirements.txt pins nothing"
    for name, version in pins:
        assert locked.get(name.lower()) == version, f"{name}=={version} but poetry.lock has {locked.get(name.lower())}"
    assert {"code-loader", "tensorflow", "keras", "keras-hub", "google-cloud-storage", "textblob"} <= {
        name for name, _ in pins}
