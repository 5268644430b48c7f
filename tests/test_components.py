"""The binder's components on hostile reviews, through the real data layer, tokenizer and model.

The corpus is a small hand-made aclImdb/ directory (a unit fixture): empty, whitespace-only,
HTML-only, invalid UTF-8, control characters, emoji/right-to-left, only out-of-vocabulary words and a huge
review (~1 MB), padded out with ordinary reviews so that the validation split can be drawn.
"""

from pathlib import Path

import numpy as np
import pytest

from imdb.runtime import components
from imdb.contract.config import load_config
from imdb.data import DataError
from imdb.models.inference import predict_logits
from imdb.models.loading import load_keras_model
from imdb.runtime.pipeline import Pipeline, balanced_subset

FILLER_PER_LABEL = 30
HUGE_REPEATS = 62_000  # a ~1 MB review of 186,000 words
HOSTILE = {
    "pos/0_10.txt": b"",
    "pos/1_9.txt": b"   \n\t  ",
    "pos/2_8.txt": b"<br /><br /><p><i></i></p>",
    "pos/3_7.txt": ("a wonderful film " * HUGE_REPEATS).encode(),
    "neg/0_1.txt": b"terrible \xff\xfe acting \xc3\x28 truly awful",
    "neg/1_2.txt": "worst 😡😡 film ever \u202eעברית\u202c\x00\x07".encode(),
    "neg/2_3.txt": b"zzyzx qwfp blorft snargle",
}
# Unlabelled reviews (train/unsup/, no urls_unsup.txt): as hostile, served as the unlabelled state.
UNSUP_HOSTILE = {
    "unsup/0_0.txt": b"",
    "unsup/1_0.txt": b"an unrated \xff\xfe review \xc3\x28 of a film",
    "unsup/2_0.txt": "a fine film 😀 \u202eעברית\u202c".encode(),
}


def write_hostile_corpus(base: Path) -> Path:
    """Write the hostile reviews plus ordinary filler as ``base/aclImdb``; return that directory."""
    root = base / "aclImdb"
    for label, text in (("pos", "a great moving film with fine acting"), ("neg", "a dull boring waste of time")):
        folder = root / "train" / label
        folder.mkdir(parents=True)
        urls = []
        for review_id in range(FILLER_PER_LABEL):
            if f"{label}/{review_id}_" not in " ".join(HOSTILE):
                rating = 8 if label == "pos" else 2
                (folder / f"{review_id}_{rating}.txt").write_text(f"{text} number {review_id}")
            urls.append(f"http://www.imdb.com/title/tt{review_id:07d}{label == 'pos':d}/usercomments")
        (root / "train" / f"urls_{label}.txt").write_text("\n".join(urls) + "\n")
    (root / "train" / "unsup").mkdir()
    for relative, content in {**HOSTILE, **UNSUP_HOSTILE}.items():
        (root / "train" / relative).write_bytes(content)
    return root


def check_every_component(pipeline: Pipeline, model) -> None:
    """Every binder component on every review of the pipeline: no exception, values in range."""
    ids = [i for split in pipeline.corpus.splits for i in pipeline.corpus.ids(split)]
    logits = predict_logits(pipeline, model, ids, progress=False)
    assert logits.shape == (len(ids), 2) and np.isfinite(logits).all()
    length = pipeline.config.sequence_length
    for sample_id, sample_logits in zip(ids, logits):
        for name in pipeline.encoder.input_names:
            array = pipeline.model_input(sample_id, name)
            assert array.dtype == np.float32 and array.shape == (length,)
        gt = pipeline.ground_truth(sample_id)
        assert gt.dtype == np.float32 and gt.sum() == 1.0
        loss = components.loss(gt, sample_logits)
        assert loss.shape == (1,) and np.isfinite(loss).all() and loss[0] >= 0
        assert components.accuracy(gt, sample_logits)[0] in (0.0, 1.0)
        meta = pipeline.metadata(sample_id)
        assert -1.0 <= meta.polarity <= 1.0 and 0.0 <= meta.subjectivity <= 1.0
        assert 0.0 <= meta.oov_ratio <= 1.0 and meta.oov_count <= max(meta.token_count, 0)
        readability = components.readability_metadata(meta)
        assert set(readability) == set(components.READABILITY_TYPES)
        assert all(np.isfinite(value) for value in readability.values()), readability
        if meta.empty:
            assert all(value == 0 for value in readability.values()), readability
        content = components.content_latent(pipeline, sample_id)
        assert content.dtype == np.float32 and content.ndim == 1 and np.isfinite(content).all()
        text = components.review_text(pipeline, pipeline.model_input(sample_id, pipeline.encoder.input_names[0]))
        assert len(text.data) == length
        bars = components.probabilities(sample_logits, gt, pipeline.labels)
        assert np.isclose(bars.body.sum(), 1.0)


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_hostile_corpus(tmp_path_factory.mktemp("hostile"))


