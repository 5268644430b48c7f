"""Word-model training (dense, CNN, RNN): vocabulary, fit, choose the epoch on a holdout, score validation once, save.

The epoch is chosen on a holdout carved from the training split (``early_stopping_holdout``:
stratified and grouped by movie like the validation split, seeded): early stopping watches its
loss and restores the best epoch's weights, and the model is fitted on the rest of the training
split. The validation split takes no part in fitting or selecting; it is scored once, at the end,
so the validation figures the card reports are of reviews nothing was chosen on.

Why it writes a model card: every number the README quotes must be reproducible from a
command, so the card records the settings, the data source and the validation figures the
run measured, beside the model it describes.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np

from imdb.contract.config import Config, ConfigError
from imdb.contract.model_files import EMBEDDING_LAYER, WORD_INPUT
from imdb.contract.names import TRAINING, VALIDATION
from imdb.models.build import build_model
from imdb.runtime import scoring
from imdb.runtime.pipeline import Pipeline
from imdb.text.words import WordVocabulary, words
from imdb.training import balance, distill
from imdb.training.artifacts import classes_card, save_keras_model, write_card

LOG = logging.getLogger(__name__)
EARLY_STOPPING_PATIENCE = 2


def word_arrays(pipeline: Pipeline, ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Encoded inputs and one-hot labels of ``ids``, through the same encoder the binder uses."""
    inputs = np.stack([pipeline.model_input(i, WORD_INPUT) for i in ids])
    labels = np.stack([pipeline.ground_truth(i) for i in ids])
    return inputs, labels


