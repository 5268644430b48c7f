"""Invariance and directional cases built from real validation reviews.

Invariance: a change that says nothing about the film's quality — another person's name,
another quoted title, another number, a typo in a neutral word — must not flip the
prediction. Directional: a clearly negative (positive) closing sentence must lower (raise)
the positive-class probability. Each perturbation is drawn with a generator seeded by the
suite's seed, the test and the review id, so a case is the same text wherever it is built.
"""

from __future__ import annotations

import random
import re
from typing import Callable, Protocol, Sequence

from imdb.probes.cases import DIRECTIONAL, INVARIANCE, PROBE_PREFIX, ProbeCase
from imdb.probes.suite import Perturbation, Suite

# A number that states a score ("7/10", "8 out of 10", "4 stars", "I gave it a 3") carries
# sentiment: scores are 0 to SCORE_MAX and never changed, nor are numbers written as a score.
_NUMBER = re.compile(r"(?<![\w/.,])(?<!out of )(\d+)(?![\w/.,%])(?!\s*(?:out of|stars?|points?)\b)")
SCORE_MAX = 10
# A four-digit number in this range is read as a year and becomes another year of the sound era.
YEARS = (1800, 2099)
SOUND_ERA = (1930, 2020)
_QUOTED_TITLE = re.compile(r'"([A-Z][^"\n]{0,60})"')
_TITLE_MAX_WORDS = 6
# A word after which a capitalised word is taken for a surname ("Tom Hanks").
_SURNAME = r"\s+([A-Z][a-z]+)\b"
# Letters of a word that a typo swaps: never the first, so the word still starts as it did.
_FIRST_SWAPPABLE = 1
_MIN_TYPO_LENGTH = 4


class _Review(Protocol):
    sample_id: str
    label: int
    rating: int
    movie_id: str
    text: str


Perturb = Callable[[str, random.Random, Perturbation], "str | None"]


def swap_names(text: str, rng: random.Random, test: Perturbation) -> str | None:
    """Every mention of the first "First Last" name (first name from the suite's list) replaced."""
    first = "|".join(re.escape(name) for name in test.lists["first_names"])
    match = re.search(rf"\b({first}){_SURNAME}", text)
    if match is None:
        return None
    original = match.group(0)
    replacement = rng.choice([name for name in test.lists["replacements"] if name != original])
    return text.replace(original, replacement)


def swap_titles(text: str, rng: random.Random, test: Perturbation) -> str | None:
    """The first quoted, capitalised phrase of a few words (a title) replaced by another title."""
    for match in _QUOTED_TITLE.finditer(text):
        title = match.group(1)
        if len(title.split()) <= _TITLE_MAX_WORDS:
            replacement = rng.choice([name for name in test.lists["replacements"] if name != title])
            return text.replace(f'"{title}"', f'"{replacement}"')
    return None


def _other_number(digits: str, rng: random.Random) -> str:
    """A different number with as many digits, above any score (a year stays a year)."""
    size = len(digits)
    low, high = max(10 ** (size - 1), SCORE_MAX + 1), 10 ** size - 1
    if YEARS[0] <= int(digits) <= YEARS[1]:
        low, high = SOUND_ERA
    while True:
        candidate = str(rng.randint(low, high))
        if candidate != digits:
            return candidate


def _changeable(match: re.Match) -> bool:
    return int(match.group(1)) > SCORE_MAX


def change_numbers(text: str, rng: random.Random, test: Perturbation) -> str | None:
    """Every number above the score range changed to another of the same size."""
    if not any(_changeable(match) for match in _NUMBER.finditer(text)):
        return None
    return _NUMBER.sub(lambda match: _other_number(match.group(1), rng) if _changeable(match) else match.group(0), text)


def add_typo(text: str, rng: random.Random, test: Perturbation) -> str | None:
    """Two adjacent letters swapped in one occurrence of a neutral word (the suite's list)."""
    neutral = "|".join(re.escape(word) for word in test.lists["words"] if len(word) >= _MIN_TYPO_LENGTH)
    matches = [match for match in re.finditer(rf"\b({neutral})\b", text, flags=re.IGNORECASE)]
    candidates = [match for match in matches if len(set(match.group(0)[_FIRST_SWAPPABLE:])) > 1]
    if not candidates:
        return None
    match = rng.choice(candidates)
    word = match.group(0)
    positions = [i for i in range(_FIRST_SWAPPABLE, len(word) - 1) if word[i] != word[i + 1]]
    at = rng.choice(positions)
    typo = word[:at] + word[at + 1] + word[at] + word[at + 2:]
    return text[:match.start()] + typo + text[match.end():]


def append_sentence(text: str, rng: random.Random, test: Perturbation) -> str | None:
    """The review with one of the test's closing sentences appended."""
    return f"{text.rstrip()} {rng.choice(test.lists['sentences'])}"


INVARIANCE_TESTS: dict[str, Perturb] = {"names": swap_names, "titles": swap_titles, "numbers": change_numbers,
                                        "typos": add_typo}


def review_pool(reviews: Sequence[_Review], suite: Suite) -> list[_Review]:
    """Reviews short enough that an appended sentence stays inside every model's input window."""
    return [review for review in reviews if len(review.text.split()) <= suite.max_words]


def _draw(cases: list[ProbeCase], suite: Suite, test: str) -> list[ProbeCase]:
    """At most ``reviews_per_test`` cases, as many per label as the candidates allow, in pool order."""
    rng = random.Random(f"{suite.seed}:draw:{test}")
    by_label: dict[int, list[int]] = {}
    for position, case in enumerate(cases):
        by_label.setdefault(case.label, []).append(position)
    chosen: list[int] = []
    pools = sorted(by_label.values(), key=len)
    for index, positions in enumerate(pools):
        rng.shuffle(positions)
        share = (suite.reviews_per_test - len(chosen)) // (len(pools) - index)
        chosen.extend(positions[:share])
    return [cases[position] for position in sorted(chosen)]


def _perturbed(pool: Sequence[_Review], suite: Suite, test: Perturbation, kind: str, perturb: Perturb) -> list[ProbeCase]:
    cases = []
    for review in pool:
        text = perturb(review.text, random.Random(f"{suite.seed}:{test.name}:{review.sample_id}"), test)
        if text is None or text == review.text:
            continue
        cases.append(ProbeCase(
            sample_id=f"{PROBE_PREFIX}{kind}/{test.name}/{review.sample_id}", text=text, label=review.label,
            capability=test.name, kind=kind, template=f"{kind}/{test.name}", source_id=review.sample_id,
            direction=test.direction or "same", rating=review.rating, movie_id=review.movie_id or "none"))
    return _draw(cases, suite, test.name)


def invariance_cases(reviews: Sequence[_Review], suite: Suite) -> list[ProbeCase]:
    pool = review_pool(reviews, suite)
    cases = []
    for test in suite.invariance:
        if test.name not in INVARIANCE_TESTS:
            raise ValueError(f"{suite.path}: unknown invariance test {test.name!r}; known: {sorted(INVARIANCE_TESTS)}")
        cases.extend(_perturbed(pool, suite, test, INVARIANCE, INVARIANCE_TESTS[test.name]))
    return cases


def directional_cases(reviews: Sequence[_Review], suite: Suite) -> list[ProbeCase]:
    pool = review_pool(reviews, suite)
    return [case for test in suite.directional for case in _perturbed(pool, suite, test, DIRECTIONAL, append_sentence)]
