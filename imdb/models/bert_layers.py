"""The custom Keras layers of the BERT classifier, registered so saved models reload.

Why its own module: loading a saved BERT classifier needs these classes (and keras-hub's
backbone) but not the builder or the checkpoint reader of ``imdb.models.bert``, so the model
loader, which the push bundle carries, imports this module alone.
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


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class MaskedMeanPooling(keras.layers.Layer):
    """Mean of the token vectors over real tokens (attention mask 1); padding is excluded.

    Why mean and not [CLS]: all-MiniLM-L6-v2 was trained as a sentence encoder with exactly
    this pooling, so its mean-pooled vectors already separate sentiment (a linear probe on
    400 reviews: 0.72 accuracy, against 0.57 for the pooled [CLS] output), and fine-tuning
    starts from a representation that is already useful.
    """

    def call(self, inputs: Any) -> Any:
        sequence, mask = inputs
        weights = keras.ops.expand_dims(keras.ops.cast(mask, sequence.dtype), axis=-1)
        total = keras.ops.sum(sequence * weights, axis=1)
        # At least one token, so an all-padding row yields zeros instead of NaN.
        count = keras.ops.maximum(keras.ops.sum(weights, axis=1), 1.0)
        return total / count

    def compute_output_shape(self, input_shape: Any) -> tuple:
        sequence_shape, _ = input_shape
        return (sequence_shape[0], sequence_shape[-1])


def custom_objects() -> dict[str, Any]:
    """Classes a saved BERT classifier needs at load time: our layers and keras-hub's backbone.

    All are registered serializables; returning them also imports their modules, which is
    what registers them in a process that has not built a BERT model.
    """
    from keras_hub.models import BertBackbone

    return {"CastToInt32": CastToInt32, "MaskedMeanPooling": MaskedMeanPooling, "BertBackbone": BertBackbone}