def with_transfer_set(pipeline: Pipeline, transfer: distill.TransferSet, inputs: np.ndarray, targets: np.ndarray,
                      weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The fitted reviews followed by the teacher-labelled ones: their targets the teacher's
    probabilities, their loss weight 1 (the mean of inverse-frequency weights, when those are on)."""
    unlabeled = np.stack([pipeline.model_input(i, WORD_INPUT) for i in transfer.ids])
    if weights is not None:
        weights = np.concatenate([weights, np.ones(len(transfer.ids), np.float32)])
    return (np.concatenate([inputs, unlabeled]), np.concatenate([targets, transfer.probabilities]), weights)


def initialise_from_checkpoint(model: Any, vocabulary: WordVocabulary, config: Config, dim: int) -> None:
    """Start the word embedding from the BERT checkpoint's WordPiece vectors (``embedding_init``)."""
    from imdb.training.word_init import checkpoint_word_vectors

    try:
        vectors = checkpoint_word_vectors(vocabulary, config, dim)
    except ConfigError as exc:
        raise ConfigError(f"setting '{config.model}.embedding_init: checkpoint' reads the BERT checkpoint's "
                          f"WordPiece vectors (set it to random to train without them): {exc}") from exc
    model.get_layer(EMBEDDING_LAYER).set_weights([vectors])
    LOG.info("embedding initialised from the WordPiece table of %s", config.bert.checkpoint)


def train_word_model(config: Config, *, progress: bool = True) -> dict[str, Any]:
    """Build the vocabulary from the training split, fit the word family (dense, CNN or RNN), save model and card."""
    import keras
    from tqdm.keras import TqdmCallback

    keras.utils.set_random_seed(config.seed)
    pipeline = Pipeline(config)
    corpus = pipeline.corpus
    training_ids = corpus.ids(TRAINING)
    vocabulary = WordVocabulary.build((words(corpus[i].text, keep_scores=config.text.keep_scores)
                                       for i in training_ids), config.text.vocab_size)
    vocabulary.save(config.text.vocab_file)
    LOG.info("vocabulary of %d words written to %s", len(vocabulary), config.text.vocab_file)

    params = config.word_params
    fitted_ids, holdout_ids = corpus.holdout(pipeline.split_ids(TRAINING), config.early_stopping_holdout,
                                             config.seed)
    x_train, y_train = word_arrays(pipeline, fitted_ids)
    x_holdout, y_holdout = word_arrays(pipeline, holdout_ids)
    train_labels = np.argmax(y_train, axis=-1)
    if config.class_balance == balance.OVERSAMPLE:
        chosen = balance.oversampled_positions(train_labels, config.seed)
        x_train, y_train, train_labels = x_train[chosen], y_train[chosen], train_labels[chosen]
    weights = balance.sample_weights(train_labels, len(pipeline.labels), config.class_balance)
    transfer = distill.transfer_set(config, pipeline, fitted_ids, holdout_ids)
    if transfer is not None:
        x_train, y_train, weights = with_transfer_set(pipeline, transfer, x_train, y_train, weights)
    model = build_model(config, len(vocabulary), len(pipeline.labels))
    if params.embedding_init == "checkpoint":
        initialise_from_checkpoint(model, vocabulary, config, params.embedding_dim)
    model.compile(optimizer=keras.optimizers.Adam(params.learning_rate),
                  loss=keras.losses.CategoricalCrossentropy(from_logits=True,
                                                            label_smoothing=params.label_smoothing),
                  metrics=["accuracy"])
    # Keras names the metrics of validation_data "val_": here they are the holdout's.
    callbacks = [keras.callbacks.EarlyStopping(monitor="val_loss", patience=EARLY_STOPPING_PATIENCE,
                                               restore_best_weights=True)]
    if progress:
        callbacks.append(TqdmCallback(verbose=1))
    started = time.perf_counter()
    history = model.fit([x_train], y_train, sample_weight=weights, validation_data=([x_holdout], y_holdout),
                        epochs=params.epochs, batch_size=params.batch_size, callbacks=callbacks, verbose=0)
    seconds = time.perf_counter() - started
    # Both scored like `imdb-leap evaluate` (plain cross-entropy, no label smoothing); validation
    # only now, once, after every choice is made.
    holdout = scoring.summarize(np.argmax(y_holdout, axis=-1), model.predict([x_holdout], verbose=0),
                                pipeline.labels)
    x_val, y_val = word_arrays(pipeline, pipeline.split_ids(VALIDATION))
    validation = scoring.summarize(np.argmax(y_val, axis=-1), model.predict([x_val], verbose=0), pipeline.labels)
    files = save_keras_model(model, config)
    card = {
        "family": config.model,
        "data": config.as_given("data"),
        "train_samples": int(len(x_train)) - (0 if transfer is None else len(transfer.ids)),
        **distillation_card(config, transfer),
        "early_stopping_holdout": config.early_stopping_holdout,
        "holdout_samples": int(len(x_holdout)),
        "validation_samples": int(len(x_val)),
        "vocab_size": len(vocabulary),
        **({"keep_scores": True} if config.text.keep_scores else {}),
        "sequence_length": config.text.sequence_length,
        "epochs_run": len(history.history["loss"]),
        "train_seconds": round(seconds, 1),
        "holdout_accuracy": round(holdout["accuracy"], 4),
        "holdout_loss": round(holdout["loss"], 4),
        "holdout_macro_f1": round(holdout["macro_f1"], 4),
        "validation_accuracy": round(validation["accuracy"], 4),
        "validation_loss": round(validation["loss"], 4),
        "validation_macro_f1": round(validation["macro_f1"], 4),
        **classes_card(config, pipeline, validation),
        "params": {key: value for key, value in vars(params).items() if value not in (0, (), "")},
        "files": [str(path.name) for path in files],
    }
    write_card(config, card)
    return card


def distillation_card(config: Config, transfer: distill.TransferSet | None) -> dict[str, Any]:
    """The card's account of the teacher: none, or who labelled how many unlabelled reviews, how well."""
    if transfer is None:
        return {}
    return {"distillation": {"teacher": config.distillation.teacher, "unlabeled_reviews": len(transfer.ids),
                             "left_out_for_movie": transfer.excluded_for_movies,
                             "teacher_holdout_accuracy": round(transfer.teacher_holdout_accuracy, 4)}}
