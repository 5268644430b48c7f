"""Loading the real reviews from local sources: counts, splits, identity across sources, caching."""

from __future__ import annotations

import gzip
import json
import logging
import os
import time
from pathlib import Path

import pytest

from imdb.data import Corpus, DataError, describe, load_corpus
from imdb.data import readers
from imdb.data.cache import INDEX_DIR, SPLIT_DIR
from imdb.data.corpus import DEFAULT_SEED

REVIEWS_PER_LABEL = 12_500
VALIDATION_SHARE = 0.1
VALIDATION_TOLERANCE = 0.01
STRATIFICATION_TOLERANCE = 0.02
WARM_LOAD_LIMIT_S = 2.0


def _labels(corpus: Corpus, split: str) -> list[int]:
    return [corpus[sample_id].label for sample_id in corpus.ids(split)]


def _movies(corpus: Corpus, split: str) -> set[str]:
    return {corpus[sample_id].movie_id for sample_id in corpus.ids(split)}


def _no_reading(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("the source was read again although its index is cached")


def test_real_train_split_counts_and_validation(imdb_corpus: Corpus) -> None:
    assert imdb_corpus.splits == ("training", "validation")
    assert len(imdb_corpus) == 2 * REVIEWS_PER_LABEL
    labels = _labels(imdb_corpus, "training") + _labels(imdb_corpus, "validation")
    assert labels.count(0) == labels.count(1) == REVIEWS_PER_LABEL

    validation = _labels(imdb_corpus, "validation")
    assert abs(len(validation) / len(labels) - VALIDATION_SHARE) < VALIDATION_TOLERANCE
    assert abs(sum(validation) / len(validation) - 0.5) < STRATIFICATION_TOLERANCE
    assert not _movies(imdb_corpus, "training") & _movies(imdb_corpus, "validation")
    assert "" not in _movies(imdb_corpus, "validation")


def test_early_stopping_holdout_is_a_grouped_stratified_slice_of_training(imdb_corpus: Corpus) -> None:
    training = imdb_corpus.ids("training")
    fitted, holdout = imdb_corpus.holdout(training, VALIDATION_SHARE, DEFAULT_SEED)
    assert sorted(fitted + holdout) == sorted(training) and not set(fitted) & set(holdout)
    assert not set(holdout) & set(imdb_corpus.ids("validation")), "the holdout is never validation"
    assert fitted == [i for i in training if i in set(fitted)], "both keep the training order"
    assert abs(len(holdout) / len(training) - VALIDATION_SHARE) < VALIDATION_TOLERANCE
    labels = [imdb_corpus.label(i) for i in holdout]
    assert abs(sum(labels) / len(labels) - 0.5) < STRATIFICATION_TOLERANCE
    movies = {imdb_corpus[i].movie_id for i in holdout}
    assert not movies & {imdb_corpus[i].movie_id for i in fitted}, "no movie on both sides"
    assert imdb_corpus.holdout(training, VALIDATION_SHARE, DEFAULT_SEED) == (fitted, holdout), "deterministic"
    assert imdb_corpus.holdout(training, VALIDATION_SHARE, DEFAULT_SEED + 1)[1] != holdout, "seeded"
    with pytest.raises(DataError, match="early_stopping_holdout"):
        imdb_corpus.holdout(training, 1.0, DEFAULT_SEED)


def test_real_reviews_have_the_documented_fields(imdb_corpus: Corpus, extracted_imdb: Path) -> None:
    first = imdb_corpus["train/pos/0_9"]
    assert (first.split, first.label, first.rating, first.movie_id) == ("train", 1, 9, "tt0453418")
    assert first.text == (extracted_imdb / "aclImdb/train/pos/0_9.txt").read_text(encoding="utf-8")
    # Line number == review id: review 10001 takes line 10001 (0-based) of urls_pos.txt.
    assert imdb_corpus["train/pos/10001_10"].movie_id == "tt0102303"
    assert imdb_corpus["train/neg/0_3"].label == 0
    ids = imdb_corpus.ids("training")
    assert ids[:3] == ["train/neg/0_3", "train/neg/1_1", "train/neg/2_1"]


def test_describe_counts_splits_and_labels(imdb_corpus: Corpus) -> None:
    summary = describe(imdb_corpus)
    assert summary["source"] == imdb_corpus.source
    assert set(summary["splits"]) == {"training", "validation"}
    for split, counts in summary["splits"].items():
        assert counts["n"] == counts["negative"] + counts["positive"] == len(imdb_corpus.ids(split))
    assert sum(counts["n"] for counts in summary["splits"].values()) == len(imdb_corpus)


def test_directory_and_tarball_yield_identical_reviews(imdb_corpus: Corpus, extracted_imdb: Path,
                                                       data_root: Path) -> None:
    from_tree = load_corpus(extracted_imdb, data_root)
    assert from_tree.splits == imdb_corpus.splits
    for split in imdb_corpus.splits:
        assert from_tree.ids(split) == imdb_corpus.ids(split)
    assert all(from_tree[sample_id] == imdb_corpus[sample_id] for sample_id in imdb_corpus)
    # Pointing at the aclImdb folder itself is the same source.
    assert load_corpus(extracted_imdb / "aclImdb", data_root).ids("validation") == imdb_corpus.ids("validation")


def test_second_load_is_served_from_cache(imdb_corpus: Corpus, imdb_data_uri: str, data_root: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    cached = {path: path.stat().st_mtime_ns for path in (data_root / INDEX_DIR).iterdir()}
    monkeypatch.setattr(readers, "_stream_members", _no_reading)
    started = time.perf_counter()
    again = load_corpus(imdb_data_uri, data_root)
    assert time.perf_counter() - started < WARM_LOAD_LIMIT_S
    assert {path: path.stat().st_mtime_ns for path in (data_root / INDEX_DIR).iterdir()} == cached
    for split in imdb_corpus.splits:
        assert again.ids(split) == imdb_corpus.ids(split)


def test_unknown_split_and_id_are_named(imdb_corpus: Corpus) -> None:
    with pytest.raises(DataError, match=r"unknown split 'test'.*available: training, validation"):
        imdb_corpus.ids("test")
    with pytest.raises(DataError, match="train/pos/99999_1") as caught:
        imdb_corpus["train/pos/99999_1"]
    assert isinstance(caught.value, KeyError)
    assert imdb_corpus.source in str(caught.value)
    assert "train/pos/99999_1" not in imdb_corpus


def test_official_layout_exposes_the_test_split(official_tarball: Path, official_sample,
                                                fresh_root: Path) -> None:
    corpus = load_corpus(official_tarball, fresh_root)
    assert corpus.splits == ("training", "validation", "test")
    assert corpus.ids("test") == official_sample.review_ids("test")
    train_ids = set(official_sample.review_ids("train"))
    assert set(corpus.ids("training")) | set(corpus.ids("validation")) == train_ids
    assert all(corpus[sample_id].split == "test" for sample_id in corpus.ids("test"))
    first_positive = next(i for i in corpus.ids("test") if i.startswith("test/pos/0_"))
    assert corpus[first_positive].text == official_sample.members[f"aclImdb/{first_positive}.txt"].decode()
    assert corpus[first_positive].movie_id.startswith("tt")
    assert len(corpus) == len(train_ids) + len(corpus.ids("test")), "len counts the labelled reviews"
    unsup = sorted((name for name in official_sample.members if name.startswith("aclImdb/train/unsup/")),
                   key=lambda name: int(name.rsplit("/", 1)[1].split("_")[0]))
    assert corpus.unlabeled_ids() == [name.removeprefix("aclImdb/").removesuffix(".txt") for name in unsup]
    first = corpus[corpus.unlabeled_ids()[0]]
    assert (first.split, first.label, first.rating) == ("unlabeled", -1, 0) and first.movie_id.startswith("tt")
    assert not set(corpus.unlabeled_ids()) & set(corpus), "no unlabelled review is in a split"


def test_official_layout_from_directory_matches_tarball(official_tarball: Path, official_sample,
                                                        tmp_path: Path, fresh_root: Path) -> None:
    from_tarball = load_corpus(official_tarball, fresh_root)
    from_tree = load_corpus(official_sample.write_tree(tmp_path / "tree"), fresh_root)
    for split in from_tarball.splits:
        assert from_tree.ids(split) == from_tarball.ids(split)
    assert all(from_tree[sample_id] == from_tarball[sample_id] for sample_id in from_tarball)
    assert from_tree.unlabeled_ids() == from_tarball.unlabeled_ids() != []
    assert all(from_tree[sample_id] == from_tarball[sample_id] for sample_id in from_tarball.unlabeled_ids())


def test_member_prefix_and_file_uri_are_accepted(layout_sample, tmp_path: Path, fresh_root: Path) -> None:
    dotted = layout_sample.write_tarball(tmp_path / "dotted.tar.gz", prefix="./")
    corpus = load_corpus(f"file://{dotted}", fresh_root)
    assert corpus.ids("training") + corpus.ids("validation") != []
    assert sorted(corpus) == sorted(layout_sample.review_ids("train"))


def test_validation_split_follows_fraction_and_seed(layout_sample, tmp_path: Path, fresh_root: Path) -> None:
    tarball = layout_sample.write_tarball(tmp_path / "sample.tar.gz")
    default = load_corpus(tarball, fresh_root)
    assert load_corpus(tarball, fresh_root).ids("validation") == default.ids("validation")
    reseeded = load_corpus(tarball, fresh_root, seed=7)
    assert reseeded.ids("validation") != default.ids("validation")
    larger = load_corpus(tarball, fresh_root, validation_fraction=0.25)
    assert len(larger.ids("validation")) > len(default.ids("validation"))
    for corpus in (default, reseeded, larger):
        assert not _movies(corpus, "training") & _movies(corpus, "validation")


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 0.7, float("nan")])
def test_bad_validation_fraction_is_named(fraction: float, layout_sample, tmp_path: Path, fresh_root: Path) -> None:
    tarball = layout_sample.write_tarball(tmp_path / "sample.tar.gz")
    with pytest.raises(DataError, match="validation_fraction"):
        load_corpus(tarball, fresh_root, validation_fraction=fraction)


