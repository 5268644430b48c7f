"""Table corpora made from the real IMDB reviews, shaped like the corpora users bring.

Why from real reviews: the texts, their lengths and their words are the real ones; only the
container changes. ``tweets_rows`` is shaped like the 1.6-million-tweet CSV (label 0/4, rows
sorted by label, an id column); ``happiness_rows`` like the 7-class survey of short answers
(3 classes of unequal size, a group column).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path
from typing import Any, Sequence

import yaml

from imdb.contract.config import DEFAULT_CONFIG_FILE
from imdb.data import Corpus

TWEET_LABELS = {0: "0", 1: "4"}
# Unequal classes from the star ratings: (class, ratings, how many rows).
HAPPINESS_CLASSES = (("awful", (1,), 240), ("mixed", (4, 7), 120), ("great", (10,), 60))
TWEETS_LABEL_MAP = {0: "negative", 4: "positive"}


def _rating(sample_id: str) -> int:
    return int(sample_id.rsplit("_", 1)[1])


def tweets_rows(corpus: Corpus, per_label: int) -> list[dict[str, Any]]:
    """``per_label`` reviews of each polarity as ``{"target", "ids", "text"}``, sorted by target."""
    rows = []
    for label, target in TWEET_LABELS.items():
        ids = [sample_id for sample_id in corpus.ids("training") if corpus.label(sample_id) == label][:per_label]
        rows += [{"target": target, "ids": f"t{index:05d}{label}", "text": corpus[sample_id].text}
                 for index, sample_id in enumerate(ids)]
    return rows


def happiness_rows(corpus: Corpus) -> list[dict[str, Any]]:
    """Three classes of 240, 120 and 60 rows, shuffled by id; the movie is the group."""
    rows = []
    for name, ratings, count in HAPPINESS_CLASSES:
        ids = [sample_id for sample_id in corpus.ids("training") if _rating(sample_id) in ratings][:count]
        rows += [{"hmid": sample_id.replace("/", "-"), "answer": corpus[sample_id].text, "category": name,
                  "movie": corpus[sample_id].movie_id} for sample_id in ids]
    return sorted(rows, key=lambda row: row["hmid"][::-1])


def write_csv(path: Path, rows: Sequence[dict[str, Any]], delimiter: str = ",") -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), delimiter=delimiter)
    writer.writeheader()
    writer.writerows(rows)
    data = buffer.getvalue().encode("utf-8")
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


def write_jsonl(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    data = "".join(json.dumps(row) + "\n" for row in rows).encode("utf-8")
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


def write_parquet(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    import pyarrow
    import pyarrow.parquet

    pyarrow.parquet.write_table(pyarrow.Table.from_pylist(list(rows)), path)
    return path


def write_config(path: Path, **settings: Any) -> Path:
    """The project's configuration with ``settings`` replaced (what a user's own config file is)."""
    raw = yaml.safe_load(DEFAULT_CONFIG_FILE.read_text(encoding="utf-8"))
    raw.update(settings)
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def tweets_settings() -> dict[str, Any]:
    return {"text_column": "text", "label_column": "target", "id_column": "ids", "label_map": TWEETS_LABEL_MAP}


def happiness_settings() -> dict[str, Any]:
    return {"text_column": "answer", "label_column": "category", "id_column": "hmid", "group_column": "movie",
            "label_order": [name for name, _, _ in HAPPINESS_CLASSES], "class_balance": "weights"}
