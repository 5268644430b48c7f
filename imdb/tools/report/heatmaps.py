"""Word heatmaps for the report, produced through the binder's own visualizer path.

Why through ``leap_components``: on the platform a heatmap reaches the ``review``
visualizer through its ``heatmap_function`` (``heatmap_per_token``) and is drawn on the
tokens ``review_text`` shows. The report takes the same two steps, so a word highlighted
here is the word the dashboard would highlight. BERT's WordPieces are then merged into
words for reading. The n-gram family shows words (each once, as its model reads a bag), each
n-gram's score split among its words: with its default ``exact`` method these are the scores
the dashboard's heatmap function serves (``components.exact_ngram_heatmap``).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from imdb.runtime import components
from imdb.runtime import visuals
from imdb.tools.explain import Attribution, Explainer, method_for, to_words
from imdb.runtime.pipeline import Pipeline

# Colour of a word supporting the predicted class, and of one arguing against it (RGB).
SUPPORT_RGB = (230, 110, 20)
OPPOSE_RGB = (40, 110, 220)
MAX_ALPHA = 0.85
# Below this share of the review's largest |score| a word is left uncoloured (keeps the text readable).
MIN_VISIBLE_SHARE = 0.05


@dataclass(frozen=True)
class Heatmap:
    """One review as the reader sees it: words and their scores towards the predicted class."""

    sample_id: str
    predicted: int
    words: list[str]
    scores: list[float]


def heatmaps(pipeline: Pipeline, explainer: Explainer, ids: Sequence[str], method: str, steps: int,
             progress: bool = True) -> dict[str, Heatmap]:
    """Heatmaps for ``ids`` (duplicates computed once), keyed by sample id."""
    unique = list(dict.fromkeys(ids))
    chosen = method_for(pipeline.config.model, method)
    attributions = explainer.explain(unique, chosen, steps=steps, progress=progress) if unique else []
    return {item.sample_id: from_attribution(pipeline, item) for item in attributions}


def from_attribution(pipeline: Pipeline, attribution: Attribution) -> Heatmap:
    """Scores mapped onto the tokens by the binder's heatmap_function and review visualizer."""
    token_ids = pipeline.model_input(attribution.sample_id, pipeline.encoder.input_names[0])
    review = components.review_text(pipeline, token_ids)
    if pipeline.config.is_ngram:
        per_token = components.ngram_word_heatmap(pipeline, token_ids, attribution.scores)
    else:
        per_token = components.heatmap_per_token(pipeline, attribution.scores)
    payload = visuals.text_payload(review.data, per_token)
    words, scores = to_words(payload.data, np.asarray(payload.heatmap), pipeline.config.uses_bert)
    return Heatmap(sample_id=attribution.sample_id, predicted=attribution.predicted, words=words, scores=scores)


def heatmap_html(heatmap: Heatmap) -> str:
    """The words as spans; background intensity = |score| relative to the review's largest."""
    scale = max((abs(score) for score in heatmap.scores), default=0.0) or 1.0
    spans = []
    for word, score in zip(heatmap.words, heatmap.scores):
        share = abs(score) / scale
        text = html.escape(word)
        if share < MIN_VISIBLE_SHARE:
            spans.append(f'<span title="{score:+.4f}">{text}</span>')
            continue
        red, green, blue = SUPPORT_RGB if score > 0 else OPPOSE_RGB
        spans.append(f'<span class="hw" title="{score:+.4f}" style="background:rgba({red},{green},{blue},'
                     f'{MAX_ALPHA * share:.2f})">{text}</span>')
    return f'<div class="heat">{" ".join(spans)}</div>'


def legend_html() -> str:
    """How to read the heatmaps (shown above each group of them)."""
    support = "rgba({},{},{},{})".format(*SUPPORT_RGB, MAX_ALPHA)
    oppose = "rgba({},{},{},{})".format(*OPPOSE_RGB, MAX_ALPHA)
    return (f'<p class="legend"><span class="hw" style="background:{support}">orange</span> pushes towards the '
            f'predicted class, <span class="hw" style="background:{oppose}">blue</span> against it '
            f"(intensity relative to the review's strongest word; hover a word for its score). Words are the "
            f"tokens the model read ([UNK]: out of its vocabulary), padding dropped.</p>")
