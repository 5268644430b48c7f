"""Word-level Keras models (dense, CNN and RNN) over the shared word vocabulary.

Both take float32 token ids (Tensorleap feeds float tensors; ``Embedding`` casts them to
integers inside the model) and return **logits**, one per class (``[negative, positive]`` for IMDB sentiment): softmax belongs
to the loss, metrics and visualizers, because Tensorleap is inference-only and analyses raw
outputs. Layer names are part of the contract: ``embedding`` is where word attributions are
taken and ``latent`` is the penultimate representation the analysis report maps.
"""

from __future__ import annotations

import keras

from imdb.contract.config import WordModelConfig
from imdb.contract.model_files import EMBEDDING_LAYER, LATENT_LAYER, LOGITS_LAYER, NUM_CLASSES, WORD_INPUT


def _token_input(sequence_length: int) -> keras.KerasTensor:
    return keras.Input(shape=(sequence_length,), dtype="float32", name=WORD_INPUT)


def _embedding(vocab_size: int, dim: int) -> keras.layers.Layer:
    """Unmasked on purpose: Keras 3 cannot reload masked models from ``.h5`` (the format
    ``leap push`` takes), so the padding id gets its own learned embedding instead."""
    return keras.layers.Embedding(vocab_size, dim, name=EMBEDDING_LAYER)


def build_dense(vocab_size: int, sequence_length: int, params: WordModelConfig,
                num_classes: int = NUM_CLASSES) -> keras.Model:
    """Embedding -> Dense (per word) -> GlobalAveragePooling1D -> Dense(classes) logits.

    A bag-of-words model: it sees single words, never their order, which is exactly why the
    seeds contrast it with BERT on "not", "but" and "waste of".
    """
    tokens = _token_input(sequence_length)
    x = _embedding(vocab_size, params.embedding_dim)(tokens)
    # SpatialDropout1D drops whole embedding channels for every word of a review at once, so no
    # single direction of the embedding can carry the verdict on its own.
    x = keras.layers.SpatialDropout1D(params.embedding_dropout, name="word_dropout")(x)
    x = keras.layers.Dense(params.hidden_units, activation="relu", name="word_features")(x)
    x = keras.layers.GlobalAveragePooling1D(name="average")(x)
    # Padding is unmasked, so the average shrinks with review length; normalising the pooled
    # vector makes the representation length-invariant, as a masked mean would be.
    x = keras.layers.LayerNormalization(name=LATENT_LAYER)(x)
    x = keras.layers.Dropout(params.dropout, name="dropout")(x)
    logits = keras.layers.Dense(num_classes, name=LOGITS_LAYER)(x)
    return keras.Model([tokens], logits, name="imdb_dense")


def build_cnn(vocab_size: int, sequence_length: int, params: WordModelConfig,
              num_classes: int = NUM_CLASSES) -> keras.Model:
    """Embedding -> 3 x (Conv1D, BatchNorm, ReLU), max pooling between blocks -> global max
    pooling -> Dense(classes) logits.

    Convolutions see short phrases ("not good", "waste of time") that the dense model cannot;
    pooling between blocks widens what the later blocks see and cuts the cost of long reviews.
    """
    tokens = _token_input(sequence_length)
    x = _embedding(vocab_size, params.embedding_dim)(tokens)
    x = keras.layers.SpatialDropout1D(params.embedding_dropout, name="word_dropout")(x)
    for block, filters in enumerate(params.filters, start=1):
        x = keras.layers.Conv1D(filters, params.kernel_size, padding="same", use_bias=False,
                                name=f"conv{block}")(x)
        x = keras.layers.BatchNormalization(name=f"bn{block}")(x)
        x = keras.layers.ReLU(name=f"relu{block}")(x)
        if block < len(params.filters) and params.pool_size > 1:
            x = keras.layers.MaxPooling1D(params.pool_size, name=f"pool{block}")(x)
    x = keras.layers.GlobalMaxPooling1D(name=LATENT_LAYER)(x)
    x = keras.layers.Dropout(params.dropout, name="dropout")(x)
    logits = keras.layers.Dense(num_classes, name=LOGITS_LAYER)(x)
    return keras.Model([tokens], logits, name="imdb_cnn")


def build_rnn(vocab_size: int, sequence_length: int, params: WordModelConfig,
              num_classes: int = NUM_CLASSES) -> keras.Model:
    """Embedding -> bidirectional GRU or LSTM over the whole review -> global max pooling ->
    Dense(classes) logits.

    The one word family that reads in order: a recurrent state can carry "not" to the word it
    negates and "but" to the clause that overturns the opening. Max pooling over every step,
    not the final state, because the padding is unmasked (see ``_embedding``): the forward
    state ends after hundreds of padding steps, while the strongest step of either direction
    stays wherever the review put it.
    """
    cells = {"gru": keras.layers.GRU, "lstm": keras.layers.LSTM}
    tokens = _token_input(sequence_length)
    x = _embedding(vocab_size, params.embedding_dim)(tokens)
    x = keras.layers.SpatialDropout1D(params.embedding_dropout, name="word_dropout")(x)
    recurrent = cells[params.cell](params.recurrent_units, return_sequences=True, name=params.cell)
    x = keras.layers.Bidirectional(recurrent, name="bidirectional")(x)
    x = keras.layers.GlobalMaxPooling1D(name=LATENT_LAYER)(x)
    x = keras.layers.Dropout(params.dropout, name="dropout")(x)
    logits = keras.layers.Dense(num_classes, name=LOGITS_LAYER)(x)
    return keras.Model([tokens], logits, name="imdb_rnn")
