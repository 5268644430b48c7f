"""One calling path for both sides of a comparison: code-loader's decorators.

Why: our binder functions are decorated, so a baseline called as plain methods would skip
the decorator's fixed cost and the ratio would measure the decorator as much as the work.
Each baseline function is decorated here exactly as ``leap_binder.py`` decorates ours (same
decorator, same metadata types), under a prefixed name because code-loader refuses two
handlers of one name. Two ways through the decorators are timed:

* ``platform``: the handler each decorator registers in ``leap_binder.setup_container``,
  which is what the platform's loader calls per sample (``handler.function(id, preprocess)``);
* ``validated``: the decorated function itself, as ``leap_integration.py`` and code-loader's
  local checks call it, with argument and result validation on every call.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Callable

from code_loader import leap_binder as code_loader_binder
from code_loader.inner_leap_binder.leapbinder_decorators import (
    tensorleap_gt_encoder,
    tensorleap_input_encoder,
    tensorleap_metadata,
)

from imdb.contract.model_files import BERT_INPUT_NAMES, WORD_INPUT_NAMES
from imdb.runtime import components

INPUT_NAMES = frozenset((*WORD_INPUT_NAMES, *BERT_INPUT_NAMES))
GT_NAME = "sentiment"
LABEL_METADATA = "metadata_label"
# Binder function name -> (registered metadata name, its declared type), as in leap_binder.py.
METADATA_REGISTRATIONS = {LABEL_METADATA: ("label", components.LABEL_TYPE),
                          **{f"metadata_{group}": (group, types) for group, _, types in components.METADATA_GROUPS}}
# channel_dim of every input encoder in leap_binder.py (token ids: channels last).
CHANNEL_DIM = -1
_PREFIXES = itertools.count()

Function = Callable[..., Any]


def _decorator(name: str, registered: str) -> Callable[[Function], Function]:
    if name in INPUT_NAMES:
        return tensorleap_input_encoder(registered, channel_dim=CHANNEL_DIM)
    if name == GT_NAME:
        return tensorleap_gt_encoder(registered)
    if name in METADATA_REGISTRATIONS:
        return tensorleap_metadata(registered, metadata_type=METADATA_REGISTRATIONS[name][1])
    raise ValueError(f"{name} is not a per-sample binder function (input, ground truth or metadata)")


def registered_name(name: str) -> str:
    """The name ``leap_binder.py`` registers a binder function under."""
    return METADATA_REGISTRATIONS[name][0] if name in METADATA_REGISTRATIONS else name


@dataclass(frozen=True)
class CallingPaths:
    """One side's per-sample functions, by binder name, through both ways into the decorators."""

    validated: dict[str, Function]
    platform: dict[str, Function]


def decorate(side: str, functions: dict[str, Function]) -> CallingPaths:
    """Each function decorated as the binder decorates its namesake, registered as
    ``<side><n>_<name>`` (unique per call, so two benchmarks in one process never collide)."""
    prefix = f"{side}{next(_PREFIXES)}_"
    registered = {name: prefix + registered_name(name) for name in functions}
    validated = {name: _decorator(name, registered[name])(function) for name, function in functions.items()}
    return CallingPaths(validated, platform_handlers(registered))


def binder_paths(binder: Any, names: tuple[str, ...]) -> CallingPaths:
    """Our side: ``leap_binder``'s decorated functions and the handlers they registered."""
    return CallingPaths({name: getattr(binder, name) for name in names},
                        platform_handlers({name: registered_name(name) for name in names}))


def platform_handlers(registered: dict[str, str]) -> dict[str, Function]:
    """Binder name -> the handler registered under ``registered[name]``: what the platform's
    loader calls per sample."""
    container = code_loader_binder.setup_container
    handlers = {handler.name: handler.function
                for handler in (*container.inputs, *container.ground_truths, *container.metadata)}
    missing = sorted(set(registered.values()) - set(handlers))
    if missing:
        raise ValueError(f"no code-loader handler registered as {missing}: import leap_binder (or decorate) first")
    return {name: handlers[handler_name] for name, handler_name in registered.items()}
