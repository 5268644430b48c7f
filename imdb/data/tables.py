"""Labelled texts from a table file: CSV, TSV, JSON Lines or Parquet, optionally gzip'd.

Why one module with a row loop per format (as HF datasets has one loader per file format): the
formats differ only in how rows are read; what a row must hold (a text, a label the label map
knows, a unique id) and how a bad row is reported (file, row, column) is one set of rules, so
every format fails the same way. Rows are streamed: a 2 GB file is never read into memory as
bytes, only its texts are kept, once, as the index needs them.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Iterator

from imdb.data.errors import DataError
from imdb.data.review import OFFICIAL_TEST, OFFICIAL_TRAIN, OFFICIAL_VALIDATION, Review

logger = logging.getLogger(__name__)

GZIP_MAGIC = b"\x1f\x8b"
# csv's default field limit (131,072 characters) is below a long review; a field this long is
# still refused rather than swallowing a file whose quotes never close.
CSV_FIELD_LIMIT = 1 << 26
DELIMITERS = {"csv": ",", "tsv": "\t"}
PARQUET_BATCH_ROWS = 65536
# Split column values, as people write them, -> the index's split names.
SPLIT_NAMES = {"train": OFFICIAL_TRAIN, "training": OFFICIAL_TRAIN, "validation": OFFICIAL_VALIDATION,
               "valid": OFFICIAL_VALIDATION, "val": OFFICIAL_VALIDATION, "dev": OFFICIAL_VALIDATION,
               "test": OFFICIAL_TEST}
ROW_ID_PREFIX = "row-"
MAX_VALUES_SHOWN = 8
MIN_CLASSES = 2
REPLACEMENT = "\ufffd"
_DECODE_ERRORS = "imdb-leap-table-replace"


@dataclass(frozen=True)
class TableSpec:
    """Which columns hold what, and how raw labels become class names."""

    text_column: str
    label_column: str
    id_column: str | None = None
    group_column: str | None = None
    split_column: str | None = None
    label_map: tuple[tuple[str, str], ...] | None = None
    label_order: tuple[str, ...] | None = None

    @property
    def columns(self) -> list[str]:
        named = [self.text_column, self.label_column, self.id_column, self.group_column, self.split_column]
        return [column for column in named if column]

    def fingerprint(self) -> list[object]:
        """What changes the index built from one file (part of its cache key)."""
        return [self.text_column, self.label_column, self.id_column, self.group_column, self.split_column,
                list(self.label_map or ()), list(self.label_order or ())]


@dataclass(frozen=True)
class TableContents:
    """The reviews of a table (labels as class positions) and the class names in order."""

    reviews: list[Review]
    label_names: tuple[str, ...]


class _Replacements:
    """Counts undecodable byte sequences replaced while decoding (a codecs error handler)."""

    count = 0

    @classmethod
    def handle(cls, error: UnicodeError) -> tuple[str, int]:
        cls.count += 1
        return REPLACEMENT, error.end if isinstance(error, UnicodeDecodeError) else error.start + 1


codecs.register_error(_DECODE_ERRORS, _Replacements.handle)


def label_text(value: Any) -> str:
    """A label as text: ``4`` (CSV), ``4`` (JSON int), ``4.0`` (Parquet float) are one label."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_table(path: Path, origin: str, kind: str, spec: TableSpec) -> TableContents:
    """All rows of the table at ``path`` (``origin`` names it in messages), checked and labelled."""
    _Replacements.count = 0
    builder = _Builder(origin, spec)
    try:
        for row_number, row in _rows(path, origin, kind, spec):
            builder.add(row_number, row)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DataError(f"cannot read {origin}: {exc}") from None
    if _Replacements.count:
        damaged = [review.sample_id for review in builder.reviews if REPLACEMENT in review.text][:MAX_VALUES_SHOWN]
        logger.warning("%s: %d undecodable byte sequence(s) replaced with U+FFFD (in %s)",
                       origin, _Replacements.count, ", ".join(damaged) or "a non-text column")
    return builder.finish()


