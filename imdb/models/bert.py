"""The BERT family's Keras classifier over a keras-hub backbone, and what loading it needs.

The tokenizer is ``imdb.text.wordpiece`` and fine-tuning is ``imdb.training.bert``; this module
only builds the network, so a loader or an exporter never imports the training code.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from imdb.contract.config import Config, ConfigError
from imdb.contract.model_files import (ATTENTION_MASK, BERT_INPUT_NAMES, LATENT_LAYER, LOGITS_LAYER,
                                       NUM_CLASSES)
from imdb.models.bert_checkpoint import load_backbone
from imdb.text.checkpoint import VOCAB_FILE, checkpoint_lowercases, resolve_checkpoint

if TYPE_CHECKING:
    import keras

# Layers of the classifier around the backbone.
POOLER_LAYER = "pooled_dense"  # keras-hub's [CLS] pooler inside the backbone
DROPOUT_LAYER = "dropout"
HEAD_INITIALIZER_STDDEV = 0.02  # BERT's own initializer range for new dense layers


def build_classifier(config: Config, backbone: Any = None, num_classes: int = NUM_CLASSES) -> "keras.Model":
    """Float32 ``input_ids``/``attention_mask``/``token_type_ids`` -> one logit per class.

    The ``latent`` layer (the penultimate representation the analysis maps, as in the word
    models) is the attention-masked mean of the backbone's token vectors, the pooling the
    checkpoint was trained with (see ``MaskedMeanPooling``); then dropout (training only) and
    ``Dense(classes)`` named ``logits``. The backbone's own [CLS] pooler is unused, so it is frozen
    rather than given gradients that do not exist. Inputs have a static length so a model
    trained for another ``bert.max_len`` is caught at load time.
    """
    return build_classifier_pair(config, backbone, num_classes=num_classes)[0]


def build_classifier_pair(config: Config, backbone: Any = None, dtype: str | None = None,
                          num_classes: int = NUM_CLASSES) -> tuple["keras.Model", "keras.Model"]:
    """The served classifier (static ``bert.max_len`` inputs) and a twin with inputs of any length.

    Both graphs call the *same* layer objects, so they share every weight: training feeds the
    twin batches padded only to their longest review (the cost of a step grows faster than
    its length), while the static one is what is saved and checked at load time. ``dtype``
    is the backbone's Keras dtype policy (``mixed_bfloat16`` to train in bfloat16; float32 by
    default); the casts, the pooling and the head stay float32 under any policy, so token ids
    are never rounded and the logits keep float32 precision.
    """
    import keras

    from imdb.models.bert_layers import CastToInt32, MaskedMeanPooling

    if backbone is None:
        directory = resolve_checkpoint(config.bert.checkpoint)
        check_serving_tokenizer(config, directory)
        backbone = load_backbone(directory, dtype)
    length = config.bert.max_len
    if length > backbone.max_sequence_length:
        raise ConfigError(
            f"setting 'bert.max_len' is {length} but the checkpoint {config.bert.checkpoint} has "
            f"{backbone.max_sequence_length} positions")
    backbone.get_layer(POOLER_LAYER).trainable = False
    casts = [CastToInt32(name=f"{name}_int32") for name in BERT_INPUT_NAMES]
    pooling = MaskedMeanPooling(name=LATENT_LAYER)
    dropout = keras.layers.Dropout(config.bert.dropout, name=DROPOUT_LAYER)
    head = keras.layers.Dense(
        num_classes, name=LOGITS_LAYER,
        kernel_initializer=keras.initializers.TruncatedNormal(stddev=HEAD_INITIALIZER_STDDEV))

    def wire(sequence_length: int | None, model_name: str) -> "keras.Model":
        inputs = [keras.Input(shape=(sequence_length,), dtype="float32", name=name) for name in BERT_INPUT_NAMES]
        token_ids, padding_mask, segment_ids = (cast(tensor) for cast, tensor in zip(casts, inputs, strict=True))
        features = backbone({"token_ids": token_ids, "segment_ids": segment_ids, "padding_mask": padding_mask})
        attention_mask = inputs[BERT_INPUT_NAMES.index(ATTENTION_MASK)]
        latent = pooling([features["sequence_output"], attention_mask])
        return keras.Model(inputs, head(dropout(latent)), name=model_name)

    return wire(length, "imdb_bert"), wire(None, "imdb_bert_any_length")


def check_serving_tokenizer(config: Config, directory: str) -> None:
    """The committed vocabulary the integration serves with must be the checkpoint's own.

    Why at build time: serving tokenises with ``bert.vocab_file`` and ``bert.lowercase`` (no
    checkpoint on the platform), so a model trained from a checkpoint with another vocabulary
    would be served ids it never learned, silently.
    """
    checkpoint_vocab = Path(directory) / VOCAB_FILE
    asset = config.bert.vocab_file
    if not asset.is_file() or asset.read_bytes() != checkpoint_vocab.read_bytes():
        raise ConfigError(
            f"setting 'bert.vocab_file' ({asset}) is not the vocabulary of the checkpoint in 'bert.checkpoint' "
            f"({checkpoint_vocab}): copy {checkpoint_vocab} to {asset} so the integration serves what you train")
    if checkpoint_lowercases(directory) != config.bert.lowercase:
        raise ConfigError(
            f"setting 'bert.lowercase' is {config.bert.lowercase} in {config.source_file} but the checkpoint "
            f"{directory} says do_lower_case={checkpoint_lowercases(directory)}: make them agree")
