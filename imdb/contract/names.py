"""Split and label names: one definition for the data layer, the binder, the CLI and the report."""

TRAINING = "training"
VALIDATION = "validation"
TEST = "test"
# In the order the integration serves them (test only when the data has the official split).
SPLITS = (TRAINING, VALIDATION, TEST)
# The reviews without a label (aclImdb's ``train/unsup/``): served as Tensorleap's unlabelled
# state, never trained or evaluated on, so they are not one of SPLITS.
UNLABELED = "unlabeled"
# The integer label of an unlabelled review (no class has it), and the label its metadata shows.
UNLABELED_CLASS = -1
UNLABELED_NAME = UNLABELED

# A label's position in this tuple is its integer label (the aclImdb ``neg``/``pos`` order).
LABEL_NAMES = ("negative", "positive")
NEGATIVE = 0
POSITIVE = 1

# IMDB's star ratings: the labelled files carry 1-4 (negative) and 7-10 (positive). Under
# ``task: rating`` a class's position in this tuple is its integer label.
RATINGS = (1, 2, 3, 4, 7, 8, 9, 10)
RATING_NAMES = tuple(f"{rating}-star" for rating in RATINGS)
# The highest rating a negative review may carry (the dataset's own threshold).
NEGATIVE_MAX_RATING = 4

# Table files a data source may be (optionally gzip-compressed), by suffix.
TABLE_FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
GZIP_SUFFIX = ".gz"


def table_format(uri: str) -> str | None:
    """``csv``, ``tsv``, ``jsonl`` or ``parquet`` when ``uri`` names such a file (``.gz`` allowed), else None."""
    name = uri.split("#", 1)[0].split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1].lower()
    name = name.removesuffix(GZIP_SUFFIX)
    for suffix, kind in TABLE_FORMATS.items():
        if name.endswith(suffix):
            return kind
    return None


def table_stem(uri: str) -> str:
    """``tweets`` for ``gs://b/data/tweets.csv.gz``: what names a table corpus's models and vocabulary."""
    name = uri.split("#", 1)[0].split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    name = name[:-len(GZIP_SUFFIX)] if name.lower().endswith(GZIP_SUFFIX) else name
    return name.rsplit(".", 1)[0] or "table"