def _open_bytes(path: Path) -> BinaryIO:
    """The file's bytes, gunzipped on the fly when it starts with gzip's magic number."""
    raw = path.open("rb")
    if raw.read(len(GZIP_MAGIC)) == GZIP_MAGIC:
        raw.seek(0)
        return gzip.GzipFile(fileobj=raw, mode="rb")
    raw.seek(0)
    return raw


def _rows(path: Path, origin: str, kind: str, spec: TableSpec) -> Iterator[tuple[int, dict[str, Any]]]:
    if kind == "parquet":
        return _parquet_rows(path, origin, spec)
    if kind == "jsonl":
        return _jsonl_rows(path, origin)
    return _delimited_rows(path, origin, DELIMITERS[kind], spec)


def _delimited_rows(path: Path, origin: str, delimiter: str, spec: TableSpec) -> Iterator[tuple[int, dict[str, Any]]]:
    csv.field_size_limit(CSV_FIELD_LIMIT)
    with _open_bytes(path) as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", errors=_DECODE_ERRORS,
                                                    newline="") as text:
        reader = csv.DictReader(text, delimiter=delimiter)
        try:
            header = reader.fieldnames
            _check_columns(origin, spec, list(header or []))
            for number, row in enumerate(reader, start=1):
                if None in row:
                    raise DataError(f"{origin}: row {number} (line {reader.line_num}) has more fields than the "
                                    f"header's {len(header)}")
                yield number, row
        except csv.Error as exc:
            raise DataError(f"{origin}: not a readable {'TSV' if delimiter == chr(9) else 'CSV'} file at line "
                            f"{reader.line_num}: {exc}") from None


def _jsonl_rows(path: Path, origin: str) -> Iterator[tuple[int, dict[str, Any]]]:
    number = 0
    with _open_bytes(path) as raw:
        for line_number, line in enumerate(raw, start=1):
            if not line.strip():
                continue
            number += 1
            try:
                row = json.loads(line.decode("utf-8", errors=_DECODE_ERRORS))
            except ValueError as exc:
                raise DataError(f"{origin}: line {line_number} is not JSON ({exc})") from None
            if not isinstance(row, dict):
                raise DataError(f"{origin}: line {line_number} is a JSON {type(row).__name__}, not an object "
                                f"of columns")
            yield number, row


def _parquet_rows(path: Path, origin: str, spec: TableSpec) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        import pyarrow.parquet as parquet
    except ImportError:
        raise DataError(f"{origin} is a Parquet file, which needs pyarrow (requirements.txt lists it): "
                        f"pip install pyarrow") from None
    try:
        table = parquet.ParquetFile(path)
    except Exception as exc:  # pyarrow raises its own untyped errors
        raise DataError(f"{origin} is not a readable Parquet file: {exc}") from None
    _check_columns(origin, spec, list(table.schema_arrow.names))
    number = 0
    for batch in table.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=spec.columns):
        for row in batch.to_pylist():
            number += 1
            yield number, row


def _check_columns(origin: str, spec: TableSpec, header: list[str]) -> None:
    """Every named column must be in the header; the error lists what the file has."""
    missing = [column for column in spec.columns if column not in header]
    if missing:
        settings = {spec.text_column: "text_column", spec.label_column: "label_column", spec.id_column: "id_column",
                    spec.group_column: "group_column", spec.split_column: "split_column"}
        named = ", ".join(f"{column!r} ({settings[column]})" for column in missing)
        raise DataError(f"{origin} has no column {named}; its columns are {', '.join(map(repr, header)) or 'none'}: "
                        f"set text_column / label_column (IMDB_TEXT_COLUMN / IMDB_LABEL_COLUMN, or in "
                        f"imdb/project_config.yaml) to the right names")


