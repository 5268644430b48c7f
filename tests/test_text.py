"""Standardisation, vocabulary and encoding: what the word models actually read."""

from pathlib import Path

import numpy as np
import pytest

from imdb.text.words import OOV_ID, PAD_ID, VocabularyError, WordEncoder, WordVocabulary, standardize, words


def test_standardize_follows_the_seeds_recipe() -> None:
    text = "A <br /><br />GREAT film&amp;cast... Don't miss it!!! <i>10/10</i>"
    assert standardize(text) == "a great film cast dont miss it 10 10"


@pytest.mark.parametrize("text", ["", "   \n\t ", "<br /><p></p>", "!!! ... ???", "\x00\x07\x1b"])
def test_texts_without_words_standardize_to_nothing(text: str) -> None:
    assert words(text) == []


def test_unicode_words_survive_and_emoji_separate() -> None:
    assert words("café 😀 שלום\u200fworld") == ["café", "שלום", "world"]


def test_vocabulary_build_is_frequency_ranked_and_deterministic() -> None:
    vocab = WordVocabulary.build([["b", "a", "b"], ["c", "a", "b"], ["d"]], size=5)
    assert vocab.tokens == ("[PAD]", "[UNK]", "b", "a", "c")
    assert vocab.id_of("b") == 2 and vocab.id_of("zzz") == OOV_ID


def test_vocabulary_round_trips_and_rejects_malformed_files(tmp_path: Path) -> None:
    vocab = WordVocabulary.build([["x", "y"]], size=10)
    path = tmp_path / "vocab.txt"
    vocab.save(path)
    assert WordVocabulary.load(path) == vocab
    path.write_text("x\ny\n")
    with pytest.raises(VocabularyError, match=str(path)):
        WordVocabulary.load(path)
    with pytest.raises(VocabularyError, match="imdb-leap train"):
        WordVocabulary.load(tmp_path / "missing.txt")


def test_encoder_pads_truncates_and_counts() -> None:
    vocab = WordVocabulary.build([["good", "bad"]], size=10)
    encoder = WordEncoder(vocab, sequence_length=4)
    encoded = encoder.encode("good movie, bad bad ending")
    tokens = encoded.inputs["input_tokens"]
    assert tokens.dtype == np.float32 and tokens.shape == (4,)
    assert tokens.tolist() == [vocab.id_of("good"), OOV_ID, vocab.id_of("bad"), vocab.id_of("bad")]
    assert (encoded.token_count, encoded.oov_count) == (5, 2)
    assert encoder.display_tokens(tokens) == ["good", "[UNK]", "bad", "bad"]


def test_empty_review_encodes_to_all_padding() -> None:
    encoder = WordEncoder(WordVocabulary.build([["a"]], size=5), sequence_length=3)
    encoded = encoder.encode("   ")
    assert encoded.inputs["input_tokens"].tolist() == [PAD_ID] * 3
    assert encoded.token_count == 0
    assert encoder.display_tokens(encoded.inputs["input_tokens"]) == ["", "", ""]


def test_huge_review_is_truncated_quickly() -> None:
    encoder = WordEncoder(WordVocabulary.build([["word"]], size=5), sequence_length=600)
    encoded = encoder.encode("word " * 20_000)
    assert encoded.token_count == 20_000
    assert encoded.inputs["input_tokens"].shape == (600,)
