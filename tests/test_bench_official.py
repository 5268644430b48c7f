"""The official-example baseline does the example's per-call work on real reviews.

What is checked: the token ids are exactly those a Keras ``Tokenizer`` (10,000 words, fitted
on the training split) and ``pad_sequences`` give for the same reviews; the review file is
checked and read again on every call; metadata and ground truth come from the precomputed
table; and the decorated calling paths return what the plain functions return.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

import numpy as np
import pytest

import imdb  # noqa: F401  (code-loader analytics off before code_loader is imported)
from imdb.contract.config import load_config
from imdb.contract.model_files import WORD_INPUT
from imdb.contract.names import TRAINING
from imdb.runtime import components
from imdb.runtime.pipeline import Pipeline
from imdb.tools.bench.calling import decorate
from imdb.tools.bench.naive import (
    OFFICIAL_NUM_WORDS,
    MissingReviewFile,
    OfficialExample,
    extract_reviews,
    fit_official_tokenizer,
    metadata_table,
    official_standardize,
    review_file,
)
from imdb.tools.bench.run import comparison_sample

REVIEWS = 6
SEQUENCE_LENGTH = 600


class Baseline:
    """The baseline over a few real reviews, with everything a test needs to check it."""

    def __init__(self, tmp_path: Path, tarball: Path) -> None:
        from code_loader.contract.datasetclasses import PreprocessResponse
        from code_loader.contract.enums import DataStateType

        config = load_config(data=str(tarball), data_root=str(tmp_path / "cache"))
        self.pipeline = Pipeline(config)
        corpus = self.pipeline.corpus
        self.training_ids = self.pipeline.split_ids(TRAINING)
        self.ids = comparison_sample(self.pipeline, self.training_ids, REVIEWS, config.seed)
        self.pipeline.metadata_store.precompute([corpus[i] for i in self.ids], progress=False, workers=1)
        self.root = extract_reviews(tarball, self.ids, tmp_path / "reviews")
        self.example = OfficialExample(self.root, SEQUENCE_LENGTH)
        tokenizer = fit_official_tokenizer(corpus[i].text for i in self.training_ids)
        self.table = metadata_table(self.pipeline.metadata, self.ids)
        self.preprocess = PreprocessResponse(sample_ids=list(self.ids), state=DataStateType.training,
                                             sample_id_type=str,
                                             data=OfficialExample.preprocess_data(self.table, tokenizer))


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory, layout_sample) -> Baseline:
    folder = tmp_path_factory.mktemp("official-baseline")
    return Baseline(folder, layout_sample.write_tarball(folder / "aclImdb-sample.tar.gz"))


def _keras_reference(training_texts: list[str]):
    """Keras' own tokenizer, fitted here on the example's standardisation of the texts."""
    from keras.src.legacy.preprocessing.text import Tokenizer

    def standardize(text: str) -> str:
        no_breaks = text.lower().replace("<br />", " ")
        return no_breaks.translate(str.maketrans("", "", string.punctuation))

    tokenizer = Tokenizer(num_words=OFFICIAL_NUM_WORDS)
    tokenizer.fit_on_texts([standardize(text) for text in training_texts])
    return tokenizer, standardize


def test_standardisation_is_the_examples() -> None:
    assert official_standardize("Great<br />MOVIE, isn't it?! 10/10") == "great movie isnt it 1010"
    assert re.fullmatch(r"[a-z0-9 ]*", official_standardize(string.punctuation + "Ab<br />c"))


def test_samples_are_label_balanced(baseline: Baseline) -> None:
    labels = [baseline.pipeline.corpus[i].label for i in baseline.ids]
    assert len(baseline.ids) == REVIEWS and labels.count(0) == labels.count(1) == REVIEWS // 2


def test_token_ids_are_keras_tokenizer_ids(baseline: Baseline) -> None:
    from keras.utils import pad_sequences

    corpus = baseline.pipeline.corpus
    reference, standardize = _keras_reference([corpus[i].text for i in baseline.training_ids])
    for sample_id in baseline.ids:
        tokens = baseline.example.input_tokens(sample_id, baseline.preprocess)
        expected = pad_sequences(reference.texts_to_sequences([standardize(corpus[sample_id].text)]),
                                 maxlen=SEQUENCE_LENGTH)[0]
        assert tokens.dtype == np.float32 and tokens.shape == (SEQUENCE_LENGTH,)
        np.testing.assert_array_equal(tokens, expected.astype(np.float32), err_msg=sample_id)
        assert 0 < np.count_nonzero(tokens) and tokens.max() < OFFICIAL_NUM_WORDS


def test_review_file_is_checked_and_read_on_every_call(baseline: Baseline) -> None:
    sample_id = baseline.ids[0]
    path = baseline.root / review_file(sample_id)
    original = path.read_bytes()
    first = baseline.example.input_tokens(sample_id, baseline.preprocess)
    try:
        path.write_text("bad bad bad", encoding="utf-8")
        rewritten = baseline.example.input_tokens(sample_id, baseline.preprocess)
        bad_id = baseline.preprocess.data["tokenizer"].word_index["bad"]
        assert list(rewritten[-3:]) == [bad_id] * 3 and np.count_nonzero(rewritten) == 3
        path.unlink()
        with pytest.raises(MissingReviewFile, match=re.escape(str(path))):
            baseline.example.input_tokens(sample_id, baseline.preprocess)
    finally:
        path.write_bytes(original)
    np.testing.assert_array_equal(baseline.example.input_tokens(sample_id, baseline.preprocess), first)


def test_metadata_and_ground_truth_come_from_the_table(baseline: Baseline) -> None:
    functions = baseline.example.functions()
    for sample_id in baseline.ids:
        meta = baseline.pipeline.metadata(sample_id)
        np.testing.assert_array_equal(functions["sentiment"](sample_id, baseline.preprocess),
                                      baseline.pipeline.ground_truth(sample_id))
        assert functions["metadata_label"](sample_id, baseline.preprocess) == meta.label
        for group, values_of, _ in components.METADATA_GROUPS:
            assert functions[f"metadata_{group}"](sample_id, baseline.preprocess) == values_of(meta), group
    sample_id = baseline.ids[0]
    row = baseline.table[sample_id]
    saved = row["readability_crawford"]
    try:
        row["readability_crawford"] = saved + 1.0
        assert functions["metadata_readability"](sample_id, baseline.preprocess)["crawford"] == saved + 1.0
    finally:
        row["readability_crawford"] = saved


def test_decorated_paths_return_what_the_plain_functions_return(baseline: Baseline) -> None:
    plain = baseline.example.functions()
    paths = decorate("test-official", plain)
    assert set(paths.validated) == set(paths.platform) == set(plain)
    sample_id = baseline.ids[-1]
    for name, function in plain.items():
        expected = function(sample_id, baseline.preprocess)
        for path in (paths.validated, paths.platform):
            got = path[name](sample_id, baseline.preprocess)
            if name == WORD_INPUT or name == "sentiment":
                np.testing.assert_array_equal(np.squeeze(got), expected)
            else:
                assert got == expected, name


def test_the_label_folder_comes_from_the_id_whatever_the_task() -> None:
    from imdb.tools.bench.naive import NotReproducible, label_folder

    assert label_folder("train/pos/0_9") == "pos" and label_folder("test/neg/12_3") == "neg"
    with pytest.raises(NotReproducible, match="row-17"):
        label_folder("row-17")
