"""Text-only scores (TextBlob, textstat): exact, finite, computed once across processes, in parallel.

Real reviews from the shared IMDB data; the only hand-written texts are the edge cases
(empty, wordless, markup only) that the corpus does not hold.
"""

from __future__ import annotations

import json
import logging
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import textstat
from textblob import TextBlob

from imdb.contract.config import REPO_ROOT
from imdb.data import Corpus
from imdb.runtime import text_scores
from imdb.runtime.text_scores import TextScoreError, TextScores, score_in_workers
from imdb.runtime.text_scoring import READABILITY_FUNCTIONS, SCORE_NAMES, score_text
from imdb.text.plain import plain_text

# Few reviews, two workers: the tests lower the per-worker minimum to exercise the pool quickly.
PARALLEL_REVIEWS = 64
SMALL_WORKER_MINIMUM = 16
CONCURRENT_PROCESSES = 3


@pytest.fixture(scope="module")
def reviews(imdb_corpus: Corpus) -> list:
    ids = imdb_corpus.ids("validation")[:PARALLEL_REVIEWS]
    return [imdb_corpus[sample_id] for sample_id in ids]


def test_scores_are_textblob_and_textstat_on_the_plain_text(reviews: list) -> None:
    review = next(item for item in reviews if "<br" in item.text)
    cleaned = plain_text(review.text)
    sentiment = TextBlob(cleaned).sentiment
    expected = [sentiment.polarity, sentiment.subjectivity,
                *(getattr(textstat, name)(cleaned) for name in READABILITY_FUNCTIONS)]
    assert list(score_text(review.text)) == pytest.approx(expected)
    assert len(SCORE_NAMES) == 2 + 14


# Reviews compared with TextBlob's own sentiment, labelled and unlabelled.
SENTIMENT_REVIEWS = 600
# What the corpus holds too rarely: contractions, abbreviations, ellipses, emoticons, sarcasm
# marks, quotes, paragraph breaks, negations and intensifiers.
SENTIMENT_EDGE_CASES = (
    "I didn't like it. It wasn't good!!! Not at all...", "The U.S. cut (e.g. the D.C. one) is fine etc. ok.",
    "Great :-) really great :D but sad :( and ( ! ) odd (!)", "\"Superb,\" he said; 'awful' she said.",
    "Heading\n\nA very, very good film.\r\n\r\nThe end", "not a very bad film?! never boring... ever",
    "“Smart” and ‘witty’ — he's we've they'd I'm you'll", "... !!! ??? -- ** ## @@",
)


def test_pattern_sentiment_is_textblobs_value_for_value(imdb_corpus: Corpus, official_sample) -> None:
    from imdb.runtime.text_scoring import lexicon_sentiment

    unsup = [data.decode() for name, data in official_sample.members.items() if "/train/unsup/" in name]
    texts = [imdb_corpus[sample_id].text for sample_id in imdb_corpus.ids("training")[:SENTIMENT_REVIEWS]]
    texts += unsup + list(SENTIMENT_EDGE_CASES)
    expected = [tuple(TextBlob(plain_text(text)).sentiment) for text in texts]
    assert [lexicon_sentiment(text) for text in texts] == expected
    assert any(polarity != 0 for polarity, _ in expected[-len(SENTIMENT_EDGE_CASES):])


@pytest.mark.parametrize("text", ["", "   ", "!!! ??? ...", "<br /><br />", "&nbsp;<i></i>"])
def test_wordless_reviews_score_zero_and_finite(text: str) -> None:
    scores = score_text(text)
    assert len(scores) == len(SCORE_NAMES)
    assert all(value == 0.0 for value in scores)


def test_one_word_review_is_finite() -> None:
    assert all(math.isfinite(value) for value in score_text("Wonderful"))


