"""The one custom Keras layer of the BERT classifier, registered so saved models reload.

Why its own module: ``imdb.models.bert`` must stay importable without TensorFlow (the
encoder only needs the WordPiece tokenizer), while a Keras layer class needs Keras at
definition time.
"""

from __future__ import annotations

from typing import Any

import keras

SERIALIZATION_PACKAGE = "imdb"
TOKEN_DTYPE = "int32"


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class CastToInt32(keras.layers.Layer):
    """Float32 ids and masks -> int32, inside the graph.

    Tensorleap feeds every input as float32, while the backbone's embeddings and attention
    mask need integers; casting in the model keeps the served file self-contained (ONNX
    included) instead of relying on the caller to convert.
    """

    def call(self, inputs: Any) -> Any:
        return keras.ops.cast(inputs, TOKEN_DTYPE)

    def compute_output_spec(self, inputs: Any) -> keras.KerasTensor:
        return keras.KerasTensor(inputs.shape, dtype=TOKEN_DTYPE)
