"""Table sources: CSV, TSV, JSON Lines and Parquet (optionally gzip'd), local, gs:// and https://,
built from the real reviews; every bad input fails naming the file, row and column.
"""

from __future__ import annotations

import gzip
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from corpora import (happiness_rows, happiness_settings, tweets_rows, tweets_settings, write_config, write_csv,
                     write_jsonl, write_parquet)
from imdb.contract.config import REPO_ROOT, load_config
from imdb.data import Corpus, DataError, describe, load_corpus
from imdb.data.tables import TableSpec
from imdb.runtime.pipeline import Pipeline

PER_LABEL = 150
TWEETS_SPEC = TableSpec(text_column="text", label_column="target", id_column="ids",
                        label_map=(("0", "negative"), ("4", "positive")))


@pytest.fixture(scope="module")
def tweets(imdb_corpus: Corpus) -> list[dict]:
    return tweets_rows(imdb_corpus, PER_LABEL)


@pytest.fixture(scope="module")
def happiness(imdb_corpus: Corpus) -> list[dict]:
    return happiness_rows(imdb_corpus)


def _texts_by_label(corpus: Corpus) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for sample_id in corpus:
        found.setdefault(corpus.label_names[corpus.label(sample_id)], []).append(corpus[sample_id].text)
    return {name: sorted(texts) for name, texts in found.items()}


@pytest.mark.parametrize("name", ["tweets.csv", "tweets.csv.gz", "tweets.tsv", "tweets.jsonl", "tweets.jsonl.gz",
                                  "tweets.parquet"])
def test_every_format_yields_the_same_labelled_reviews(name: str, tweets: list[dict], tmp_path: Path) -> None:
    path = tmp_path / name
    if ".csv" in name:
        write_csv(path, tweets)
    elif ".tsv" in name:
        write_csv(path, tweets, delimiter="\t")
    elif ".jsonl" in name:
        write_jsonl(path, tweets)
    else:
        write_parquet(path, tweets)
    corpus = load_corpus(path, tmp_path / "cache", table=TWEETS_SPEC)
    assert corpus.label_names == ("negative", "positive")
    expected = {"negative": sorted(row["text"] for row in tweets if row["target"] == "0"),
                "positive": sorted(row["text"] for row in tweets if row["target"] == "4")}
    assert _texts_by_label(corpus) == expected
    assert corpus[tweets[0]["ids"]].text == tweets[0]["text"]
    assert corpus.polarity == (0, 1)
    # The split is stratified: both classes on both sides, although the file is sorted by label.
    for split in ("training", "validation"):
        assert {corpus.label(sample_id) for sample_id in corpus.ids(split)} == {0, 1}


def test_classes_come_from_the_data_in_natural_order_without_a_map(tweets: list[dict], tmp_path: Path) -> None:
    corpus = load_corpus(write_csv(tmp_path / "t.csv", tweets), tmp_path / "cache",
                         table=TableSpec(text_column="text", label_column="target"))
    assert corpus.label_names == ("0", "4")
    assert corpus.polarity is None, "classes named 0 and 4 have no polarity unless the config maps them"
    mapped = load_corpus(tmp_path / "t.csv", tmp_path / "cache",
                         table=TableSpec(text_column="text", label_column="target"),
                         polarity={"0": "negative", "4": "positive"})
    assert mapped.polarity == (0, 1)


def test_unequal_classes_group_column_and_label_order(happiness: list[dict], tmp_path: Path) -> None:
    spec = TableSpec(text_column="answer", label_column="category", id_column="hmid", group_column="movie",
                     label_order=("awful", "mixed", "great"))
    corpus = load_corpus(write_jsonl(tmp_path / "happy.jsonl", happiness), tmp_path / "cache", table=spec)
    info = describe(corpus)
    assert info["classes"] == ["awful", "mixed", "great"]
    assert info["counts"] == {"awful": 240, "mixed": 120, "great": 60}
    assert info["imbalance_ratio"] == 4.0
    groups = {side: {corpus[i].movie_id for i in corpus.ids(side)} - {""} for side in ("training", "validation")}
    assert groups["training"] and groups["validation"] and not groups["training"] & groups["validation"]


def test_split_column_chooses_the_validation_rows(tweets: list[dict], tmp_path: Path) -> None:
    rows = [{**row, "split": "validation" if index % 5 == 0 else "train"} for index, row in enumerate(tweets)]
    spec = TableSpec(**{**TWEETS_SPEC.__dict__, "split_column": "split"})
    corpus = load_corpus(write_csv(tmp_path / "s.csv", rows), tmp_path / "cache", table=spec)
    assert sorted(corpus.ids("validation")) == sorted(row["ids"] for row in rows if row["split"] == "validation")


def test_a_sample_limit_takes_every_class_of_a_file_sorted_by_label(tweets: list[dict], tmp_path: Path) -> None:
    """The tweets pitfall: the first rows of a sorted file are one class; the limit is label-balanced."""
    path = write_csv(tmp_path / "tweets.csv", tweets)
    config = load_config(str(write_config(tmp_path / "c.yaml", **tweets_settings())), environ={}, data=str(path),
                         data_root=str(tmp_path / "cache"), sample_limit_per_split=40)
    pipeline = Pipeline(config)
    labels = [pipeline.corpus.label(i) for i in pipeline.split_ids("training")]
    assert len(labels) == 40 and labels.count(0) == labels.count(1) == 20


def _fails(path: Path, spec: TableSpec, *fragments: str, tmp_path: Path) -> None:
    with pytest.raises(DataError) as error:
        load_corpus(path, tmp_path / "cache", table=spec)
    for fragment in fragments:
        assert fragment in str(error.value), str(error.value)
    assert not list((tmp_path / "cache").glob("**/index-*")), "nothing may be cached for a bad table"


