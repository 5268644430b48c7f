"""The corpus-speed readability scorer gives textstat's own values, bit for bit.

Real reviews from the shared IMDB data (a label-mixed slice of official train, scored in one
process as a worker would, so the word memos fill up as they do in a cold start); the
hand-written texts are only the cases the corpus lacks or holds too rarely to rely on:
Arabic script (textstat's own Osman path), non-ASCII words, apostrophes and contractions,
Linsear Write's 100-word cut with punctuation-only tokens.
"""

from __future__ import annotations

import pytest
import textstat

from imdb.data import Corpus
from imdb.runtime.readability import LINSEAR_WORDS, ReadabilityScorer
from imdb.runtime.text_scoring import READABILITY_FUNCTIONS, readability
from imdb.text.plain import plain_text

# Reviews compared one by one with textstat (~5 ms each through textstat).
COMPARED_REVIEWS = 1200
UNIT_CASES = [
    "Wonderful",
    "The film's ending isn't what I'd've expected; they'll love it, won't they? 'Quoted' words' ends.",
    "Naïve café-goers in Zürich: Über-schön! Straße, İstanbul, ÉCOLE, façade.",
    "Un film magnifique. " + "هذا فيلم رائع جدا، وَالتَّمْثِيلُ مُمْتَازٌ. " * 3,
    "Rated * out of ***** -- avoid!!! Why?? Because... it is bad, bad, bad.",
    " ".join(["-- word's, ... ; !"] * (LINSEAR_WORDS // 2) + ["extraordinarily complicated sentences follow."] * 40),
    " ".join(["short"] * (LINSEAR_WORDS - 1)) + ".",
    "1 2 3. 4 5. Numbers 1999 and 2001: A Space Odyssey, 7/10.",
    "I\u00a0loved\u2003it.\u2028Really.",
]


def textstat_values(text: str) -> list[float]:
    return [getattr(textstat, name)(text) for name in READABILITY_FUNCTIONS]


@pytest.fixture(scope="module")
def review_texts(imdb_corpus: Corpus) -> list[str]:
    ids = imdb_corpus.ids("training")
    step = max(1, len(ids) // COMPARED_REVIEWS)
    return [plain_text(imdb_corpus[sample_id].text) for sample_id in ids[::step][:COMPARED_REVIEWS]]


def test_real_reviews_score_exactly_as_textstat(review_texts: list[str]) -> None:
    scorer = ReadabilityScorer()
    mismatches = []
    for number, text in enumerate(review_texts):
        ours = scorer.scores(text)
        theirs = dict(zip(READABILITY_FUNCTIONS, textstat_values(text)))
        mismatches += [(number, name, ours[name], theirs[name]) for name in READABILITY_FUNCTIONS
                       if ours[name] != theirs[name]]
    assert len(review_texts) == COMPARED_REVIEWS
    assert not mismatches, mismatches[:5]


@pytest.mark.parametrize("text", UNIT_CASES)
def test_edge_cases_score_exactly_as_textstat(text: str) -> None:
    ours = ReadabilityScorer().scores(text)
    assert [ours[name] for name in READABILITY_FUNCTIONS] == textstat_values(text)


def test_memos_make_scores_independent_of_what_came_before(review_texts: list[str]) -> None:
    fresh = ReadabilityScorer().scores(review_texts[-1])
    warmed = ReadabilityScorer()
    for text in [*UNIT_CASES, *review_texts[:50]]:
        warmed.scores(text)
    assert warmed.scores(review_texts[-1]) == fresh


def test_only_arabic_script_goes_through_textstats_osman_loops(monkeypatch: pytest.MonkeyPatch) -> None:
    from textstat.backend import counts

    seen: list[str] = []
    original = counts.count_arabic_syllables
    monkeypatch.setattr(counts, "count_arabic_syllables", lambda text: seen.append(text) or original(text))
    scorer = ReadabilityScorer()
    scorer.scores(UNIT_CASES[1])
    assert seen == [], "a text without Arabic letters takes the shortcut"
    scorer.scores(UNIT_CASES[3])
    assert seen == [UNIT_CASES[3]]


def test_served_readability_is_the_scorers_on_the_plain_text(review_texts: list[str]) -> None:
    raw = "A <b>fine</b> film.<br /><br />Not one I'd watch twice, though."
    assert list(readability(raw)) == textstat_values(plain_text(raw))
