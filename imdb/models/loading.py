"""Loading a trained model: Keras or onnxruntime, imported inside the loader, with load-time checks.

Why: the family and file format are configuration, so everything that needs a model (the
integration's ``load_model``, evaluate, export, analyze, bench) asks this module, and a
mismatch (wrong vocabulary, wrong sequence length, missing file) fails here with the file
named instead of as a shape error deep inside TensorFlow. This module (and what it imports
at module level) is the only part of the model layer the push bundle carries.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Sequence

from imdb.contract.config import Config
from imdb.contract.model_files import (EMBEDDING_LAYER, H5_SUFFIX, KERAS_SUFFIX, LATENT_LAYER, ONNX_SOURCE_DIGEST_KEY,
                                       SERVED_OUTPUTS, ModelError, card_path, model_path, read_card)
from imdb.contract.files import file_sha256


def load_keras_model(config: Config, labels: Sequence[str] | None = None) -> Any:
    """The trained Keras model of the configured family, checked against the configuration
    (and against the classes ``labels``, when given)."""
    path = keras_model_file(config)
    model = _load_keras_cached(str(path), path.stat().st_mtime_ns, config.uses_bert)
    _check_inputs(config, model, path)
    if labels is not None:
        check_classes(config, int(model.outputs[0].shape[-1]), labels, path)
    return model


def check_classes(config: Config, outputs: int, labels: Sequence[str], path: Path) -> None:
    """Refuse a model whose head has another number of classes than the data, or (where its
    card says) other classes: its logits would be read as the wrong classes."""
    where = f"data {config.data}" + (f", task {config.task}" if not config.is_table else "")
    if outputs != len(labels):
        raise ModelError(
            f"model {path} has {outputs} output classes but {where} has {len(labels)} ({', '.join(labels)}): "
            f"train it for these classes (`imdb-leap train --model {config.model}`) or point the config at the "
            f"data and task it was trained for")
    trained = read_card(config).get("labels")
    if trained is not None and list(trained) != list(labels):
        raise ModelError(
            f"model {path} was trained for the classes {', '.join(trained)} (its card {card_path(config).name}), "
            f"but {where} has {', '.join(labels)}: retrain it, or serve the data it was trained on")


def load_inference_model(config: Config, labels: Sequence[str] | None = None) -> Any:
    """What ``tensorleap_load_model`` returns: an onnxruntime session of the exported graph (float32,
    or int8 with ``model_format: onnx-int8``), or the Keras model viewed with the same two outputs
    (``SERVED_OUTPUTS``: logits, latent)."""
    if config.model_format in ("onnx", "onnx-int8"):
        path = model_path(config)
        if not path.exists():
            raise ModelError(
                f"ONNX model {path} not found for model '{config.model}' (model_format: {config.model_format} "
                f"in {config.source_file}): run `imdb-leap export --model {config.model} "
                f"--format {config.model_format}`")
        session = _load_onnx_cached(str(path), path.stat().st_mtime_ns)
        _check_served_outputs([output.name for output in session.get_outputs()], path, config)
        _check_onnx_source(config, session, path)
        _check_standardisation(config, path)
        width = session.get_outputs()[0].shape[-1]
        if labels is not None and isinstance(width, int):
            check_classes(config, width, labels, path)
        return session
    return served_view(load_keras_model(config, labels))


def served_view(model: Any) -> Any:
    """The Keras model with the served outputs ``[logits, latent layer]`` (shares its weights)."""
    import keras

    try:
        latent = model.get_layer(LATENT_LAYER).output
    except ValueError as exc:
        raise ModelError(f"model {model.name!r} has no {LATENT_LAYER!r} layer to serve as its latent space") from exc
    return keras.Model(model.inputs, [model.outputs[0], latent], name=f"{model.name}_served")


def _check_served_outputs(names: list[str], path: Path, config: Config) -> None:
    if tuple(names) != SERVED_OUTPUTS:
        raise ModelError(
            f"ONNX model {path} returns {names}, not {list(SERVED_OUTPUTS)}: it was exported by an older "
            f"version; run `imdb-leap export --model {config.model} --format onnx` again")


def _keras_files(config: Config) -> list[Path]:
    """The family's Keras files on disk, in the order the loader prefers them."""
    return [path for path in (model_path(config, H5_SUFFIX), model_path(config, KERAS_SUFFIX)) if path.exists()]


def keras_model_file(config: Config) -> Path:
    """The Keras file ``load_keras_model`` reads (and ``imdb-leap export`` converts)."""
    existing = _keras_files(config)
    if existing:
        return existing[0]
    raise ModelError(
        f"no trained model for '{config.model}' in {config.model_dir} (looked for "
        f"{model_path(config, H5_SUFFIX).name} and {model_path(config, KERAS_SUFFIX).name}): "
        f"run `imdb-leap train --model {config.model}`")


def custom_objects(is_bert: bool) -> dict[str, Any]:
    """What ``keras.models.load_model`` needs to rebuild a family (the BERT layers; none for words)."""
    if not is_bert:
        return {}
    from imdb.models.bert_layers import custom_objects as bert_custom_objects

    return bert_custom_objects()