def test_missing_column_names_file_column_and_what_the_file_has(tweets: list[dict], tmp_path: Path) -> None:
    path = write_csv(tmp_path / "t.csv", tweets)
    _fails(path, TableSpec(text_column="tweet", label_column="target"), str(path), "'tweet' (text_column)",
           "'target', 'ids', 'text'", "IMDB_TEXT_COLUMN", tmp_path=tmp_path)


def test_empty_text_names_the_row(tweets: list[dict], tmp_path: Path) -> None:
    rows = [dict(row) for row in tweets]
    rows[6]["text"] = "   "
    _fails(write_jsonl(tmp_path / "t.jsonl", rows), TWEETS_SPEC, "row 7", "column 'text'", "empty",
           tmp_path=tmp_path)


def test_label_outside_the_map_names_row_value_and_map(tweets: list[dict], tmp_path: Path) -> None:
    rows = [dict(row) for row in tweets]
    rows[12]["target"] = "2"
    _fails(write_csv(tmp_path / "t.csv", rows), TWEETS_SPEC, "row 13", "'target'", "label '2'", "'0', '4'",
           tmp_path=tmp_path)


def test_one_class_only_says_why_and_what_to_do(tweets: list[dict], tmp_path: Path) -> None:
    first_rows = tweets[:PER_LABEL // 2]
    _fails(write_csv(tmp_path / "head.csv", first_rows), TWEETS_SPEC, "label 'negative'", "at least 2 classes",
           "sorted by label", tmp_path=tmp_path)


def test_duplicate_ids_name_both_rows(tweets: list[dict], tmp_path: Path) -> None:
    rows = [dict(row) for row in tweets]
    rows[20]["ids"] = rows[3]["ids"]
    _fails(write_csv(tmp_path / "t.csv", rows), TWEETS_SPEC, "row 21", "row 4", "unique", tmp_path=tmp_path)


def test_undecodable_bytes_are_replaced_and_warned(tweets: list[dict], tmp_path: Path,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    path = write_csv(tmp_path / "t.csv", tweets)
    data = path.read_bytes()
    marker = tweets[5]["text"][:30].encode()
    path.write_bytes(data.replace(marker, marker + b"\xff\xfe", 1))
    with caplog.at_level(logging.WARNING):
        corpus = load_corpus(path, tmp_path / "cache", table=TWEETS_SPEC)
    assert "\ufffd" in corpus[tweets[5]["ids"]].text
    assert any("undecodable" in record.message and tweets[5]["ids"] in record.message for record in caplog.records)


def test_a_truncated_gzip_table_fails_naming_the_file(tweets: list[dict], tmp_path: Path) -> None:
    path = tmp_path / "t.csv.gz"
    path.write_bytes(gzip.compress(write_csv(tmp_path / "plain.csv", tweets).read_bytes())[:5000])
    _fails(path, TWEETS_SPEC, str(path), tmp_path=tmp_path)


def test_rating_task_on_a_table_says_what_to_set(tweets: list[dict], tmp_path: Path) -> None:
    with pytest.raises(DataError, match="set task: sentiment"):
        load_corpus(write_csv(tmp_path / "t.csv", tweets), tmp_path / "cache", table=TWEETS_SPEC, task="rating")


def test_table_over_https_and_from_a_bucket(tweets: list[dict], tmp_path: Path, web_server, gcs_server) -> None:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    data = write_csv(tmp_path / "tweets.csv.gz", tweets).read_bytes()
    local = load_corpus(tmp_path / "tweets.csv.gz", tmp_path / "local", table=TWEETS_SPEC)
    over_http = load_corpus(web_server.put("tweets.csv.gz", data), tmp_path / "web", table=TWEETS_SPEC)
    client = storage.Client(project="imdb-leap-test", credentials=AnonymousCredentials())
    bucket = client.lookup_bucket("imdb-tables") or client.create_bucket("imdb-tables")
    bucket.blob("corpora/tweets.csv.gz").upload_from_string(data)
    from_bucket = load_corpus("gs://imdb-tables/corpora/tweets.csv.gz", tmp_path / "gcs", table=TWEETS_SPEC)
    for corpus in (over_http, from_bucket):
        assert _texts_by_label(corpus) == _texts_by_label(local)
        assert corpus.ids("validation") == local.ids("validation")


def test_data_info_shows_classes_counts_and_imbalance(happiness: list[dict], tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "happy.jsonl", happiness)
    config = write_config(tmp_path / "happy.yaml", **happiness_settings())
    command = [sys.executable, "-m", "imdb.tools.cli", "data", "info", "--config", str(config), "--data", str(path),
               "--data-root", str(tmp_path / "cache")]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    info = json.loads(done.stdout.strip().splitlines()[-1])
    assert (info["classes"], info["imbalance_ratio"]) == (["awful", "mixed", "great"], 4.0)
    assert sum(info["splits"][split]["n"] for split in info["splits"]) == len(happiness)


def test_missing_column_through_the_cli_is_one_line_and_exit_2(tweets: list[dict], tmp_path: Path) -> None:
    path = write_csv(tmp_path / "tweets.csv", tweets)
    command = [sys.executable, "-m", "imdb.tools.cli", "data", "info", "--data", str(path), "--data-root",
               str(tmp_path / "cache"), "--label-column", "sentiment"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    assert done.returncode == 2
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith("imdb-leap data info: error:") and "'sentiment' (label_column)" in line, line
