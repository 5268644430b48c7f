"""Word-model embeddings initialised from the BERT checkpoint's WordPiece table.

Why: trained from random vectors on 22,485 reviews, the CNN learns phrase detectors for the
frequent words and over-fits the rest by its second epoch. Starting each word from a vector in
which related words are already close (the checkpoint's own input embeddings, the same files
the BERT family reads) lifted its validation accuracy by about a point (docs/numbers.md, "Numbers we
measured"). Only the input embedding table is read, never the transformer layers: a word's
vector is the mean of its WordPiece rows, reduced by PCA to the model's embedding width.
The vectors are a starting point; training updates them, and the saved model holds the
result, so serving never needs the checkpoint.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from imdb.contract.config import Config
from imdb.text.words import RESERVED_TOKENS, WordVocabulary

WORDPIECE_TABLE = "embeddings.word_embeddings.weight"
# Standard deviation the initial vectors are scaled to: the spread of Keras' default uniform
# embedding initialiser (±0.05), so training starts in the same regime as a random start.
INITIAL_STD = 0.05


def checkpoint_word_vectors(vocabulary: WordVocabulary, config: Config, dim: int) -> np.ndarray:
    """``(len(vocabulary), dim)`` float32 initial embeddings; the reserved rows (padding,
    out-of-vocabulary) start at zero."""
    from sklearn.decomposition import PCA

    from imdb.models.bert_checkpoint import SafetensorsReader
    from imdb.text.checkpoint import VOCAB_FILE, WEIGHTS_FILE, checkpoint_lowercases, resolve_checkpoint
    from imdb.text.wordpiece import BertEncoder

    directory = resolve_checkpoint(config.bert.checkpoint)
    table = SafetensorsReader(Path(directory) / WEIGHTS_FILE).get_tensor(WORDPIECE_TABLE)
    if dim > table.shape[1]:
        raise ValueError(f"embedding_dim {dim} is wider than the checkpoint's {table.shape[1]}-wide "
                         f"WordPiece table in {directory}")
    # The table is indexed by the checkpoint's own vocabulary, so its tokenizer splits the words.
    encoder = BertEncoder(Path(directory) / VOCAB_FILE, config.bert.max_len,
                          lowercase=checkpoint_lowercases(directory))
    reserved = len(RESERVED_TOKENS)
    word_vectors = np.stack([_mean_row(table, encoder.wordpiece_ids(word), encoder.unk_id)
                             for word in vocabulary.tokens[reserved:]])
    reduced = PCA(n_components=dim, random_state=config.seed).fit_transform(word_vectors)
    vectors = np.zeros((len(vocabulary), dim), dtype=np.float32)
    vectors[reserved:] = reduced / reduced.std() * INITIAL_STD
    return vectors


def _mean_row(table: np.ndarray, piece_ids: list[int], unk_id: int) -> np.ndarray:
    """The mean of a word's WordPiece rows (the ``[UNK]`` row for a word with no pieces)."""
    return table[piece_ids or [unk_id]].astype(np.float32).mean(axis=0)
