"""The 50,000 unlabelled reviews (aclImdb's ``train/unsup/``) as Tensorleap's unlabelled state.

The source is the training archive and the unlabelled archive combined side by side, as the
official archive has them (``combined_tarball``); the session's cache indexes it once. Every
labelled figure must stay what the training archive alone gives, the validation split above all.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from code_loader.contract.enums import DataStateType

import leap_test
from imdb.contract.config import REPO_ROOT, ConfigError, load_config
from imdb.contract.names import UNLABELED, UNLABELED_CLASS
from imdb.data import Corpus, DataError, describe, load_corpus
from imdb.runtime import components
from imdb.runtime.pipeline import Pipeline

# The unlabelled archive's reviews, as the official archive holds them.
UNSUP_REVIEWS = 50_000
LIMIT = 40
# The training archive's labelled reviews (training + validation).
TRAIN_REVIEWS = 25_000
OTHER_SEED = 7
# The integration test's samples per state, and the cap on every state of that check.
CHECKED_PER_STATE = 2
SAMPLE_LIMIT = 8
# Training, validation and the behavioural probes (in ``test``: the source has no official test split).
LABELLED_STATES = 3


@pytest.fixture(scope="module")
def combined(combined_tarball: Path, data_root: Path) -> Corpus:
    return load_corpus(combined_tarball, data_root)


def _pipeline(data: Path | str, data_root: Path, **settings: object) -> Pipeline:
    return Pipeline(load_config(environ={}, model="ngram", data=str(data), data_root=str(data_root), **settings))


def test_every_unlabelled_review_is_indexed_beside_unchanged_labelled_splits(combined: Corpus,
                                                                               imdb_corpus: Corpus) -> None:
    ids = combined.unlabeled_ids()
    assert len(ids) == UNSUP_REVIEWS == len(set(ids))
    assert ids[:2] == ["train/unsup/0_0", "train/unsup/1_0"] and all(i.startswith("train/unsup/") for i in ids)
    assert combined.splits == imdb_corpus.splits
    for split in imdb_corpus.splits:
        assert combined.ids(split) == imdb_corpus.ids(split), f"the {split} split moved"
    assert len(combined) == len(imdb_corpus) and not set(ids) & set(combined)
    summary = describe(combined)
    assert summary["splits"] == describe(imdb_corpus)["splits"]
    assert summary[UNLABELED]["n"] == UNSUP_REVIEWS and summary[UNLABELED]["movies"] > 0
    review = combined[ids[-1]]
    assert (review.split, review.label, review.rating) == (UNLABELED, UNLABELED_CLASS, 0)
    assert review.text.strip() and review.movie_id.startswith("tt")
    assert combined.label(ids[0]) == UNLABELED_CLASS


def test_unlabeled_limit_draws_the_same_seeded_sample_every_time(combined_tarball: Path, data_root: Path,
                                                                 combined: Corpus) -> None:
    capped = load_corpus(combined_tarball, data_root, unlabeled_limit=LIMIT).unlabeled_ids()
    assert capped == load_corpus(combined_tarball, data_root, unlabeled_limit=LIMIT).unlabeled_ids()
    assert len(capped) == LIMIT and set(capped) < set(combined.unlabeled_ids())
    assert capped != combined.unlabeled_ids()[:LIMIT], "a sample of all of them, not the first ones"
    reseeded = load_corpus(combined_tarball, data_root, seed=OTHER_SEED, unlabeled_limit=LIMIT).unlabeled_ids()
    assert len(reseeded) == LIMIT and reseeded != capped
    smaller = load_corpus(combined_tarball, data_root, unlabeled_limit=LIMIT).unlabeled_ids(LIMIT // 2)
    assert len(smaller) == LIMIT // 2 and set(smaller) < set(capped), "a smaller cap serves a subset"
    assert load_corpus(combined_tarball, data_root, unlabeled_limit=0).unlabeled_ids() == []
    with pytest.raises(DataError, match="unlabeled_limit"):
        load_corpus(combined_tarball, data_root, unlabeled_limit=-1)


def test_unlabeled_limit_setting_and_its_environment_variable() -> None:
    assert load_config(environ={}).unlabeled_limit is None
    assert load_config(environ={"IMDB_UNLABELED_LIMIT": "0"}).unlabeled_limit == 0
    assert load_config(environ={"IMDB_UNLABELED_LIMIT": "500"}).unlabeled_limit == 500
    assert load_config(environ={"IMDB_UNLABELED_LIMIT": "null"}).unlabeled_limit is None
    with pytest.raises(ConfigError, match="unlabeled_limit"):
        load_config(environ={"IMDB_UNLABELED_LIMIT": "-3"})


def test_the_unlabelled_state_serves_every_component_but_the_ground_truth(combined_tarball: Path,
                                                                         data_root: Path) -> None:
    pipeline = _pipeline(combined_tarball, data_root, unlabeled_limit=LIMIT)
    response = components.unlabeled_response(pipeline)
    assert response.state == DataStateType.unlabeled and len(response.sample_ids) == LIMIT
    assert response.data["split"] == UNLABELED
    served = {sample_id for labelled in components.preprocess_responses(pipeline) for sample_id in labelled.sample_ids}
    assert not served & set(response.sample_ids), "the labelled states hold no unlabelled review"
    sample_id = response.sample_ids[0]
    meta = pipeline.metadata(sample_id)
    assert meta.label == UNLABELED and components.review_metadata(meta) == {
        "rating": 0, "movie_id": pipeline.corpus[sample_id].movie_id}
    assert meta.word_count > 0 and -1 <= meta.polarity <= 1 and not meta.empty
    assert set(components.readability_metadata(meta)) == set(components.READABILITY_TYPES)
    assert components.probe_metadata(pipeline.probe_case(sample_id)) == components.NOT_A_PROBE
    assert pipeline.model_input(sample_id, pipeline.encoder.input_names[0]).any()
    assert components.content_latent(pipeline, sample_id).any()
    with pytest.raises(ValueError, match="no ground truth"):
        pipeline.ground_truth(sample_id)


def test_a_source_without_unsup_has_no_unlabelled_state(imdb_data_uri: str, data_root: Path,
                                                        imdb_corpus: Corpus) -> None:
    assert imdb_corpus.unlabeled_ids() == [] and UNLABELED not in describe(imdb_corpus)
    assert components.unlabeled_response(_pipeline(imdb_data_uri, data_root)) is None


def test_code_loader_counts_all_50000_unlabelled_reviews(combined_tarball: Path, data_root: Path) -> None:
    env = leap_test.check_env(combined_tarball, data_root)
    env.update({"IMDB_MODEL": "ngram"})
    env.pop("IMDB_UNLABELED_LIMIT", None)
    verdict = leap_test.run_leap_check(REPO_ROOT, env)
    leap_test.assert_valid(verdict)
    assert verdict["lengths"]["unlabeled"] == UNSUP_REVIEWS
    assert verdict["lengths"]["training"] + verdict["lengths"]["validation"] == TRAIN_REVIEWS


def test_integration_test_covers_the_unlabelled_state(combined_tarball: Path, data_root: Path) -> None:
    env = leap_test.check_env(combined_tarball, data_root)
    env.update({"IMDB_MODEL": "ngram", "IMDB_UNLABELED_LIMIT": str(LIMIT), "IMDB_SAMPLE_LIMIT": str(SAMPLE_LIMIT)})
    checked = leap_test.run_leap_check(REPO_ROOT, env, "--integration-test", str(CHECKED_PER_STATE))
    assert checked["unlabeled_checked"] == CHECKED_PER_STATE
    assert checked["splits"] == LABELLED_STATES and checked["samples_checked"] == LABELLED_STATES * CHECKED_PER_STATE


@pytest.mark.parametrize("case", ["no unsup directory", "unlabeled_limit 0"])
def test_no_unlabelled_state_without_unsup_or_with_limit_zero(case: str, layout_sample, official_tarball: Path,
                                                              tmp_path: Path) -> None:
    data = layout_sample.write_tarball(tmp_path / "train-only.tar.gz") if case == "no unsup directory" \
        else official_tarball
    env = leap_test.check_env(data, tmp_path / "cache")
    env.update({"IMDB_MODEL": "ngram", "IMDB_UNLABELED_LIMIT": "0" if case == "unlabeled_limit 0" else "null"})
    verdict = leap_test.run_leap_check(REPO_ROOT, env)
    leap_test.assert_valid(verdict)
    assert verdict["lengths"]["unlabeled"] is None and verdict["lengths"]["training"] > 0
