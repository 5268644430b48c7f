"""Fitting the content space on the training split: TF-IDF of the standardised words, truncated SVD.

Why scikit-learn here and NumPy at serving time: the fit is a one-off that wants well-tested
estimators; serving must stay light (the platform runs it per sample), so the fitted
vocabulary, IDF weights and components are saved and ``imdb.runtime.content_space`` applies
them with the same arithmetic (tests check the two agree).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from imdb.contract.config import Config
from imdb.contract.files import atomic_path
from imdb.contract.names import TRAINING
from imdb.runtime.content_space import COMPONENTS_KEY, CONTENT_SPACE_FILE, IDF_KEY, VOCABULARY_KEY
from imdb.runtime.pipeline import Pipeline
from imdb.text.words import words

# Dimensions of the content space, and the words it is built on (most frequent by documents).
CONTENT_DIMENSIONS = 128
CONTENT_VOCABULARY = 5000
# A word in fewer training reviews than this carries no topic.
MIN_DOCUMENT_FREQUENCY = 5


def fit_vectorizer(texts: Sequence[str], vocabulary_size: int = CONTENT_VOCABULARY) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(analyzer=words, sublinear_tf=True, max_features=vocabulary_size,
                                 min_df=MIN_DOCUMENT_FREQUENCY, dtype=np.float32)
    vectorizer.fit(texts)
    return vectorizer


# Stored precision: half precision keeps the committed asset small; serving computes in float32.
STORED_DTYPE = np.float16


def fit_content_space(config: Config, *, out: Path = CONTENT_SPACE_FILE, dimensions: int = CONTENT_DIMENSIONS,
                      vocabulary_size: int = CONTENT_VOCABULARY, limit: int | None = None,
                      stored_dtype: Any = STORED_DTYPE) -> dict[str, Any]:
    """Fit on the training split (its first ``limit`` reviews, for tests) and write the asset
    atomically; returns what was fitted."""
    from sklearn.decomposition import TruncatedSVD

    pipeline = Pipeline(config)
    texts = [pipeline.corpus[sample_id].text for sample_id in pipeline.corpus.ids(TRAINING)[:limit]]
    vectorizer = fit_vectorizer(texts, vocabulary_size)
    svd = TruncatedSVD(n_components=dimensions, random_state=config.seed).fit(vectorizer.transform(texts))
    tokens = vectorizer.get_feature_names_out()
    with atomic_path(out) as tmp:
        with open(tmp, "wb") as handle:
            np.savez_compressed(handle, **{VOCABULARY_KEY: tokens.astype(str), IDF_KEY: vectorizer.idf_.astype(stored_dtype),
                                           COMPONENTS_KEY: svd.components_.astype(stored_dtype)})
    return {"out": str(out), "reviews": len(texts), "words": int(len(tokens)), "dimensions": dimensions,
            "explained_variance": round(float(svd.explained_variance_ratio_.sum()), 4), "bytes": out.stat().st_size}