class _Builder:
    """Checks rows one at a time and keeps what the index needs."""

    def __init__(self, origin: str, spec: TableSpec) -> None:
        self.origin = origin
        self.spec = spec
        self.mapping = dict(spec.label_map) if spec.label_map else None
        self.reviews: list[Review] = []
        self.raw_labels: list[str] = []
        self.first_row: dict[str, int] = {}

    def _where(self, number: int, column: str) -> str:
        return f"{self.origin}: row {number}, column {column!r}"

    def add(self, number: int, row: dict[str, Any]) -> None:
        spec = self.spec
        for column in spec.columns:
            if column not in row:
                raise DataError(f"{self.origin}: row {number} has no column {column!r}; it has "
                                f"{', '.join(map(repr, row)) or 'none'}")
        text = row[spec.text_column]
        if not isinstance(text, str) or not text.strip():
            raise DataError(f"{self._where(number, spec.text_column)}: the text is empty: remove the row or "
                            f"fill it in")
        label = self._label(number, row[spec.label_column])
        sample_id = self._sample_id(number, row)
        self.reviews.append(Review(sample_id=sample_id, split=self._split(number, row), label=-1, rating=0,
                                   movie_id=label_text(row[spec.group_column]) if spec.group_column
                                   and row[spec.group_column] is not None else "",
                                   text=text))
        self.raw_labels.append(label)

    def _label(self, number: int, value: Any) -> str:
        column = self.spec.label_column
        if value is None or not label_text(value):
            raise DataError(f"{self._where(number, column)}: the label is empty")
        raw = label_text(value)
        if self.mapping is None:
            return raw
        if raw not in self.mapping:
            raise DataError(f"{self._where(number, column)}: label {raw!r} is not in label_map "
                            f"(it maps {', '.join(map(repr, self.mapping))}): add it to label_map or drop the row")
        return self.mapping[raw]

    def _sample_id(self, number: int, row: dict[str, Any]) -> str:
        column = self.spec.id_column
        if column is None:
            return f"{ROW_ID_PREFIX}{number}"
        value = row[column]
        if value is None or not label_text(value):
            raise DataError(f"{self._where(number, column)}: the id is empty")
        sample_id = label_text(value)
        if sample_id in self.first_row:
            raise DataError(f"{self._where(number, column)}: id {sample_id!r} is also the id of row "
                            f"{self.first_row[sample_id]}: ids must be unique")
        self.first_row[sample_id] = number
        return sample_id

    def _split(self, number: int, row: dict[str, Any]) -> str:
        column = self.spec.split_column
        if column is None:
            return OFFICIAL_TRAIN
        value = label_text(row[column] if row[column] is not None else "").lower()
        if value not in SPLIT_NAMES:
            raise DataError(f"{self._where(number, column)}: split {value!r} is not one of "
                            f"{', '.join(sorted(SPLIT_NAMES))}")
        return SPLIT_NAMES[value]

    def finish(self) -> TableContents:
        if not self.reviews:
            raise DataError(f"{self.origin} holds no rows")
        names = self._class_names()
        position = {name: index for index, name in enumerate(names)}
        counts = Counter(self.raw_labels)
        if len(counts) < MIN_CLASSES:
            only = next(iter(counts))
            raise DataError(f"{self.origin}: every one of its {len(self.reviews)} rows has label {only!r} "
                            f"(column {self.spec.label_column!r}); a classifier needs samples of at least "
                            f"{MIN_CLASSES} classes. A file sorted by label cut after its first rows does this: "
                            f"take rows of every class (sample_limit_per_split samples label-balanced)")
        reviews = [Review(review.sample_id, review.split, position[label], review.rating, review.movie_id,
                          review.text) for review, label in zip(self.reviews, self.raw_labels, strict=True)]
        return TableContents(reviews, names)

    def _class_names(self) -> tuple[str, ...]:
        found = set(self.raw_labels)
        order = self.spec.label_order
        if order is not None:
            unknown = sorted(found - set(order))
            if unknown:
                raise DataError(f"{self.origin}: label(s) {', '.join(map(repr, unknown[:MAX_VALUES_SHOWN]))} of column "
                                f"{self.spec.label_column!r} are not in label_order ({', '.join(order)})")
            return tuple(order)
        if self.mapping is not None:
            return tuple(dict.fromkeys(name for _, name in self.spec.label_map))
        return tuple(sorted(found, key=_natural_key))


def _natural_key(value: str) -> tuple[int, float, str]:
    """Numbers in numeric order (2 before 10), then words alphabetically."""
    try:
        return 0, float(value), value
    except ValueError:
        return 1, 0.0, value