def test_a_worker_scores_without_importing_nltk(reviews: list, tmp_path: Path) -> None:
    """A worker loads TextBlob's lexicon without the package's blob classes (NLTK, SciPy): the
    same scores, a fraction of the start-up."""
    source, target = tmp_path / "texts.json", tmp_path / "scores.json"
    texts = [review.text for review in reviews[:SMALL_WORKER_MINIMUM]]
    source.write_text(json.dumps(texts), encoding="utf-8")
    probe = (f"import sys; from imdb.runtime.text_scoring import main; main({[str(source), str(target)]!r}); "
             f"print('nltk' in sys.modules, 'scipy' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO_ROOT, check=True)
    assert done.stdout.strip().splitlines()[-1] == "False False"
    assert json.loads(target.read_text(encoding="utf-8")) == [list(score_text(text)) for text in texts]


def test_parallel_workers_give_the_serial_scores_in_order(reviews: list, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(text_scores, "MIN_REVIEWS_PER_WORKER", SMALL_WORKER_MINIMUM)
    texts = [review.text for review in reviews]
    serial = score_in_workers(texts, workers=1, progress=False)
    parallel = score_in_workers(texts, workers=2, progress=True)
    assert parallel == serial
    assert len(serial) == len(texts)
    assert f"{len(texts)}/{len(texts)}" in capsys.readouterr().err, "the bar follows the workers to the end"


def test_a_failing_worker_names_its_chunk(reviews: list, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text_scores, "MIN_REVIEWS_PER_WORKER", SMALL_WORKER_MINIMUM)
    monkeypatch.setattr(text_scores, "WORKER_MODULE", "imdb.runtime.no_such_worker")
    with pytest.raises(TextScoreError, match=r"chunk 0 exited with status 1: .*No module named"):
        score_in_workers([review.text for review in reviews], workers=2, progress=False)


def test_scores_persist_and_a_second_store_reuses_them(reviews: list, tmp_path: Path) -> None:
    path = tmp_path / "scores.json"
    first = TextScores(path, workers=1)
    first.ensure(reviews[:10], progress=False)
    assert first.computed_in_process == 10
    second = TextScores(path, workers=1)
    second.ensure(reviews[:10], progress=False)
    assert second.computed_in_process == 0
    assert [second[review.sample_id] for review in reviews[:10]] == [first[r.sample_id] for r in reviews[:10]]
    assert not [name for name in path.parent.iterdir() if name.name.endswith(".partial")]


def test_a_corrupt_file_is_recomputed(reviews: list, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "scores.json"
    path.write_text(json.dumps({"columns": ["polarity"], "scores": {}}))
    with caplog.at_level(logging.WARNING):
        store = TextScores(path, workers=1)
    store.ensure(reviews[:3], progress=False)
    assert store.computed_in_process == 3
    assert "corrupt" in caplog.text


def test_processes_started_together_score_each_review_once(reviews: list, imdb_data_uri: str,
                                                           data_root: Path, tmp_path: Path) -> None:
    """The platform starts several workers at once: one computes, the others read its results."""
    ids = [review.sample_id for review in reviews]
    script = textwrap.dedent(f"""
        import json, sys
        from imdb.data import load_corpus
        from imdb.runtime.text_scores import TextScores
        corpus = load_corpus({imdb_data_uri!r}, {str(data_root)!r})
        store = TextScores(__import__("pathlib").Path({str(tmp_path / "shared.json")!r}), workers=1)
        store.ensure([corpus[i] for i in {ids!r}], progress=False)
        print(json.dumps({{"computed": store.computed_in_process}}))
    """)
    processes = [subprocess.Popen([sys.executable, "-c", script], cwd=REPO_ROOT, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(CONCURRENT_PROCESSES)]
    results = [process.communicate(timeout=600) for process in processes]
    for process, (_, stderr) in zip(processes, results):
        assert process.returncode == 0, stderr[-2000:]
    computed = [json.loads(stdout.strip().splitlines()[-1])["computed"] for stdout, _ in results]
    assert sum(computed) == len(ids), computed
    assert sorted(computed) == [0] * (CONCURRENT_PROCESSES - 1) + [len(ids)]
