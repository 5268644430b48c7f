"""Confidence per sample and calibration: ECE on known cases, the temperature fit, `evaluate --calibrate`."""

from pathlib import Path

import numpy as np
import pytest

from imdb.runtime.scoring import confidence
from imdb.tools.calibration import calibration, expected_calibration_error, fit_temperature, reliability
from imdb.tools.cli.main import main
from test_cli import last_json

SAMPLES = 20_000
SEED = 7
# A model whose logits are this many times too large is overconfident by the same factor.
OVERCONFIDENCE = 3.0


def _calibrated(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Logits whose softmax is the true class probability: labels drawn from it."""
    logits = rng.normal(0.0, 2.0, size=(SAMPLES, 2)).astype(np.float32)
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = (rng.random(SAMPLES) < probabilities[:, 1]).astype(np.int64)
    return logits, labels


def test_confidence_margin_and_entropy_by_hand() -> None:
    values = confidence(np.array([[0.0, 0.0], [np.log(3.0), 0.0]], dtype=np.float32))
    assert np.allclose(values["confidence"], [0.5, 0.75])
    assert np.allclose(values["margin"], [0.0, 0.5])
    assert np.allclose(values["entropy"], [np.log(2.0), -(0.75 * np.log(0.75) + 0.25 * np.log(0.25))], atol=1e-6)
    three = confidence(np.zeros((1, 3), dtype=np.float32))
    assert np.isclose(three["entropy"][0], np.log(3.0)) and three["margin"][0] == 0.0
    assert all(value.dtype == np.float32 for value in values.values())


def test_ece_tells_a_calibrated_model_from_an_overconfident_one() -> None:
    logits, labels = _calibrated(np.random.default_rng(SEED))
    calibrated = calibration(logits, labels, SEED)
    overconfident = calibration(logits * OVERCONFIDENCE, labels, SEED)
    assert calibrated["ece"] < 0.02
    assert overconfident["ece"] > 0.1
    low, high = calibrated["ece_interval"]
    assert low <= calibrated["ece"] <= high and high < overconfident["ece_interval"][0]


def test_temperature_fit_recovers_the_overconfidence_and_removes_the_error() -> None:
    logits, labels = _calibrated(np.random.default_rng(SEED))
    temperature = fit_temperature(logits * OVERCONFIDENCE, labels)
    assert temperature == pytest.approx(OVERCONFIDENCE, rel=0.1)
    fixed = calibration(logits * OVERCONFIDENCE, labels, SEED, temperature)
    assert fixed["ece_after_temperature"] < 0.02 < fixed["ece"]


def test_reliability_bins_cover_every_sample_once() -> None:
    probabilities = np.array([[0.5, 0.5], [0.0, 1.0], [0.3, 0.7], [0.95, 0.05]])
    rows = reliability(probabilities, np.array([0, 1, 0, 0]))
    assert len(rows) == 15 and sum(row["n"] for row in rows) == 4
    assert rows[-1]["n"] == 2 and rows[-1]["accuracy"] == 1.0
    assert expected_calibration_error(np.array([[0.0, 1.0]]), np.array([0])) == 1.0


def test_evaluate_calibrate_fits_on_training(imdb_data_uri: str, data_root: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["evaluate", "--model", "dense", "--data", imdb_data_uri, "--data-root", str(data_root),
                 "--split", "validation", "--limit", "200", "--calibrate", "--no-progress"])
    assert code == 0
    result = last_json(capsys)["calibration"]
    assert 0.0 <= result["ece"] <= 1.0 and result["bins"] == 15
    assert result["ece_interval"][0] <= result["ece"] <= result["ece_interval"][1]
    assert 0.05 < result["temperature"] < 20.0
    assert "reliability" not in result, "the bins belong in the report, not the one-line result"
