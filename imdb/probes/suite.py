"""The probe suite file (``suite.yaml`` beside this module), read into plain dataclasses.

Why a committed data file: the cases are reviewable text, and changing a template is a data
change with a visible diff, not a code edit. ``fingerprint`` identifies the file's content,
so caches derived from the cases (TextBlob scores) are never reused across edits.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SUITE_FILE = Path(__file__).with_name("suite.yaml")
FINGERPRINT_CHARS = 12


class SuiteError(ValueError):
    """The suite file is malformed; the message names the file and the entry at fault."""


@dataclass(frozen=True)
class Template:
    text: str
    label: str


@dataclass(frozen=True)
class Capability:
    name: str
    description: str
    templates: tuple[Template, ...]


@dataclass(frozen=True)
class Perturbation:
    """One invariance or directional test: its name and its word lists (by key)."""

    name: str
    description: str
    lists: dict[str, tuple[str, ...]]
    direction: str = ""


@dataclass(frozen=True)
class Suite:
    path: Path
    seed: int
    cases_per_capability: int
    max_words: int
    reviews_per_test: int
    directional_tolerance: float
    fillers: dict[str, tuple[str, ...]]
    capabilities: tuple[Capability, ...]
    invariance: tuple[Perturbation, ...]
    directional: tuple[Perturbation, ...]
    fingerprint: str


def _perturbations(raw: dict[str, Any], path: Path, section: str) -> tuple[Perturbation, ...]:
    tests = []
    for name, entry in (raw.get(section) or {}).items():
        lists = {key: tuple(str(item) for item in value) for key, value in entry.items() if isinstance(value, list)}
        direction = str(entry.get("direction", ""))
        if section == "directional" and direction not in ("up", "down"):
            raise SuiteError(f"{path}: directional test {name!r} needs direction: up or down, got {direction!r}")
        tests.append(Perturbation(name=name, description=str(entry.get("description", "")), lists=lists,
                                  direction=direction))
    return tuple(tests)


def load_suite(path: str | Path = SUITE_FILE) -> Suite:
    """Read and check the suite file; a missing key or a bad label is a ``SuiteError`` naming it."""
    path = Path(path)
    try:
        content = path.read_bytes()
        raw = yaml.safe_load(content)
        capabilities = tuple(
            Capability(name=name, description=str(entry["description"]),
                       templates=tuple(Template(text=str(t["text"]), label=str(t["label"])) for t in entry["templates"]))
            for name, entry in raw["minimum_functionality"].items())
        suite = Suite(
            path=path, seed=int(raw["seed"]), cases_per_capability=int(raw["cases_per_capability"]),
            max_words=int(raw["reviews"]["max_words"]), reviews_per_test=int(raw["reviews"]["per_test"]),
            directional_tolerance=float(raw["directional_tolerance"]),
            fillers={key: tuple(str(item) for item in values) for key, values in raw["fillers"].items()},
            capabilities=capabilities, invariance=_perturbations(raw, path, "invariance"),
            directional=_perturbations(raw, path, "directional"),
            fingerprint=hashlib.sha256(content).hexdigest()[:FINGERPRINT_CHARS])
    except OSError as exc:
        raise SuiteError(f"cannot read the probe suite {path}: {exc}") from exc
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise SuiteError(f"malformed probe suite {path}: missing or bad entry {exc}") from exc
    return suite
