"""Metadata against loss: binned mean loss and Spearman's rank correlation per field, and a
verdict, computed on the run's own numbers, on each of the seeds' claims.

Why Spearman: the claims are monotonic ("more OOV words, higher loss"), the fields are
skewed (review length spans two orders of magnitude) and the loss is heavy-tailed, so a rank
correlation measures the claim itself and is not driven by a few extreme reviews.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from imdb.runtime.text_scoring import READABILITY_FUNCTIONS
from imdb.tools.report.samples import Samples

ABS_POLARITY = "abs_polarity"
READABILITY_GROUP = "readability"
# Readable names of textstat's indices, for the report (the dashboard shows the function names).
READABILITY_TITLES = {
    "automated_readability_index": "Automated Readability Index",
    "coleman_liau_index": "Coleman–Liau index",
    "crawford": "Crawford index",
    "dale_chall_readability_score": "Dale–Chall score",
    "difficult_words": "difficult words (Dale–Chall list)",
    "fernandez_huerta": "Fernández-Huerta",
    "flesch_kincaid_grade": "Flesch–Kincaid grade",
    "flesch_reading_ease": "Flesch reading ease",
    "gulpease_index": "Gulpease index",
    "gunning_fog": "Gunning fog",
    "gutierrez_polini": "Gutiérrez de Polini",
    "linsear_write_formula": "Linsear Write",
    "osman": "Osman",
    "szigriszt_pazos": "Szigriszt-Pazos",
}
# Fields set against loss: dashboard name -> what the report calls it.
FIELDS: dict[str, str] = {
    "text_oov_count": "OOV words",
    "text_oov_ratio": "OOV ratio",
    "text_word_count": "review length (words)",
    "text_token_count": "model tokens",
    "sentiment_lexicon_polarity": "TextBlob polarity",
    ABS_POLARITY: "|polarity| (distance from neutral)",
    "sentiment_lexicon_subjectivity": "TextBlob subjectivity",
    "review_rating": "star rating",
    "text_truncated": "truncated",
    **{f"{READABILITY_GROUP}_{name}": f"readability: {READABILITY_TITLES[name]}" for name in READABILITY_FUNCTIONS},
}
# How many fields the report names as the slices that matter most for the analysed model.
TOP_SLICES = 3
QUANTILE_BINS = 10
# A field with at most this many distinct values is binned by value (rating, truncated).
MAX_DISCRETE_VALUES = 12
SIGNIFICANCE = 0.01
# A claim needs a correlation at least this large to count, however significant: on 22,000
# reviews a rho of 0.03 is "significant" and still explains nothing.
MIN_MEANINGFUL_RHO = 0.1
# Upper |rho| bound of each strength word (Cohen-style bands); the last bound exceeds 1.
STRENGTH_BANDS = ((MIN_MEANINGFUL_RHO, "negligible"), (0.3, "weak"), (0.5, "moderate"), (1.01, "strong"))
MIN_SAMPLES_FOR_CORRELATION = 3


@dataclass(frozen=True)
class LossBin:
    """One bin of a field: its value range (low == high for a single value), size and mean loss."""

    low: float
    high: float
    count: int
    mean_loss: float


@dataclass(frozen=True)
class FieldLoss:
    """One field: its bins with mean loss, and its rank correlation with loss."""

    field: str
    title: str
    rho: float
    p_value: float
    bins: list[LossBin]


@dataclass(frozen=True)
class Claim:
    """A seed claim, tested: what the data says about it."""

    statement: str
    field: str
    rho: float
    p_value: float
    verdict: str
    strength: str
    low_group_loss: float
    high_group_loss: float
    group_share: float
    companion: str | None = None
    companion_rho: float = float("nan")


@dataclass(frozen=True)
class ClaimSpec:
    """A claim on ``field``; ``companion`` is a related field reported beside it (the OOV ratio,
    because the OOV count grows with review length, which has its own claim)."""

    statement: str
    field: str
    expected_sign: int
    companion: str | None = None


SEED_CLAIMS = (
    ClaimSpec("More out-of-vocabulary words → higher loss", "text_oov_count", +1, companion="text_oov_ratio"),
    ClaimSpec("Shorter reviews → higher loss", "text_word_count", -1),
    ClaimSpec("Neutral polarity (small |polarity|) → higher loss", ABS_POLARITY, -1),
)
# The claims compare the lowest and highest fifth of the field.
EXTREME_GROUP_SHARE = 0.2


def field_values(samples: Samples, field: str) -> np.ndarray:
    """A metadata column as floats; ``abs_polarity`` is derived from the polarity."""
    if field == ABS_POLARITY:
        return np.abs(samples.metadata["sentiment_lexicon_polarity"].astype(np.float64))
    return samples.metadata[field].astype(np.float64)


def field_losses(samples: Samples, loss: np.ndarray) -> list[FieldLoss]:
    """Every field in ``FIELDS``: bins (quantiles, or distinct values) and Spearman's rho."""
    results = []
    for field, title in FIELDS.items():
        values = field_values(samples, field)
        rho, p_value = spearman(values, loss)
        results.append(FieldLoss(field=field, title=title, rho=rho, p_value=p_value, bins=loss_bins(values, loss)))
    return results


