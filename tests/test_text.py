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


@pytest.mark.parametrize(("text", "kept"), [
    ("I give it 7/10, not 10/7.", ["i", "give", "it", "7/10", "not", "10", "7"]),
    ("<b>7 out of 10</b> and 8.5/10", ["7/10", "and", "8.5/10"]),
    ("Rated 10/10. A 3/5 at best", ["rated", "10/10", "a", "3/5", "at", "best"]),
    ("on 3/4/2005, open 24/7, 1/2 an hour, v1.7/10.5", ["on", "3", "4", "2005", "open", "24", "7", "1", "2", "an",
                                                          "hour", "v1", "7", "10", "5"]),
])
def test_stated_scores_stay_one_word_only_when_asked(text: str, kept: list[str]) -> None:
    """Dates, fractions and times are not scores; without ``keep_scores`` the seeds' recipe is unchanged."""
    assert words(text, keep_scores=True) == kept
    assert words(text) == standardize(text).split(" ")
    assert not any("/" in word for word in words(text))


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


def test_combined_encoder_serves_both_inputs_and_shows_the_first() -> None:
    """The ensemble's encoder: the BERT encoder's inputs and counts, then the n-gram ids."""
    from imdb.contract.config import load_config
    from imdb.text.combined import CombinedEncoder
    from imdb.text.ngrams import NgramEncoder
    from imdb.text.wordpiece import BertEncoder

    config = load_config(environ={}, model="ensemble")
    bert = BertEncoder.from_config(config)
    ngram = NgramEncoder(WordVocabulary.load(config.ngram.vocab_file, family="ngram"), config.ngram.max_n,
                         config.ngram.max_ngrams)
    combined = CombinedEncoder(bert, ngram)
    text = "Not good at all, a waste of time."
    encoded, alone = combined.encode(text), bert.encode(text)
    assert combined.input_names == ("input_ids", "attention_mask", "token_type_ids", "input_tokens")
    assert combined.sequence_length == config.bert.max_len == config.sequence_length
    np.testing.assert_array_equal(encoded.inputs["input_ids"], alone.inputs["input_ids"])
    np.testing.assert_array_equal(encoded.inputs["input_tokens"], ngram.encode(text).inputs["input_tokens"])
    assert (encoded.token_count, encoded.special_tokens) == (alone.token_count, alone.special_tokens)
    assert combined.display_tokens(encoded.inputs["input_ids"])[:3] == ["[CLS]", "not", "good"]
    with pytest.raises(ValueError, match="input_tokens"):
        CombinedEncoder(ngram, ngram)
