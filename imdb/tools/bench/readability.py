"""Readability both ways on the same reviews: textstat's functions per review against
``imdb.runtime.readability``, timed, and every value compared.

Why a module of its own: the benchmark runs it on a sample; ``python -m
imdb.tools.bench.readability`` runs it on every review of the configured corpus, the check
that the fast scorer may stand in for textstat (it prints one JSON line).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any, Sequence

import numpy as np

NS_PER_MS = 1e6
ROUND = 3


def compare_with_textstat(texts: Sequence[str]) -> dict[str, Any]:
    """Per-review mean ms each way (the fast scorer with fresh memos), their ratio, and how
    many of the ``len(texts) × 14`` values differ (plain texts, as the scorers are given them)."""
    import textstat

    from imdb.runtime.readability import ReadabilityScorer
    from imdb.runtime.text_scoring import READABILITY_FUNCTIONS

    scorer = ReadabilityScorer()
    ours, ours_ns = [], []
    for text in texts:
        started = time.perf_counter_ns()
        scores = scorer.scores(text)
        ours_ns.append(time.perf_counter_ns() - started)
        ours.append([scores[name] for name in READABILITY_FUNCTIONS])
    theirs, theirs_ns = [], []
    for text in texts:
        started = time.perf_counter_ns()
        theirs.append([getattr(textstat, name)(text) for name in READABILITY_FUNCTIONS])
        theirs_ns.append(time.perf_counter_ns() - started)
    ours_ms, theirs_ms = float(np.mean(ours_ns)) / NS_PER_MS, float(np.mean(theirs_ns)) / NS_PER_MS
    return {
        "reviews": len(texts),
        "values": len(texts) * len(READABILITY_FUNCTIONS),
        "values_differing": sum(a != b for row, other in zip(ours, theirs) for a, b in zip(row, other)),
        "fast_mean_ms": round(ours_ms, ROUND),
        "textstat_mean_ms": round(theirs_ms, ROUND),
        "speedup_ratio": round(theirs_ms / ours_ms, ROUND),
    }


def main() -> int:
    """Every review of the configured corpus (``IMDB_DATA`` or the project config)."""
    from imdb.contract.config import load_config
    from imdb.runtime.pipeline import Pipeline
    from imdb.text.plain import plain_text

    corpus = Pipeline(load_config()).corpus
    texts = [plain_text(corpus[sample_id].text) for split in corpus.splits for sample_id in corpus.ids(split)]
    print(json.dumps(compare_with_textstat(texts)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