def top_slices(fields: list[FieldLoss], count: int = TOP_SLICES) -> list[FieldLoss]:
    """The ``count`` fields whose rank correlation with the loss is largest in size (fields
    without a defined correlation, such as a constant one, are left out)."""
    defined = [item for item in fields if not np.isnan(item.rho)]
    return sorted(defined, key=lambda item: -abs(item.rho))[:count]


def spearman(values: np.ndarray, loss: np.ndarray) -> tuple[float, float]:
    """Spearman's rho and its two-sided p-value; NaN when the field is constant."""
    if len(values) < MIN_SAMPLES_FOR_CORRELATION or np.ptp(values) == 0 or np.ptp(loss) == 0:
        return float("nan"), float("nan")
    result = stats.spearmanr(values, loss)
    return float(result.statistic), float(result.pvalue)


def loss_bins(values: np.ndarray, loss: np.ndarray) -> list[LossBin]:
    """Distinct values when there are few, else quantile bins; each with its count and mean loss."""
    distinct = np.unique(values)
    if len(distinct) <= MAX_DISCRETE_VALUES:
        return [_bin(value, value, loss[values == value]) for value in distinct]
    edges = np.unique(np.quantile(values, np.linspace(0.0, 1.0, QUANTILE_BINS + 1)))
    index = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)
    return [_bin(edges[i], edges[i + 1], loss[index == i]) for i in range(len(edges) - 1) if (index == i).any()]


def _bin(low: float, high: float, members: np.ndarray) -> LossBin:
    return LossBin(low=float(low), high=float(high), count=int(len(members)), mean_loss=float(members.mean()))


def evaluate_claims(samples: Samples, loss: np.ndarray) -> list[Claim]:
    """Each seed claim: confirmed, not confirmed or contradicted, with rho, p and group losses."""
    return [_claim(spec, samples, loss) for spec in SEED_CLAIMS]


def _claim(spec: ClaimSpec, samples: Samples, loss: np.ndarray) -> Claim:
    values = field_values(samples, spec.field)
    rho, p_value = spearman(values, loss)
    order = np.argsort(values, kind="stable")
    group = max(1, int(round(EXTREME_GROUP_SHARE * len(values))))
    companion_rho = spearman(field_values(samples, spec.companion), loss)[0] if spec.companion else float("nan")
    return Claim(statement=spec.statement, field=spec.field, rho=rho,
                 p_value=p_value, verdict=verdict(rho, p_value, spec.expected_sign), strength=strength(rho),
                 low_group_loss=float(loss[order[:group]].mean()), high_group_loss=float(loss[order[-group:]].mean()),
                 group_share=EXTREME_GROUP_SHARE, companion=spec.companion, companion_rho=companion_rho)


def verdict(rho: float, p_value: float, expected_sign: int) -> str:
    """``confirmed`` (significant, non-negligible, expected sign), ``contradicted`` (the same with
    the opposite sign), else ``not confirmed``."""
    if np.isnan(rho) or p_value >= SIGNIFICANCE or abs(rho) < MIN_MEANINGFUL_RHO:
        return "not confirmed"
    return "confirmed" if np.sign(rho) == expected_sign else "contradicted"


def strength(rho: float) -> str:
    """A word for |rho|, so a verdict is never read without its size."""
    if np.isnan(rho):
        return "undefined"
    return next(name for bound, name in STRENGTH_BANDS if abs(rho) < bound)
