"""The n-gram linear model as a Keras graph: one weight per n-gram and class, summed, plus a bias.

Why Keras for a linear model: Tensorleap serves one model file (ONNX or ``.h5``) and the report,
export and checks treat every family alike; built from stock layers only, the file loads
anywhere without custom objects. The weights are fitted outside (a logistic regression in
scikit-learn, which converges in seconds where gradient descent on 100,000 sparse weights takes
epochs) and written into the layers; the graph computes exactly the regression's logits.

Layout: ``embedding`` holds each n-gram's per-class weight (the padding row is zero, so padding
adds nothing); ``latent`` is the mean of the weights of the review's input positions, per class
(the class evidence, the only representation a linear model has); ``logits`` multiplies it back
into the sum and adds the bias.
"""

from __future__ import annotations

import keras
import numpy as np

from imdb.contract.model_files import EMBEDDING_LAYER, LATENT_LAYER, LOGITS_LAYER, NUM_CLASSES, WORD_INPUT
from imdb.text.words import PAD_ID


def build_ngram(vocab_size: int, max_ngrams: int, num_classes: int = NUM_CLASSES) -> keras.Model:
    """Ids of the review's distinct n-grams -> per-class weights -> mean -> ``max_ngrams`` x mean + bias."""
    tokens = keras.Input(shape=(max_ngrams,), dtype="float32", name=WORD_INPUT)
    weights = keras.layers.Embedding(vocab_size, num_classes, name=EMBEDDING_LAYER)(tokens)
    evidence = keras.layers.GlobalAveragePooling1D(name=LATENT_LAYER)(weights)
    logits = keras.layers.Dense(num_classes, name=LOGITS_LAYER)(evidence)
    model = keras.Model([tokens], logits, name="imdb_ngram")
    set_linear_weights(model, np.zeros((vocab_size, num_classes), np.float32), np.zeros(num_classes, np.float32))
    return model


def set_linear_weights(model: keras.Model, ngram_weights: np.ndarray, bias: np.ndarray) -> None:
    """Write a linear model's weights (rows = n-gram ids, columns = classes) into the graph.

    The padding row is forced to zero and the mean is scaled back into a sum, so the logits are
    ``bias + sum of the weights of the n-grams present``, bit for bit the regression's."""
    table = np.asarray(ngram_weights, np.float32).copy()
    table[PAD_ID] = 0.0
    length = model.inputs[0].shape[1]
    classes = table.shape[1]
    model.get_layer(EMBEDDING_LAYER).set_weights([table])
    model.get_layer(LOGITS_LAYER).set_weights([np.eye(classes, dtype=np.float32) * length,
                                               np.asarray(bias, np.float32)])


def linear_weights(model: keras.Model) -> tuple[np.ndarray, np.ndarray]:
    """The per-n-gram, per-class weights and the bias of a model ``build_ngram`` made."""
    table = model.get_layer(EMBEDDING_LAYER).get_weights()[0]
    _, bias = model.get_layer(LOGITS_LAYER).get_weights()
    return table, bias
