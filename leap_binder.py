"""Tensorleap components for IMDB sentiment: each decorated function is one line into ``imdb/``.

Preprocess, input and ground-truth encoders, metadata, loss, metrics and visualizers. The
model family comes from ``imdb/project_config.yaml`` (or ``IMDB_MODEL``): the word models
read ``input_tokens``; the BERT family reads ``input_ids``, ``attention_mask`` and
``token_type_ids``, registered only when it is configured; the ensemble reads all four (BERT's
three, then the n-gram ids as ``input_tokens``) and shows the review as BERT reads it. The
unlabelled preprocess (aclImdb's ``train/unsup/`` reviews) is registered only when the source
holds unlabelled reviews.
"""

from typing import List

import imdb  # noqa: F401  (switches code-loader analytics off before code_loader is imported)

import numpy as np
from code_loader.contract.datasetclasses import ConfusionMatrixElement, PreprocessResponse, RawInputsForHeatmap
from code_loader.contract.enums import LeapDataType, MetricDirection
from code_loader.contract.visualizer_classes import LeapHorizontalBar, LeapText
from code_loader.inner_leap_binder.leapbinder_decorators import (
    tensorleap_custom_latent_space,
    tensorleap_custom_loss,
    tensorleap_custom_metric,
    tensorleap_custom_visualizer,
    tensorleap_gt_encoder,
    tensorleap_input_encoder,
    tensorleap_metadata,
    tensorleap_preprocess,
    tensorleap_unlabeled_preprocess,
)

from imdb.contract.model_files import ATTENTION_MASK, INPUT_IDS, TOKEN_TYPE_IDS, WORD_INPUT
from imdb.runtime import components
from imdb.runtime.pipeline import get_pipeline

CONFIG = get_pipeline().config
# The classes in the order of the model's logits: IMDB's two, its eight star ratings
# (task: rating), or a table's label column's (read from the corpus's index).
LABELS = list(get_pipeline().labels)
REVIEW_FIELDS = components.review_types(get_pipeline())
# Whether the source holds unlabelled reviews to serve (and their state is registered).
HAS_UNLABELED = bool(get_pipeline().unlabeled_ids())


@tensorleap_preprocess()
def preprocess() -> List[PreprocessResponse]:
    return components.preprocess_responses(get_pipeline())


if HAS_UNLABELED:
    @tensorleap_unlabeled_preprocess()
    def unlabeled_preprocess() -> PreprocessResponse:
        return components.unlabeled_response(get_pipeline())


if CONFIG.uses_bert:
    @tensorleap_input_encoder(INPUT_IDS, channel_dim=-1)
    def input_ids(sample_id: str, preprocess: PreprocessResponse) -> np.ndarray:
        return get_pipeline().model_input(sample_id, INPUT_IDS)

    @tensorleap_input_encoder(ATTENTION_MASK, channel_dim=-1)
    def attention_mask(sample_id: str, preprocess: PreprocessResponse) -> np.ndarray:
        return get_pipeline().model_input(sample_id, ATTENTION_MASK)

    @tensorleap_input_encoder(TOKEN_TYPE_IDS, channel_dim=-1)
    def token_type_ids(sample_id: str, preprocess: PreprocessResponse) -> np.ndarray:
        return get_pipeline().model_input(sample_id, TOKEN_TYPE_IDS)

    def _review_heatmap(input_ids: np.ndarray) -> np.ndarray:
        return components.heatmap_per_token(get_pipeline(), input_ids)

    @tensorleap_custom_visualizer("review", LeapDataType.Text, heatmap_function=_review_heatmap)
    def review_visualizer(input_ids: np.ndarray) -> LeapText:
        return components.review_text(get_pipeline(), input_ids)

if not CONFIG.is_bert:
    @tensorleap_input_encoder(WORD_INPUT, channel_dim=-1)
    def input_tokens(sample_id: str, preprocess: PreprocessResponse) -> np.ndarray:
        return get_pipeline().model_input(sample_id, WORD_INPUT)

if not CONFIG.uses_bert:
    if CONFIG.is_ngram:
        # The n-gram model is linear: its heatmap is exact, computed from the model's weights and
        # the raw input ids, not from the platform's gradient heatmap (imdb.runtime.ngram_explain).
        def _review_heatmap(input_tokens: np.ndarray, raw_inputs: RawInputsForHeatmap) -> np.ndarray:
            token_ids = raw_inputs.raw_input_by_vizualizer_arg_name[WORD_INPUT]
            return components.exact_ngram_heatmap(get_pipeline(), token_ids)
    else:
        def _review_heatmap(input_tokens: np.ndarray) -> np.ndarray:
            return components.heatmap_per_token(get_pipeline(), input_tokens)

    @tensorleap_custom_visualizer("review", LeapDataType.Text, heatmap_function=_review_heatmap)
    def review_visualizer(input_tokens: np.ndarray) -> LeapText:
        return components.review_text(get_pipeline(), input_tokens)


