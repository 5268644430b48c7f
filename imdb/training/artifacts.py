"""Saving what training produced: servable Keras files and the model card beside them."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from imdb.contract.config import Config
from imdb.contract.files import atomic_path, atomic_write_text
from imdb.contract.model_files import H5_SUFFIX, KERAS_SUFFIX, card_path, model_path
from imdb.models.loading import custom_objects


def inference_copy(model: Any, config: Config) -> Any:
    """The model without its optimizer state: a third of the size, and all the platform needs
    (it only runs inference). Round-trips through an uncompiled load."""
    import keras

    with tempfile.TemporaryDirectory(prefix="imdb-save-") as scratch:
        staged = Path(scratch) / f"model{KERAS_SUFFIX}"
        model.save(staged)
        return keras.models.load_model(staged, compile=False, custom_objects=custom_objects(config.is_bert))


def save_keras_model(model: Any, config: Config) -> list[Path]:
    """Write ``<family>.h5`` (what ``leap push`` takes) and ``<family>.keras``, each atomically."""
    servable = inference_copy(model, config)
    written = []
    for suffix in (H5_SUFFIX, KERAS_SUFFIX):
        target = model_path(config, suffix)
        with atomic_path(target) as tmp:
            servable.save(tmp)
        written.append(target)
    return written


def write_card(config: Config, card: dict[str, Any]) -> Path:
    path = card_path(config)
    atomic_write_text(path, json.dumps(card, indent=2, sort_keys=True) + "\n")
    return path
