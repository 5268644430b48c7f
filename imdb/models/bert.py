"""The BERT family: WordPiece encoder, Keras classifier over a keras-hub backbone, fine-tuning.

Why these pieces live together: the encoder, the model's inputs and the training data must
agree on the WordPiece vocabulary, the sequence length and the input names, or the model
reads different tokens than the heatmaps show. The checkpoint (``bert.checkpoint``) is the
single source of all three: its ``vocab.txt`` tokenises, its weights initialise the backbone.

The module imports no TensorFlow at import time: the encoder only needs the Rust WordPiece
tokenizer, and metadata or visualisation code that encodes reviews should not pay for Keras.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from imdb.config import Config, ConfigError
from imdb.metadata import plain_text
from imdb.models.bert_checkpoint import VOCAB_FILE, checkpoint_lowercases, load_backbone, resolve_checkpoint
from imdb.text import Encoded

if TYPE_CHECKING:
    import keras

__all__ = [
    "INPUT_NAMES", "BertEncoder", "build_classifier", "custom_objects", "merge_wordpieces",
    "resolve_checkpoint", "train_bert",
]

LOG = logging.getLogger(__name__)

INPUT_IDS = "input_ids"
ATTENTION_MASK = "attention_mask"
TOKEN_TYPE_IDS = "token_type_ids"
INPUT_NAMES = (INPUT_IDS, ATTENTION_MASK, TOKEN_TYPE_IDS)
CLS_TOKEN = "[CLS]"
SEP_TOKEN = "[SEP]"
PAD_TOKEN = "[PAD]"
UNK_TOKEN = "[UNK]"
CONTINUATION_PREFIX = "##"
# [CLS] before the review and [SEP] after it.
SPECIAL_TOKENS_PER_SEQUENCE = 2
# Single-segment input: every position belongs to sentence A.
SEGMENT_A = 0
# Tokens that carry no word of the review (padding is shown as "").
_NON_WORD_TOKENS = frozenset({"", CLS_TOKEN, SEP_TOKEN, PAD_TOKEN})

# Layers of the classifier around the backbone.
POOLER_LAYER = "pooled_dense"  # keras-hub's [CLS] pooler inside the backbone
DROPOUT_LAYER = "dropout"
HEAD_INITIALIZER_STDDEV = 0.02  # BERT's own initializer range for new dense layers


class BertEncoder:
    """Review text -> ``input_ids``, ``attention_mask``, ``token_type_ids`` (float32, fixed length).

    Same interface as ``imdb.text.WordEncoder``. Tokenisation uses Hugging Face's Rust
    ``BertWordPieceTokenizer`` on the checkpoint's ``vocab.txt``: it is the tokenizer the
    checkpoint was trained with (keras-hub's tf.text WordPiece differs on accents and some
    punctuation) and it encodes an IMDB review in about 0.5 ms per call on this project's CPU,
    against 1.6-1.9 ms for keras-hub's tokenizer, batched or not.
    """

    input_names: tuple[str, ...] = INPUT_NAMES

    def __init__(self, vocab_file: str | Path, sequence_length: int, *, lowercase: bool = True) -> None:
        from tokenizers import BertWordPieceTokenizer

        if sequence_length < SPECIAL_TOKENS_PER_SEQUENCE:
            raise ConfigError(f"bert.max_len must be at least {SPECIAL_TOKENS_PER_SEQUENCE}, got {sequence_length}")
        self.sequence_length = sequence_length
        self._tokenizer = BertWordPieceTokenizer(str(vocab_file), lowercase=lowercase, unk_token=UNK_TOKEN,
                                                 sep_token=SEP_TOKEN, cls_token=CLS_TOKEN, pad_token=PAD_TOKEN)
        vocabulary = self._tokenizer.get_vocab()
        self._tokens = [""] * len(vocabulary)
        for token, token_id in vocabulary.items():
            self._tokens[token_id] = token
        missing = [token for token in (CLS_TOKEN, SEP_TOKEN, PAD_TOKEN, UNK_TOKEN) if token not in vocabulary]
        if missing:
            raise ConfigError(f"setting 'bert.checkpoint': {vocab_file} lacks the special tokens {missing}")
        self.cls_id = vocabulary[CLS_TOKEN]
        self.sep_id = vocabulary[SEP_TOKEN]
        self.pad_id = vocabulary[PAD_TOKEN]
        self.unk_id = vocabulary[UNK_TOKEN]

    @classmethod
    def from_config(cls, config: Config) -> "BertEncoder":
        return cls.from_directory(resolve_checkpoint(config.bert.checkpoint), config.bert.max_len)

    @classmethod
    def from_directory(cls, directory: str, sequence_length: int) -> "BertEncoder":
        """The tokenizer of an already resolved checkpoint directory."""
        return cls(Path(directory) / VOCAB_FILE, sequence_length, lowercase=checkpoint_lowercases(directory))

    def wordpiece_ids(self, text: str) -> list[int]:
        """All WordPiece ids of a review (HTML residue removed), before truncation."""
        return self._tokenizer.encode(plain_text(text), add_special_tokens=False).ids

    def encode(self, text: str) -> Encoded:
        """``[CLS] pieces [SEP]`` then padding; counts cover the whole review, so
        ``token_count > sequence_length`` tells metadata the review was truncated."""
        pieces = self.wordpiece_ids(text)
        kept = pieces[: self.sequence_length - SPECIAL_TOKENS_PER_SEQUENCE]
        used = len(kept) + SPECIAL_TOKENS_PER_SEQUENCE
        input_ids = np.full(self.sequence_length, self.pad_id, dtype=np.float32)
        input_ids[:used] = [self.cls_id, *kept, self.sep_id]
        attention_mask = np.zeros(self.sequence_length, dtype=np.float32)
        attention_mask[:used] = 1.0
        token_type_ids = np.full(self.sequence_length, SEGMENT_A, dtype=np.float32)
        return Encoded(
            inputs={INPUT_IDS: input_ids, ATTENTION_MASK: attention_mask, TOKEN_TYPE_IDS: token_type_ids},
            token_count=len(pieces) + SPECIAL_TOKENS_PER_SEQUENCE,
            oov_count=pieces.count(self.unk_id),
            special_tokens=SPECIAL_TOKENS_PER_SEQUENCE,
        )

    def display_tokens(self, input_ids: np.ndarray) -> list[str]:
        """One string per input position, as the model saw it: WordPieces (``##`` kept), the
        special tokens, and ``""`` for padding (LeapText's convention for fixed-length inputs)."""
        shown = []
        for value in np.asarray(input_ids).reshape(-1):
            token_id = int(value)
            is_shown = token_id != self.pad_id and 0 <= token_id < len(self._tokens)
            shown.append(self._tokens[token_id] if is_shown else "")
        return shown


def merge_wordpieces(tokens: Sequence[str], scores: Sequence[float]) -> tuple[list[str], list[float]]:
    """Whole words and their summed scores from per-WordPiece tokens and scores.

    Why sum: an attribution heatmap spreads a word's importance over its pieces
    ("un", "##believ", "##able"); the word's importance is the total. [CLS], [SEP] and
    padding carry no word of the review and are dropped.
    """
    if len(tokens) != len(scores):
        raise ValueError(f"{len(tokens)} tokens but {len(scores)} scores: they must pair up one to one")
    words: list[str] = []
    word_scores: list[float] = []
    for token, score in zip(tokens, scores, strict=True):
        if token in _NON_WORD_TOKENS:
            continue
        is_continuation = token.startswith(CONTINUATION_PREFIX) and len(token) > len(CONTINUATION_PREFIX)
        if is_continuation and words:
            words[-1] += token[len(CONTINUATION_PREFIX):]
            word_scores[-1] += float(score)
        else:
            words.append(token[len(CONTINUATION_PREFIX):] if is_continuation else token)
            word_scores.append(float(score))
    return words, word_scores


def build_classifier(config: Config, backbone: Any = None) -> "keras.Model":
    """Float32 ``input_ids``/``attention_mask``/``token_type_ids`` -> logits ``[negative, positive]``.

    The ``latent`` layer (the penultimate representation the analysis maps, as in the word
    models) is the attention-masked mean of the backbone's token vectors, the pooling the
    checkpoint was trained with (see ``MaskedMeanPooling``); then dropout (training only) and
    ``Dense(2)`` named ``logits``. The backbone's own [CLS] pooler is unused, so it is frozen
    rather than given gradients that do not exist. Inputs have a static length so a model
    trained for another ``bert.max_len`` is caught at load time.
    """
    import keras

    from imdb.models.bert_layers import CastToInt32, MaskedMeanPooling
    from imdb.models.word import LATENT_LAYER, LOGITS_LAYER, NUM_CLASSES

    if backbone is None:
        backbone = load_backbone(resolve_checkpoint(config.bert.checkpoint))
    length = config.bert.max_len
    if length > backbone.max_sequence_length:
        raise ConfigError(
            f"setting 'bert.max_len' is {length} but the checkpoint {config.bert.checkpoint} has "
            f"{backbone.max_sequence_length} positions")
    inputs = [keras.Input(shape=(length,), dtype="float32", name=name) for name in INPUT_NAMES]
    token_ids, padding_mask, segment_ids = (CastToInt32(name=f"{tensor.name}_int32")(tensor) for tensor in inputs)
    features = backbone({"token_ids": token_ids, "segment_ids": segment_ids, "padding_mask": padding_mask})
    backbone.get_layer(POOLER_LAYER).trainable = False
    attention_mask = inputs[INPUT_NAMES.index(ATTENTION_MASK)]
    latent = MaskedMeanPooling(name=LATENT_LAYER)([features["sequence_output"], attention_mask])
    dropped = keras.layers.Dropout(config.bert.dropout, name=DROPOUT_LAYER)(latent)
    logits = keras.layers.Dense(
        NUM_CLASSES, name=LOGITS_LAYER,
        kernel_initializer=keras.initializers.TruncatedNormal(stddev=HEAD_INITIALIZER_STDDEV))(dropped)
    return keras.Model(inputs, logits, name="imdb_bert")


def custom_objects() -> dict[str, Any]:
    """Classes a saved BERT classifier needs at load time: our layers and keras-hub's backbone.

    All are registered serializables; returning them also imports their modules, which is
    what registers them in a process that has not built a BERT model.
    """
    from keras_hub.models import BertBackbone

    from imdb.models.bert_layers import CastToInt32, MaskedMeanPooling

    return {"CastToInt32": CastToInt32, "MaskedMeanPooling": MaskedMeanPooling, "BertBackbone": BertBackbone}


def train_bert(config: Config, *, progress: bool = True, max_len: int | None = None,
               train_samples: int | None = None, epochs: int | None = None) -> dict[str, Any]:
    """Fine-tune on a label-balanced training subset, resumably; save the model and its card.

    ``None`` options fall back to ``bert.*`` in the configuration. Each finished epoch is
    checkpointed under ``<model_dir>/bert_checkpoints/``; rerunning the same command resumes
    after the last finished epoch, and asking for more epochs continues the same run.
    """
    import keras

    from imdb.models import bert_training as training
    from imdb.pipeline import Pipeline
    from imdb.train import save_keras_model, write_card

    config = config.with_overrides(**{"bert.max_len": max_len, "bert.train_samples": train_samples,
                                      "bert.epochs": epochs})
    keras.utils.set_random_seed(config.seed)
    data = training.training_data(Pipeline(config))
    run = training.CheckpointRun(config.model_dir / training.CHECKPOINT_DIR,
                                 training.run_settings(config, data), config.bert.epochs)
    state = run.resumable_state()
    classifier = build_classifier(config)
    started = time.perf_counter()
    state = training.fit(classifier, data, config.bert, run, state, progress=progress)
    LOG.info("BERT training finished in %.0f s; saving the model", time.perf_counter() - started)
    files = save_keras_model(classifier, config)
    card = training.model_card(config, data, state, files)
    write_card(config, card)
    return card