@tensorleap_gt_encoder("sentiment")
def sentiment(sample_id: str, preprocess: PreprocessResponse) -> np.ndarray:
    return get_pipeline().ground_truth(sample_id)


@tensorleap_metadata("label", metadata_type=components.LABEL_TYPE)
def metadata_label(sample_id: str, preprocess: PreprocessResponse) -> str:
    return get_pipeline().metadata(sample_id).label


@tensorleap_metadata("text", metadata_type=components.TEXT_TYPES)
def metadata_text(sample_id: str, preprocess: PreprocessResponse) -> dict:
    return components.text_metadata(get_pipeline().metadata(sample_id))


@tensorleap_metadata("sentiment_lexicon", metadata_type=components.LEXICON_TYPES)
def metadata_sentiment_lexicon(sample_id: str, preprocess: PreprocessResponse) -> dict:
    return components.lexicon_metadata(get_pipeline().metadata(sample_id))


if REVIEW_FIELDS:
    @tensorleap_metadata("review", metadata_type=REVIEW_FIELDS)
    def metadata_review(sample_id: str, preprocess: PreprocessResponse) -> dict:
        return components.review_metadata(get_pipeline().metadata(sample_id), tuple(REVIEW_FIELDS))


@tensorleap_metadata("readability", metadata_type=components.READABILITY_TYPES)
def metadata_readability(sample_id: str, preprocess: PreprocessResponse) -> dict:
    return components.readability_metadata(get_pipeline().metadata(sample_id))


@tensorleap_custom_latent_space("model_latent", use_ls_for_analysis=True)
def model_latent_space(latent: np.ndarray) -> np.ndarray:
    return components.model_latent(latent)


@tensorleap_custom_latent_space("content", use_ls_for_analysis=False)
def content_latent_space(sample_id: str, preprocess: PreprocessResponse) -> np.ndarray:
    return components.content_latent(get_pipeline(), sample_id)


@tensorleap_metadata("probe", metadata_type=components.PROBE_TYPES)
def metadata_probe(sample_id: str, preprocess: PreprocessResponse) -> dict:
    return components.probe_metadata(get_pipeline().probe_case(sample_id))


@tensorleap_custom_loss("categorical_crossentropy")
def categorical_crossentropy(sentiment: np.ndarray, prediction: np.ndarray) -> np.ndarray:
    return components.loss(sentiment, prediction)


@tensorleap_custom_metric("accuracy", direction=MetricDirection.Upward)
def accuracy(sentiment: np.ndarray, prediction: np.ndarray) -> np.ndarray:
    return components.accuracy(sentiment, prediction)


@tensorleap_custom_metric("class_recall", direction={f"recall_{label}": MetricDirection.Upward for label in LABELS})
def class_recall(sentiment: np.ndarray, prediction: np.ndarray) -> dict:
    return components.class_recall(sentiment, prediction, LABELS)


# How sure the model was, whatever the label: high confidence on a wrong sample is what a
# badly calibrated model shows; entropy rises where it hesitates between classes.
@tensorleap_custom_metric("confidence", direction={"confidence": MetricDirection.Upward,
                                                   "margin": MetricDirection.Upward,
                                                   "entropy": MetricDirection.Downward})
def confidence(prediction: np.ndarray) -> dict:
    return components.confidence(prediction)


@tensorleap_custom_metric("confusion_matrix", direction=MetricDirection.Upward)
def confusion_matrix(sentiment: np.ndarray, prediction: np.ndarray) -> List[List[ConfusionMatrixElement]]:
    return components.confusion_elements(sentiment, prediction, LABELS)


@tensorleap_custom_visualizer("probabilities", LeapDataType.HorizontalBar)
def probabilities_visualizer(prediction: np.ndarray, sentiment: np.ndarray) -> LeapHorizontalBar:
    return components.probabilities(prediction, sentiment, LABELS)


@tensorleap_custom_visualizer("ground_truth", LeapDataType.HorizontalBar)
def ground_truth_visualizer(sentiment: np.ndarray) -> LeapHorizontalBar:
    return components.ground_truth(sentiment, LABELS)
