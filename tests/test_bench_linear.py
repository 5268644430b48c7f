"""The linear reference's verdict on each shipped model: a paired bootstrap over the same reviews."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from imdb.contract.config import REPO_ROOT, load_config
from imdb.runtime.pipeline import Pipeline
from imdb.tools.bench.linear import BEATS, BELOW, MATCHES, _model_correct, paired_difference

SEED = 1337
REVIEWS = 2500


def _outcomes(correct: int, total: int = REVIEWS, offset: int = 0) -> np.ndarray:
    """``correct`` right answers out of ``total``, starting at ``offset`` (wrapping)."""
    outcome = np.zeros(total, dtype=bool)
    outcome[(np.arange(correct) + offset) % total] = True
    return outcome


def test_a_clear_gain_beats_and_a_clear_loss_is_below() -> None:
    reference = _outcomes(1175)
    better = reference | _outcomes(150, offset=1500)
    result = paired_difference(better, reference, SEED)
    assert result["verdict"] == BEATS and result["difference"] == pytest.approx(0.06)
    low, high = result["interval"]
    assert 0 < low < result["difference"] < high
    assert paired_difference(reference, better, SEED)["verdict"] == BELOW


def test_one_point_with_many_disagreements_is_a_match() -> None:
    """The same 1-point gap reads as a match when the two disagree on a third of the reviews: what
    resampling the reviews moves is larger than the gap."""
    reference = _outcomes(1175)
    model = _outcomes(1200, offset=400)
    assert np.mean(model != reference) > 0.3
    result = paired_difference(model, reference, SEED)
    assert result["difference"] == pytest.approx(0.01) and result["verdict"] == MATCHES
    low, high = result["interval"]
    assert low < 0 < high and result["mcnemar_exact_p"] > 0.05


def test_identical_outcomes_match_with_no_width() -> None:
    reference = _outcomes(1175)
    assert paired_difference(reference.copy(), reference, SEED) == {
        "difference": 0.0, "interval": [0.0, 0.0], "verdict": MATCHES, "model_only_right": 0,
        "reference_only_right": 0, "mcnemar_exact_p": 1.0}


def test_the_verdict_does_not_move_with_the_seed() -> None:
    """A gap near the edge of the interval (41 reviews net, of 411 the two disagree on) gets one
    verdict whatever the seed, and McNemar's exact test agrees with it."""
    reference = _outcomes(1175)
    model = (reference & ~_outcomes(226, offset=0)) | _outcomes(185, offset=1500)
    results = [paired_difference(model, reference, seed) for seed in range(10)]
    assert {result["verdict"] for result in results} == {BELOW}
    assert (results[0]["model_only_right"], results[0]["reference_only_right"]) == (185, 226)
    assert results[0]["mcnemar_exact_p"] < 0.05


@pytest.mark.parametrize("family", ["dense", "cnn"])
def test_review_by_review_outcomes_reproduce_the_shipped_cards_accuracy(family: str, imdb_data_uri: str,
                                                                        data_root: Path) -> None:
    """The bench scores a shipped rating model on the validation reviews again, one outcome per
    review: their mean is the accuracy its card recorded when it was trained (the dense one reading
    stated scores whole, the CNN split, as each was trained)."""
    config = load_config(REPO_ROOT / "imdb" / "rating_config.yaml", environ={}, model=family, data=imdb_data_uri,
                         data_root=str(data_root))
    card = json.loads((REPO_ROOT / "model" / f"rating-{family}.json").read_text(encoding="utf-8"))
    pipeline = Pipeline(config)
    ids = pipeline.split_ids("validation")
    labels = np.array([pipeline.corpus[i].label for i in ids])
    correct = _model_correct(config, ids, labels)
    assert len(correct) == card["validation_samples"]
    assert round(float(correct.mean()), 4) == card["validation_accuracy"]
