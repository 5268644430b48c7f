"""Saving what training produced: servable Keras files and the model card beside them."""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from imdb.contract.config import Config
from imdb.contract.files import atomic_path, atomic_write_text
from imdb.contract.model_files import H5_SUFFIX, KERAS_SUFFIX, card_path, model_path
from imdb.models.loading import custom_objects

# Decimals of the accuracy and loss a card records.
CARD_DIGITS = 4


def inference_copy(model: Any, config: Config) -> Any:
    """The model without its optimizer state: a third of the size, and all the platform needs
    (it only runs inference). Round-trips through an uncompiled load."""
    import keras

    with tempfile.TemporaryDirectory(prefix="imdb-save-") as scratch:
        staged = Path(scratch) / f"model{KERAS_SUFFIX}"
        model.save(staged)
        return keras.models.load_model(staged, compile=False, custom_objects=custom_objects(config.uses_bert))


# The weights file inside a ``.keras`` archive.
KERAS_WEIGHTS_ENTRY = "model.weights.h5"


def save_keras_model(model: Any, config: Config) -> list[Path]:
    """Write ``<family>.h5`` (what ``leap push`` takes) and ``<family>.keras``, each atomically.

    BERT's (and the ensemble's) ``.keras`` stores its weights in float16 (see ``store_half_precision``): it is the
    file the repository ships, within its 50 MB limit, while the float32 ``.h5`` stays local.
    """
    servable = inference_copy(model, config)
    written = []
    for suffix in (H5_SUFFIX, KERAS_SUFFIX):
        target = model_path(config, suffix)
        with atomic_path(target) as tmp:
            servable.save(tmp)
            if config.uses_bert and suffix == KERAS_SUFFIX:
                store_half_precision(tmp)
        written.append(target)
    return written


def score_shipped_file(config: Config, pipeline: Any, ids: Sequence[str]) -> dict[str, Any]:
    """Accuracy and loss of the saved ``<family>.keras`` — the file the repository ships —
    scored exactly as ``imdb-leap evaluate`` scores it (``models.inference.score_ids``), so
    the card's headline figure is what a user reproduces from a fresh clone."""
    import keras

    from imdb.models.inference import score_ids

    model = keras.models.load_model(model_path(config, KERAS_SUFFIX), compile=False,
                                    custom_objects=custom_objects(config.uses_bert))
    summary = score_ids(pipeline, model, ids, progress=False)
    return {"accuracy": round(summary["accuracy"], CARD_DIGITS), "loss": round(summary["loss"], CARD_DIGITS),
            "summary": summary}


def store_half_precision(archive: Path) -> None:
    """Rewrite a ``.keras`` archive's float32 weights as float16, in place.

    Why this works unchanged for every reader: ``keras.models.load_model`` assigns each stored
    array to a variable of the layer's own dtype (float32), casting on the way, so the model
    that loads computes in float32 exactly as before; only the weights are rounded to float16
    (a relative error of at most 2^-11), which halves the file. The accuracy of the rounded
    model is measured against the float32 one (see "The shipped model" in docs/models.md).
    """
    import h5py

    with zipfile.ZipFile(archive) as source:
        entries = {name: source.read(name) for name in source.namelist()}
    halved = io.BytesIO()
    with h5py.File(io.BytesIO(entries[KERAS_WEIGHTS_ENTRY]), "r") as weights, h5py.File(halved, "w") as out:
        _copy_attributes(weights, out)
        weights.visititems(lambda name, item: _copy_halved(name, item, out))
    entries[KERAS_WEIGHTS_ENTRY] = halved.getvalue()
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for name, data in entries.items():
            target.writestr(name, data)


def _copy_attributes(source: Any, target: Any) -> None:
    for key, value in source.attrs.items():
        target.attrs[key] = value


def _copy_halved(name: str, item: Any, out: Any) -> None:
    import h5py

    if isinstance(item, h5py.Dataset):
        data = item[()]
        if isinstance(data, np.ndarray) and data.dtype == np.float32:
            data = data.astype(np.float16)
        out.create_dataset(name, data=data)
        _copy_attributes(item, out[name])
    else:
        _copy_attributes(item, out.require_group(name))


def classes_card(config: Config, pipeline: Any, validation: dict[str, Any]) -> dict[str, Any]:
    """What a card says of the classes: their names (checked when the model is loaded), the task,
    the imbalance remedy, recall per class and, for star ratings, the mean absolute star error."""
    recall = validation["per_class_recall"]
    card: dict[str, Any] = {
        "task": "table" if config.is_table else config.task,
        "labels": list(pipeline.labels),
        "class_balance": config.class_balance,
        "validation_per_class_recall": {name: None if value is None else round(value, CARD_DIGITS)
                                        for name, value in recall.items()},
    }
    if "star_mae" in validation:
        card["validation_star_mae"] = round(validation["star_mae"], CARD_DIGITS)
    return card


def write_card(config: Config, card: dict[str, Any]) -> Path:
    path = card_path(config)
    atomic_write_text(path, json.dumps(card, indent=2, sort_keys=True) + "\n")
    return path
