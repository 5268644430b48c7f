"""The n-gram linear family: its tokenizer, the exact transfer of a regression into Keras, the shipped model."""

from __future__ import annotations

import json
import os

os.environ.setdefault("TL_DISABLE_ANALYTICS", "1")

import numpy as np

from imdb.contract.config import REPO_ROOT
from imdb.text.ngrams import NgramEncoder, build_vocabulary, distinct, ngrams
from imdb.text.words import PAD_ID, words

# The bar for the shipped sentiment model on the validation split.
SHIPPED_MINIMUM_ACCURACY = 0.912


def test_ngrams_and_distinct_keep_first_appearance() -> None:
    document = ["not", "good", "not", "good"]
    assert ngrams(document, 2) == ["not", "not good", "good", "good not", "not", "not good", "good"]
    assert distinct(ngrams(document, 2)) == ["not", "not good", "good", "good not"]


def test_encoder_reads_the_distinct_known_ngrams_and_pads() -> None:
    docs = [words("Not good at all."), words("not good, not bad"), words("good film")]
    vocabulary = build_vocabulary(docs, max_n=2, size=10, min_documents=2)
    assert "not good" in vocabulary and "good" in vocabulary and "film" not in vocabulary
    encoded = NgramEncoder(vocabulary, 2, 6).encode("Not good, not good film!")
    ids = encoded.inputs["input_tokens"]
    assert ids.dtype == np.float32 and ids.shape == (6,)
    shown = [token for token in NgramEncoder(vocabulary, 2, 6).display_tokens(ids) if token]
    assert shown == ["not", "not good", "good"] and encoded.oov_count == 1 and (ids[3:] == PAD_ID).all()


def test_keras_graph_is_bias_plus_the_sum_of_present_weights() -> None:
    from imdb.models.ngram import build_ngram, linear_weights, set_linear_weights

    rng = np.random.default_rng(0)
    model = build_ngram(vocab_size=20, max_ngrams=5, num_classes=3)
    table, bias = rng.normal(size=(20, 3)).astype(np.float32), rng.normal(size=3).astype(np.float32)
    set_linear_weights(model, table, bias)
    ids = np.array([[4, 7, 9, 0, 0], [0, 0, 0, 0, 0]], dtype=np.float32)
    logits = model.predict(ids, verbose=0)
    np.testing.assert_allclose(logits[0], bias + table[[4, 7, 9]].sum(axis=0), atol=1e-5)
    np.testing.assert_allclose(logits[1], bias, atol=1e-6)
    stored, _ = linear_weights(model)
    assert (stored[PAD_ID] == 0).all()


def test_shipped_ngram_model_reaches_the_bar_and_ships_every_format() -> None:
    card = json.loads((REPO_ROOT / "model" / "ngram.json").read_text(encoding="utf-8"))
    assert card["family"] == "ngram" and card["nb_weighting_applied"] is True
    assert card["validation_accuracy"] >= SHIPPED_MINIMUM_ACCURACY
    assert card["regularization"] == max(card["params"]["regularization"], key=lambda c: card["cross_validated_accuracy"][str(c)])
    for suffix in (".h5", ".keras", ".onnx"):
        assert (REPO_ROOT / "model" / f"ngram{suffix}").is_file()
    assert card["vocab_size"] == sum(1 for _ in (REPO_ROOT / "imdb" / "assets" / "ngram_vocab.txt").open(encoding="utf-8"))