@pytest.fixture(scope="module")
def pipeline(hostile_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    config = load_config(environ={}, model="dense", data=str(hostile_dir),
                         data_root=str(tmp_path_factory.mktemp("cache")))
    return Pipeline(config)


def test_every_hostile_review_flows_through_every_component(pipeline: Pipeline) -> None:
    hostile_ids = {f"train/{name.removesuffix('.txt')}" for name in HOSTILE}
    assert hostile_ids <= set(pipeline.corpus)
    check_every_component(pipeline, load_keras_model(pipeline.config))


def test_unlabelled_reviews_flow_through_every_component_that_needs_no_label(pipeline: Pipeline) -> None:
    response = components.unlabeled_response(pipeline)
    ids = [f"train/{name.removesuffix('.txt')}" for name in UNSUP_HOSTILE]
    assert response.sample_ids == ids and not set(ids) & set(pipeline.corpus)
    logits = predict_logits(pipeline, load_keras_model(pipeline.config), ids, progress=False)
    assert np.isfinite(logits).all()
    for sample_id, sample_logits in zip(ids, logits):
        meta = pipeline.metadata(sample_id)
        assert meta.label == "unlabeled" and components.review_metadata(meta) == {"rating": 0, "movie_id": ""}
        assert set(components.text_metadata(meta)) == set(components.TEXT_TYPES)
        assert set(components.lexicon_metadata(meta)) == set(components.LEXICON_TYPES)
        assert all(np.isfinite(value) for value in components.readability_metadata(meta).values())
        assert components.probe_metadata(pipeline.probe_case(sample_id)) == components.NOT_A_PROBE
        assert np.isfinite(components.content_latent(pipeline, sample_id)).all()
        assert 0.5 <= components.confidence(sample_logits)["confidence"][0] <= 1.0
        tokens = pipeline.model_input(sample_id, pipeline.encoder.input_names[0])
        assert len(components.review_text(pipeline, tokens).data) == pipeline.config.sequence_length
        with pytest.raises(ValueError, match="no ground truth"):
            pipeline.ground_truth(sample_id)
    assert pipeline.metadata(ids[0]).empty and "\ufffd" in pipeline.corpus[ids[1]].text


@pytest.mark.parametrize("sample_id", ["train/pos/0_10", "train/pos/1_9", "train/pos/2_8"])
def test_wordless_reviews_encode_to_padding_and_are_flagged(pipeline: Pipeline, sample_id: str) -> None:
    assert not pipeline.model_input(sample_id, "input_tokens").any()
    meta = pipeline.metadata(sample_id)
    assert meta.empty and meta.token_count == 0 and meta.oov_ratio == 0.0 and not meta.truncated


def test_huge_review_is_truncated_and_flagged(pipeline: Pipeline) -> None:
    meta = pipeline.metadata("train/pos/3_7")
    assert meta.truncated and meta.token_count == meta.word_count == 3 * HUGE_REPEATS


def test_out_of_vocabulary_review_counts_every_word(pipeline: Pipeline) -> None:
    meta = pipeline.metadata("train/neg/2_3")
    assert meta.oov_count == 4 and meta.oov_ratio == 1.0


def test_invalid_utf8_is_decoded_with_replacement(pipeline: Pipeline) -> None:
    assert "\ufffd" in pipeline.corpus["train/neg/0_1"].text


def test_unknown_sample_id_names_the_id(pipeline: Pipeline) -> None:
    with pytest.raises(DataError, match="train/pos/999999_10"):
        pipeline.ground_truth("train/pos/999999_10")


def test_confusion_elements_one_per_class_per_sample() -> None:
    gt = np.array([[1, 0], [0, 1]], dtype=np.float32)
    logits = np.array([[2.0, 0.0], [2.0, 0.0]], dtype=np.float32)
    batch = components.confusion_elements(gt, logits, ["negative", "positive"])
    assert len(batch) == 2 and all(len(row) == 2 for row in batch)
    assert [e.expected_outcome.value for e in batch[1]] == ["Negative", "Positive"]
    assert np.isclose(batch[0][0].predicted_probability + batch[0][1].predicted_probability, 1.0)


def test_heatmap_collapses_embedding_axes_and_zeroes_padding() -> None:
    from imdb.runtime.visuals import text_payload, token_heatmap

    assert token_heatmap(np.ones((4, 3)), 4).tolist() == [3.0, 3.0, 3.0, 3.0]
    assert token_heatmap(np.arange(2.0), 4).tolist() == [0.0, 1.0, 0.0, 0.0]
    payload = text_payload(["good", "film", "", ""], np.array([0.5, 0.25, 9.0, 9.0]))
    assert payload.heatmap == [0.5, 0.25, 0.0, 0.0]


def test_balanced_subset_is_deterministic_and_balanced() -> None:
    ids = [f"s{i}" for i in range(100)]
    labels = [0] * 80 + [1] * 20
    chosen = balanced_subset(ids, labels, 30, seed=7)
    assert chosen == balanced_subset(ids, labels, 30, seed=7)
    assert len(chosen) == 30 and sum(labels[ids.index(i)] for i in chosen) == 15
    assert len(balanced_subset(ids, labels, 50, seed=7)) == 50
