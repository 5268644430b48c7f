"""Tensorleap entry file: loads the configured model and wires the components together.

``load_model`` returns the model chosen by ``imdb/project_config.yaml`` (family and format:
by default an onnxruntime session of ``model/<family>.onnx``, the file ``leap push -m``
uploads); ``integration_test`` only calls decorated functions, as code-loader requires, and on
the unlabelled state only those that need no ground truth (as the platform does).
Running this file checks a few samples of every split locally and plots one sample's
visualizers; only that local run imports code-loader's ``visualize`` (and so matplotlib),
which the platform, installing ``requirements.txt`` alone, does not have: there it says so in
one line and exits 0.
"""

import importlib.util
import sys

import imdb  # noqa: F401  (switches code-loader analytics off before code_loader is imported)

from code_loader.contract.datasetclasses import PredictionTypeHandler
from code_loader.contract.enums import DataStateType
from code_loader.inner_leap_binder.leapbinder_decorators import tensorleap_integration_test, tensorleap_load_model

from leap_binder import (
    CONFIG,
    HAS_UNLABELED,
    LABELS,
    accuracy,
    REVIEW_FIELDS,
    categorical_crossentropy,
    class_recall,
    confidence,
    confusion_matrix,
    content_latent_space,
    ground_truth_visualizer,
    metadata_label,
    metadata_readability,
    metadata_probe,
    metadata_sentiment_lexicon,
    metadata_text,
    model_latent_space,
    preprocess,
    probabilities_visualizer,
    review_visualizer,
    sentiment,
)
from imdb.contract.model_files import (ATTENTION_MASK, INPUT_IDS, LATENT_OUTPUT, TOKEN_TYPE_IDS, WORD_INPUT,
                                       token_input)
from imdb.contract.config import INT8_ONNX_FORMAT, ONNX_FORMAT
from imdb.models.loading import load_inference_model

if REVIEW_FIELDS:
    from leap_binder import metadata_review
if HAS_UNLABELED:
    from leap_binder import unlabeled_preprocess
if CONFIG.uses_bert:
    from leap_binder import attention_mask, input_ids, token_type_ids
if not CONFIG.is_bert:
    from leap_binder import input_tokens

SAMPLES_PER_SPLIT = 3


# One handler per served output (logits, latent); the latent output is read by the model latent
# space, not as a prediction, so its handler only keeps the count right.
@tensorleap_load_model([PredictionTypeHandler("sentiment", LABELS, channel_dim=-1),
                        PredictionTypeHandler(LATENT_OUTPUT, [LATENT_OUTPUT], channel_dim=-1)])
def load_model():
    return load_inference_model(CONFIG, LABELS)


def _model_inputs(sample_id, subset):
    """The configured family's encoders, in the model's input order (BERT's three, then the word
    or n-gram ids; the ensemble reads both)."""
    inputs = {}
    if CONFIG.uses_bert:
        inputs.update({INPUT_IDS: input_ids(sample_id, subset), ATTENTION_MASK: attention_mask(sample_id, subset),
                       TOKEN_TYPE_IDS: token_type_ids(sample_id, subset)})
    if not CONFIG.is_bert:
        inputs[WORD_INPUT] = input_tokens(sample_id, subset)
    return inputs


def _predict(model, inputs):
    """The served outputs (logits, latent): onnxruntime's ``run`` or a Keras call."""
    if CONFIG.model_format in (ONNX_FORMAT, INT8_ONNX_FORMAT):
        return model.run(None, inputs)
    return model(list(inputs.values()))


@tensorleap_integration_test()
def integration_test(sample_id, subset):
    inputs = _model_inputs(sample_id, subset)
    # Indexed, not unpacked: in code-loader's mapping pass the outputs are a placeholder.
    outputs = _predict(load_model(), inputs)
    prediction = outputs[0]
    latent = outputs[1]

    model_latent_space(latent)
    content_latent_space(sample_id, subset)
    confidence(prediction)
    review_visualizer(inputs[token_input(CONFIG)])
    metadata_label(sample_id, subset)
    metadata_text(sample_id, subset)
    metadata_sentiment_lexicon(sample_id, subset)
    if REVIEW_FIELDS:
        metadata_review(sample_id, subset)
    metadata_readability(sample_id, subset)
    metadata_probe(sample_id, subset)
    # The mapping pass runs with a training state, so every component below is mapped too.
    if subset.state == DataStateType.unlabeled:
        return

    gt = sentiment(sample_id, subset)
    categorical_crossentropy(gt, prediction)
    accuracy(gt, prediction)
    class_recall(gt, prediction)
    confusion_matrix(gt, prediction)
    probabilities_visualizer(prediction, gt)
    ground_truth_visualizer(gt)


def served_subsets() -> list:
    """Every preprocess response the platform gets: the labelled states (the probe state
    included), then the unlabelled state where the source has one."""
    return [*preprocess(), *([unlabeled_preprocess()] if HAS_UNLABELED else [])]


def run_local_check(samples_per_split: int = SAMPLES_PER_SPLIT) -> dict[str, int]:
    """Run the integration test on the first samples of every served state; return how many
    ran per state (``DataStateType`` name)."""
    checked: dict[str, int] = {}
    for subset in served_subsets():
        for sample_id in subset.sample_ids[:samples_per_split]:
            integration_test(sample_id, subset)
            checked[subset.state.name] = checked.get(subset.state.name, 0) + 1
    return checked


def plot_first_sample(visualize) -> None:
    """Plot the visualizers of the first training sample with code-loader's ``visualize``.

    Outside the integration test the encoders return one unbatched sample, so the model and
    the visualizers get a batch of one.
    """
    subset = preprocess()[0]
    sample_id = subset.sample_ids[0]
    inputs = {name: value[None] for name, value in _model_inputs(sample_id, subset).items()}
    prediction = _predict(load_model(), inputs)[0]
    gt = sentiment(sample_id, subset)[None]
    visualize(review_visualizer(inputs[token_input(CONFIG)]))
    visualize(probabilities_visualizer(prediction, gt))
    visualize(ground_truth_visualizer(gt))


def main() -> int:
    """The vendor's local check: the integration test on every split, then the first sample's
    visualizers plotted — or, where matplotlib is absent (the platform's requirements-only
    venv), one line saying the plots were skipped and how to get them."""
    checked = run_local_check()
    states = ", ".join(f"{state} {count}" for state, count in checked.items())
    print(f"integration test passed on {sum(checked.values())} samples ({states}; {CONFIG.model}, {CONFIG.model_format})")
    if importlib.util.find_spec("matplotlib") is None:
        print("plots skipped: matplotlib is not installed (pip install matplotlib, or poetry install, to see them)")
        return 0
    from code_loader.plot_functions.visualize import visualize

    plot_first_sample(visualize)
    return 0


if __name__ == "__main__":
    sys.exit(main())
