"""One probe case, and the minimum-functionality cases generated from the suite's templates.

Why generated and drawn with a seed: every combination of a template's fillers is a valid
case; drawing a fixed number per capability with the suite's seed keeps the suite balanced
across templates and identical on every machine, so a sample id always names the same text.
"""

from __future__ import annotations

import itertools
import random
import re
from dataclasses import dataclass

from imdb.contract.names import LABEL_NAMES
from imdb.probes.suite import Capability, Suite, SuiteError

MINIMUM_FUNCTIONALITY = "minimum_functionality"
INVARIANCE = "invariance"
DIRECTIONAL = "directional"
KINDS = (MINIMUM_FUNCTIONALITY, INVARIANCE, DIRECTIONAL)
# Review ids are ``train/...`` or ``test/...``; probe ids never collide with them.
PROBE_PREFIX = "probe/"
# What a probe case reports where a review would have a value it lacks (no rating, no movie).
NO_RATING = 0
NONE = "none"
SAME = "same"
_SLOT = re.compile(r"\{(\w+)\}")
ID_DIGITS = 3


@dataclass(frozen=True)
class ProbeCase:
    """A probe sample: its text and expected label, and what it tests.

    ``source_id`` is the real review a perturbation starts from (``"none"`` for templated
    cases); ``direction`` is ``up``/``down`` for directional cases and ``same`` otherwise.
    ``rating`` and ``movie_id`` are the source review's (0 and ``"none"`` for templated
    cases), so the metadata functions have a value for every probe.
    """

    sample_id: str
    text: str
    label: int
    capability: str
    kind: str
    template: str
    source_id: str = NONE
    direction: str = SAME
    rating: int = NO_RATING
    movie_id: str = NONE


def is_probe_id(sample_id: object) -> bool:
    return isinstance(sample_id, str) and sample_id.startswith(PROBE_PREFIX)


def _label(name: str, suite: Suite, capability: str) -> int:
    if name not in LABEL_NAMES:
        raise SuiteError(f"{suite.path}: capability {capability!r} has label {name!r}; use one of {LABEL_NAMES}")
    return LABEL_NAMES.index(name)


def _fillings(text: str, suite: Suite, capability: str) -> list[str]:
    """Every filling of one template's slots, in a fixed order."""
    slots = _SLOT.findall(text)
    missing = [slot for slot in slots if slot not in suite.fillers]
    if missing:
        raise SuiteError(f"{suite.path}: template {text!r} of {capability!r} uses unknown fillers {missing}")
    filled = []
    for values in itertools.product(*(suite.fillers[slot] for slot in slots)):
        # Two slots drawing from overlapping lists must not say the same word twice ("the plot ... the plot").
        if len(set(values)) < len(values):
            continue
        mapping = iter(values)
        filled.append(_SLOT.sub(lambda _match: next(mapping), text))
    return filled


def capability_cases(capability: Capability, suite: Suite) -> list[ProbeCase]:
    """Up to ``cases_per_capability`` cases, spread evenly over the capability's templates."""
    rng = random.Random(f"{suite.seed}:{capability.name}")
    pools = []
    for number, template in enumerate(capability.templates):
        texts = _fillings(template.text, suite, capability.name)
        rng.shuffle(texts)
        pools.append([(number, template, text) for text in texts])
    drawn = []
    for row in itertools.zip_longest(*pools):
        drawn.extend(item for item in row if item is not None)
    cases = []
    for position, (number, template, text) in enumerate(drawn[:suite.cases_per_capability]):
        cases.append(ProbeCase(
            sample_id=f"{PROBE_PREFIX}{MINIMUM_FUNCTIONALITY}/{capability.name}/{position:0{ID_DIGITS}d}",
            text=text, label=_label(template.label, suite, capability.name), capability=capability.name,
            kind=MINIMUM_FUNCTIONALITY, template=f"{capability.name}/{number}"))
    return cases


def minimum_functionality_cases(suite: Suite) -> list[ProbeCase]:
    return [case for capability in suite.capabilities for case in capability_cases(capability, suite)]