@functools.lru_cache(maxsize=4)
def _load_keras_cached(path: str, _mtime_ns: int, is_bert: bool) -> Any:
    """Loaded once per process and file version: the platform calls load_model repeatedly."""
    try:
        import keras
    except ImportError as exc:
        raise ModelError(
            f"cannot load Keras model {path}: Keras is not installed. The integration's requirements.txt "
            f"serves ONNX (model_format: onnx); install Keras to serve .h5 files") from exc
    try:
        return keras.models.load_model(path, compile=False, custom_objects=custom_objects(is_bert))
    except (OSError, ValueError, TypeError) as exc:
        raise ModelError(f"cannot load Keras model {path}: {exc}") from exc


def _check_onnx_source(config: Config, session: Any, path: Path) -> None:
    """Refuse an ONNX file exported from another version of the Keras model beside it.

    Files exported by ``imdb-leap export`` record the digest of their Keras source; where that
    source is absent (the platform holds the ONNX file alone) or the file was exported by other
    means (no digest), there is nothing to compare.
    """
    recorded = session.get_modelmeta().custom_metadata_map.get(ONNX_SOURCE_DIGEST_KEY)
    existing = _keras_files(config)
    if recorded is None or not existing:
        return
    source = existing[0]
    if _digest_cached(str(source), source.stat().st_mtime_ns) != recorded:
        raise ModelError(
            f"ONNX model {path} was exported from another version of {source} (retrained since?): "
            f"run `imdb-leap export --model {config.model} --format onnx` so the file you push is the model "
            f"you trained, or serve Keras with model_format: h5")


@functools.lru_cache(maxsize=8)
def _digest_cached(path: str, _mtime_ns: int) -> str:
    """Hashed once per process and file version: the platform calls load_model repeatedly."""
    return file_sha256(Path(path))


@functools.lru_cache(maxsize=4)
def _load_onnx_cached(path: str, _mtime_ns: int) -> Any:
    """Loaded once per process and file version, like the Keras model."""
    return open_onnx(path)


def open_onnx(path: str | Path) -> Any:
    """An onnxruntime session on the CPU (uncached: export checks and benchmarks open their own)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    # Every graph rewrite onnxruntime has (constant folding, attention and GELU fusion, ...).
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise ModelError(f"cannot load ONNX model {path}: {exc}") from exc


def _check_inputs(config: Config, model: Any, path: Path) -> None:
    """Fail at load time, naming files and settings, when the model cannot read our encoders."""
    if config.is_ensemble:
        _check_ensemble_inputs(config, model, path)
        return
    shapes = [tuple(tensor.shape) for tensor in model.inputs]
    lengths = {shape[1] for shape in shapes if len(shape) > 1}
    if lengths != {config.sequence_length}:
        setting = "bert.max_len" if config.is_bert else "ngram.max_ngrams" if config.is_ngram else "text.sequence_length"
        raise ModelError(
            f"model {path} reads sequences of length {sorted(lengths)} but {setting} is "
            f"{config.sequence_length} in {config.source_file}: retrain or fix the setting")
    if config.is_bert:
        return
    _check_vocabulary(config, model.get_layer(EMBEDDING_LAYER).input_dim, path)
    _check_standardisation(config, path)


def _check_standardisation(config: Config, path: Path) -> None:
    """A word model reads its words as it was trained to: with or without stated scores kept
    whole (its card's ``keep_scores``), else "7/10" would reach it as ids it never learnt."""
    if config.uses_bert or config.uses_ngrams:
        return
    trained = bool(read_card(config).get("keep_scores", False))
    if trained != config.text.keep_scores:
        raise ModelError(
            f"model {path} was trained with {config.model}.keep_scores: {str(trained).lower()} (its card "
            f"{card_path(config).name}) but {config.source_file} resolves it to "
            f"{str(config.text.keep_scores).lower()} (task {config.task}): set {config.model}.keep_scores to "
            f"match, or retrain the model with these settings")


def _check_vocabulary(config: Config, embedding_rows: int, path: Path) -> None:
    from imdb.text.words import WordVocabulary

    vocab_file = config.ngram.vocab_file if config.uses_ngrams else config.text.vocab_file
    vocab = WordVocabulary.load(vocab_file, family="ngram" if config.uses_ngrams else config.model)
    if embedding_rows != len(vocab):
        raise ModelError(
            f"vocabulary/model mismatch: {vocab_file} has {len(vocab)} tokens but "
            f"model {path} embeds {embedding_rows}: retrain the model or restore its vocabulary")


def _check_ensemble_inputs(config: Config, model: Any, path: Path) -> None:
    """The ensemble's inputs by name: BERT's at ``bert.max_len``, the n-gram ids at ``ngram.max_ngrams``."""
    from imdb.contract.model_files import WORD_INPUT, input_names

    expected = {name: config.bert.max_len for name in input_names(config)}
    expected[WORD_INPUT] = config.ngram.max_ngrams
    found = {tensor.name.split(":")[0]: tensor.shape[1] for tensor in model.inputs}
    if found != expected:
        raise ModelError(
            f"ensemble model {path} reads {found} but the configuration ({config.source_file}: bert.max_len, "
            f"ngram.max_ngrams) gives {expected}: retrain it with `imdb-leap train --model ensemble`")
    _check_vocabulary(config, model.get_layer("ngram").get_layer(EMBEDDING_LAYER).input_dim, path)
