"""Loss and metrics on logits agree with Keras and with hand-computed values."""

import numpy as np

from imdb.runtime.scoring import accuracy, confusion_counts, cross_entropy, macro_f1, softmax, summarize


def test_softmax_is_stable_for_large_logits() -> None:
    probs = softmax(np.array([[1000.0, 0.0], [0.0, 0.0]]))
    assert np.allclose(probs, [[1.0, 0.0], [0.5, 0.5]])


def test_cross_entropy_matches_keras_from_logits() -> None:
    import keras

    logits = np.array([[2.0, -1.0], [0.3, 0.1], [-5.0, 7.0]], dtype=np.float32)
    y = np.array([[1, 0], [0, 1], [1, 0]], dtype=np.float32)
    expected = keras.losses.CategoricalCrossentropy(from_logits=True, reduction=None)(y, logits)
    assert np.allclose(cross_entropy(y, logits), np.asarray(expected), atol=1e-5)


def test_accuracy_confusion_and_macro_f1() -> None:
    y = np.eye(2, dtype=np.float32)[[0, 0, 1, 1]]
    logits = np.array([[1, 0], [0, 1], [0, 1], [0, 1]], dtype=np.float32)
    assert accuracy(y, logits).tolist() == [1, 0, 1, 1]
    counts = confusion_counts(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]), 2)
    assert counts.tolist() == [[1, 1], [0, 2]]
    assert np.isclose(macro_f1(counts), (2 / 3 + 4 / 5) / 2)
    summary = summarize(np.array([0, 0, 1, 1]), logits, ("negative", "positive"))
    assert summary["n"] == 4 and summary["accuracy"] == 0.75
    assert summary["confusion"] == {"negative->negative": 1, "negative->positive": 1,
                                    "positive->negative": 0, "positive->positive": 2}