def test_changed_source_gets_a_new_index(layout_sample, tmp_path: Path, fresh_root: Path) -> None:
    tarball = layout_sample.write_tarball(tmp_path / "sample.tar.gz")
    before = load_corpus(tarball, fresh_root)
    changed = layout_sample.with_members({"aclImdb/train/pos/0_9.txt": b"Rewritten review."})
    changed.write_tarball(tarball)
    os.utime(tarball, ns=(time.time_ns(), time.time_ns() + 1))
    after = load_corpus(tarball, fresh_root)
    assert before["train/pos/0_9"].text != after["train/pos/0_9"].text == "Rewritten review."
    assert len(list((fresh_root / INDEX_DIR).glob("*.json.gz"))) == 2


@pytest.mark.parametrize("damage", ["truncate", "garbage", "wrong-json", "other-key"])
def test_damaged_index_is_rebuilt_with_a_warning(damage: str, layout_sample, tmp_path: Path, fresh_root: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    tarball = layout_sample.write_tarball(tmp_path / "sample.tar.gz")
    expected = load_corpus(tarball, fresh_root)
    (index_file,) = (fresh_root / INDEX_DIR).glob("*.json.gz")
    content = index_file.read_bytes()
    if damage == "truncate":
        index_file.write_bytes(content[: len(content) // 2])
    elif damage == "garbage":
        index_file.write_bytes(content[:100] + bytes(len(content) - 100))
    elif damage == "wrong-json":
        index_file.write_bytes(gzip.compress(b'{"format": "imdb-leap-index", "columns": [1]}'))
    else:
        document = json.loads(gzip.decompress(content))
        document["key"] = "0" * 32
        index_file.write_bytes(gzip.compress(json.dumps(document).encode()))
    with caplog.at_level(logging.WARNING, logger="imdb.data"):
        rebuilt = load_corpus(tarball, fresh_root)
    assert "cached index is damaged" in caplog.text
    assert [rebuilt[i] for i in rebuilt] == [expected[i] for i in expected]
    assert load_corpus(tarball, fresh_root).ids("validation") == expected.ids("validation")


def test_damaged_split_cache_is_recomputed(layout_sample, tmp_path: Path, fresh_root: Path,
                                           caplog: pytest.LogCaptureFixture) -> None:
    tarball = layout_sample.write_tarball(tmp_path / "sample.tar.gz")
    expected = load_corpus(tarball, fresh_root).ids("validation")
    (split_file,) = (fresh_root / SPLIT_DIR).glob("*.json")
    split_file.write_text('{"version": 1, "validation": ["train/pos/not-a-review"]}')
    with caplog.at_level(logging.WARNING, logger="imdb.data"):
        assert load_corpus(tarball, fresh_root).ids("validation") == expected
    assert "does not match the index" in caplog.text
    split_file.write_text('{"vers')
    assert load_corpus(tarball, fresh_root).ids("validation") == expected


def test_invalid_utf8_is_replaced_with_a_warning(layout_sample, tmp_path: Path, fresh_root: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    member = "aclImdb/train/neg/0_3.txt"
    broken = layout_sample.with_members({member: b"Bad bytes \xff\xfe here."})
    with caplog.at_level(logging.WARNING, logger="imdb.data"):
        corpus = load_corpus(broken.write_tarball(tmp_path / "broken.tar.gz"), fresh_root)
    assert corpus["train/neg/0_3"].text == "Bad bytes \ufffd\ufffd here."
    assert member in caplog.text and "invalid UTF-8" in caplog.text


def test_missing_urls_lines_leave_movie_empty_and_split_valid(layout_sample, tmp_path: Path, fresh_root: Path,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    urls = layout_sample.members["aclImdb/train/urls_pos.txt"].splitlines(keepends=True)
    short = layout_sample.with_members({"aclImdb/train/urls_pos.txt": b"".join(urls[:100]),
                                        "aclImdb/train/urls_neg.txt": None})
    with caplog.at_level(logging.WARNING, logger="imdb.data"):
        corpus = load_corpus(short.write_tarball(tmp_path / "short.tar.gz"), fresh_root)
    beyond_urls = [i for i in corpus if i.startswith("train/pos/") and int(i.split("/")[2].split("_")[0]) >= 100]
    assert beyond_urls and all(corpus[i].movie_id == "" for i in beyond_urls)
    assert sum(1 for i in corpus if corpus[i].movie_id == "") == 2 * len(urls) - 100
    assert "urls_neg.txt is missing" in caplog.text and "no /title/ttNNN line in urls_pos.txt" in caplog.text
    assert set(corpus.ids("training")) | set(corpus.ids("validation")) == set(layout_sample.review_ids("train"))
    assert not set(corpus.ids("training")) & set(corpus.ids("validation"))
