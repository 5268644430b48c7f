"""What ``leap_binder.py``'s decorated functions do, kept free of decorators so it is testable.

Each function takes batched or unbatched NumPy arrays exactly as code-loader hands them
over and returns what code-loader validates (float32 arrays, LeapText, LeapHorizontalBar,
metadata dicts of plain Python scalars).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from code_loader.contract.datasetclasses import ConfusionMatrixElement, PreprocessResponse
from code_loader.contract.enums import ConfusionMatrixValue, DatasetMetadataType, DataStateType
from code_loader.contract.visualizer_classes import LeapHorizontalBar, LeapText

from imdb.contract.names import TEST, TRAINING, UNLABELED, VALIDATION
from imdb.probes import ProbeCase
from imdb.runtime import ngram_explain, scoring, visuals
from imdb.runtime.metadata import SampleMetadata
from imdb.runtime.text_scoring import INTEGER_READABILITY, READABILITY_FUNCTIONS
from imdb.runtime.pipeline import Pipeline

_STATES = {TRAINING: DataStateType.training, VALIDATION: DataStateType.validation, TEST: DataStateType.test}
# The preprocess response holding the behavioural probes (``data["split"]``).
PROBES = "probes"
# What the probe metadata reads for a real review, which tests nothing.
NOT_A_PROBE = {"capability": "none", "kind": "review", "template": "none", "direction": "none", "source": "none"}


def probe_state(splits: Sequence[str]) -> DataStateType:
    """Where the probes go: ``test`` when the data has no official test split, else ``additional``.

    Both are labelled states (code-loader runs the ground-truth encoder on them, so the
    dashboard has a loss per probe to slice by capability); ``unlabeled`` is not, so it would
    show the probes without loss, and it is taken by the unlabelled reviews when the source has
    them. ``test`` is taken by the official test reviews when the full archive is served, and
    code-loader refuses two responses of one state.
    """
    return DataStateType.additional if TEST in splits else DataStateType.test


def preprocess_responses(pipeline: Pipeline) -> list[PreprocessResponse]:
    """One response per available split (training, validation, and test when the data has it),
    then the behavioural probes where the classes have a polarity."""
    responses = []
    for split in pipeline.corpus.splits:
        ids = pipeline.split_ids(split)
        responses.append(PreprocessResponse(sample_ids=ids, state=_STATES[split], sample_id_type=str,
                                            data={"split": split, "source": pipeline.config.data}))
    if len(pipeline.probes):
        responses.append(PreprocessResponse(sample_ids=pipeline.probes.ids, state=probe_state(pipeline.corpus.splits),
                                            sample_id_type=str,
                                            data={"split": PROBES, "source": str(pipeline.probes.suite.path.name)}))
    return responses


def unlabeled_response(pipeline: Pipeline) -> PreprocessResponse | None:
    """The unlabelled reviews (aclImdb's ``train/unsup/``) as code-loader's unlabelled state, or
    None when none are served: code-loader refuses an empty response, so the binder registers
    its unlabelled preprocess only when there is one."""
    ids = pipeline.unlabeled_ids()
    if not ids:
        return None
    return PreprocessResponse(sample_ids=ids, state=DataStateType.unlabeled, sample_id_type=str,
                              data={"split": UNLABELED, "source": pipeline.config.data})


def _batched(array: np.ndarray) -> np.ndarray:
    array = np.asarray(array, dtype=np.float32)
    return array.reshape(1, -1) if array.ndim == 1 else array


def loss(ground_truth: np.ndarray, logits: np.ndarray) -> np.ndarray:
    return scoring.cross_entropy(_batched(ground_truth), _batched(logits))


def accuracy(ground_truth: np.ndarray, logits: np.ndarray) -> np.ndarray:
    return scoring.accuracy(_batched(ground_truth), _batched(logits))


def confidence(logits: np.ndarray) -> dict[str, np.ndarray]:
    """Confidence, margin and entropy per sample (``scoring.confidence``)."""
    return scoring.confidence(_batched(logits))


def class_recall(ground_truth: np.ndarray, logits: np.ndarray, labels: Sequence[str]) -> dict[str, np.ndarray]:
    """``recall_<class>`` per sample: 1/0 for the class's samples, NaN for the others (the value
    code-loader's engine takes for "not computed"), so a slice's mean is its recall of the class."""
    values = scoring.class_recall(_batched(ground_truth), _batched(logits))
    return {f"recall_{label}": values[:, cls] for cls, label in enumerate(labels)}


def confusion_elements(ground_truth: np.ndarray, logits: np.ndarray,
                       labels: Sequence[str]) -> list[list[ConfusionMatrixElement]]:
    """Per sample, one element per class: was this class expected, and with what probability
    the model predicted it."""
    probabilities = scoring.softmax(_batched(logits))
    targets = _batched(ground_truth)
    batch = []
    for sample_probs, target in zip(probabilities, targets):
        batch.append([
            ConfusionMatrixElement(
                label=label,
                expected_outcome=(ConfusionMatrixValue.Positive if target[cls] >= target.max()
                                  else ConfusionMatrixValue.Negative),
                predicted_probability=float(sample_probs[cls]),
            )
            for cls, label in enumerate(labels)
        ])
    return batch


def model_latent(latent: np.ndarray) -> np.ndarray:
    """The model's ``latent`` output as the platform's latent space: float32 ``(batch, width)``."""
    return _batched(latent)


def content_latent(pipeline: Pipeline, sample_id: str) -> np.ndarray:
    """The review's model-independent content vector (``imdb.runtime.content_space``)."""
    return pipeline.content_vector(sample_id)


def review_text(pipeline: Pipeline, token_ids: np.ndarray) -> LeapText:
    """The review as the model read it: its tokens, or for the n-gram family its words
    (each once, where it first appears: the model reads a bag of distinct n-grams)."""
    if pipeline.config.is_ngram:
        return visuals.text_payload(ngram_review_words(pipeline, token_ids))
    return visuals.text_payload(pipeline.encoder.display_tokens(token_ids))


def heatmap_per_token(pipeline: Pipeline, heatmap: np.ndarray) -> np.ndarray:
    return visuals.token_heatmap(heatmap, pipeline.config.sequence_length)


def ngram_review_words(pipeline: Pipeline, token_ids: np.ndarray) -> list[str]:
    """The words of an n-gram input, padded with empty strings to the input's length."""
    words = list(ngram_explain.word_positions(pipeline.encoder.display_tokens(token_ids)))
    return words + [""] * (pipeline.config.sequence_length - len(words))


def ngram_word_heatmap(pipeline: Pipeline, token_ids: np.ndarray, position_scores: np.ndarray) -> np.ndarray:
    """Per-position scores of an n-gram input folded onto ``ngram_review_words``: each n-gram's
    score split equally among its words (float32, the input's length)."""
    grams = pipeline.encoder.display_tokens(token_ids)
    _, scores = ngram_explain.split_among_words(grams, visuals.token_heatmap(position_scores, len(grams)))
    return visuals.token_heatmap(scores, pipeline.config.sequence_length)


def exact_ngram_heatmap(pipeline: Pipeline, token_ids: np.ndarray) -> np.ndarray:
    """The n-gram family's exact word heatmap towards the predicted class, from the weights
    asset and the input alone (the platform's gradient heatmap is not needed): one float32 score
    per ``ngram_review_words`` entry; a batch of inputs gives one row each."""
    ids = np.asarray(token_ids)
    if ids.ndim > 1 and ids.shape[0] > 1:
        return np.stack([exact_ngram_heatmap(pipeline, row) for row in ids])
    ids = ids.reshape(-1)
    grams = pipeline.encoder.display_tokens(ids)
    exact = ngram_explain.exact_heatmap(ids, grams, pipeline.ngram_weights)
    return visuals.token_heatmap(exact.word_scores, pipeline.config.sequence_length)


def probabilities(logits: np.ndarray, ground_truth: np.ndarray, labels: Sequence[str]) -> LeapHorizontalBar:
    return visuals.probability_bars(logits, labels, ground_truth)


def ground_truth(one_hot: np.ndarray, labels: Sequence[str]) -> LeapHorizontalBar:
    return visuals.label_bars(one_hot, labels)


# The type of every metadata field, as the dashboard declares it (code-loader's metadata_type).
LABEL_TYPE = DatasetMetadataType.string
TEXT_TYPES = {"word_count": DatasetMetadataType.int, "token_count": DatasetMetadataType.int,
              "truncated": DatasetMetadataType.boolean, "empty": DatasetMetadataType.boolean,
              "oov_count": DatasetMetadataType.int, "oov_ratio": DatasetMetadataType.float}
LEXICON_TYPES = {"polarity": DatasetMetadataType.float, "subjectivity": DatasetMetadataType.float}
REVIEW_TYPES = {"rating": DatasetMetadataType.int, "movie_id": DatasetMetadataType.string}


def review_types(pipeline: Pipeline) -> dict[str, DatasetMetadataType]:
    """The ``review`` metadata a corpus has: IMDB's rating (not under ``task: rating``, where it
    is the label) and movie; a table's group (as ``movie_id``) when it names a group column."""
    if pipeline.config.is_table:
        return {"movie_id": REVIEW_TYPES["movie_id"]} if pipeline.config.table.group_column else {}
    if pipeline.config.task == "rating":
        return {"movie_id": REVIEW_TYPES["movie_id"]}
    return dict(REVIEW_TYPES)
READABILITY_TYPES = {name: DatasetMetadataType.int if name in INTEGER_READABILITY else DatasetMetadataType.float
                     for name in READABILITY_FUNCTIONS}


def text_metadata(meta: SampleMetadata) -> dict[str, object]:
    return {"word_count": meta.word_count, "token_count": meta.token_count, "truncated": meta.truncated,
            "empty": meta.empty, "oov_count": meta.oov_count, "oov_ratio": meta.oov_ratio}


def lexicon_metadata(meta: SampleMetadata) -> dict[str, object]:
    return {"polarity": meta.polarity, "subjectivity": meta.subjectivity}


def review_metadata(meta: SampleMetadata, fields: Sequence[str] = tuple(REVIEW_TYPES)) -> dict[str, object]:
    values = {"rating": meta.rating, "movie_id": meta.movie_id}
    return {name: values[name] for name in fields}


def readability_metadata(meta: SampleMetadata) -> dict[str, object]:
    """textstat's indices under its own function names; counts as ints, indices as floats."""
    return {name: int(value) if name in INTEGER_READABILITY else float(value)
            for name, value in meta.readability.items()}


# Dict-valued metadata groups, as the binder registers them: the dashboard shows key ``k`` of
# group ``g`` as ``g_k``; the report builds the same columns from this one list.
METADATA_GROUPS = (
    ("text", text_metadata, TEXT_TYPES),
    ("sentiment_lexicon", lexicon_metadata, LEXICON_TYPES),
    ("review", review_metadata, REVIEW_TYPES),
    ("readability", readability_metadata, READABILITY_TYPES),
)


PROBE_TYPES = {key: DatasetMetadataType.string for key in NOT_A_PROBE}


def probe_metadata(case: ProbeCase | None) -> dict[str, object]:
    """What a probe tests, for slicing the dashboard by capability; fixed values for a review."""
    if case is None:
        return dict(NOT_A_PROBE)
    return {"capability": case.capability, "kind": case.kind, "template": case.template,
            "direction": case.direction, "source": case.source_id}
