"""``imdb-leap export``: the configured model as a file ``leap push`` accepts (.h5 or .onnx).

Why ONNX is verified on the spot: a conversion that silently changes the logits would make
every Tensorleap analysis wrong, so each export runs onnxruntime against Keras on real
reviews and refuses to keep a file whose logits differ by more than ``ONNX_TOLERANCE``. The
ONNX file records the digest of its Keras source (``ONNX_SOURCE_DIGEST_KEY``), so the loader
refuses it once the Keras model is retrained and not re-exported.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from imdb.contract.files import atomic_path
from imdb.contract.config import Config
from imdb.models.inference import batch_inputs, run_model
from imdb.contract.model_files import (H5_SUFFIX, INT8_ONNX_SUFFIX, LATENT_OUTPUT, LOGITS_OUTPUT, ONNX_SOURCE_DIGEST_KEY,
                                       ONNX_SUFFIX, SERVED_OUTPUTS, ModelError, model_path)
from imdb.contract.files import file_sha256
from imdb.models.loading import keras_model_file, load_keras_model, open_onnx, served_view
from imdb.runtime.pipeline import Pipeline

LOG = logging.getLogger(__name__)
ONNX_OPSET = 17
ONNX_TOLERANCE = 1e-4
VERIFY_SAMPLES = 32


def export(config: Config, fmt: str, *, verify_samples: int = VERIFY_SAMPLES,
           target: Path | None = None) -> dict[str, Any]:
    """Write ``model/<family>.<fmt>`` (or ``target``); return what was written and how it was checked."""
    model = load_keras_model(config)
    if fmt == "h5":
        target = target or model_path(config, H5_SUFFIX)
        try:
            with atomic_path(target) as tmp:
                model.save(tmp)
        except (ValueError, TypeError, NotImplementedError) as exc:
            raise ModelError(f"{config.model} cannot be saved as {target.name} ({exc}): "
                             f"export --format onnx instead") from exc
        return {"model": config.model, "format": fmt, "path": str(target), "bytes": target.stat().st_size}
    if fmt == "onnx-int8":
        return export_int8(config, verify_samples=verify_samples, target=target)
    if fmt != "onnx":
        raise ModelError(f"unknown export format {fmt!r}: use h5, onnx or onnx-int8")
    pipeline = Pipeline(config)
    target = target or model_path(config, ONNX_SUFFIX)
    with atomic_path(target) as tmp:
        _convert_to_onnx(model, pipeline.encoder.input_names, config.sequence_length, tmp)
        _record_source(tmp, keras_model_file(config))
        difference, n = _max_difference(model, tmp, pipeline, verify_samples)
        if difference > ONNX_TOLERANCE:
            raise ModelError(f"ONNX export of {config.model} differs from Keras by {difference:.2e} "
                             f"(> {ONNX_TOLERANCE:.0e}) on {n} validation reviews; not written to {target}")
    LOG.info("wrote %s (max |onnx - keras| = %.2e on %d reviews)", target, difference, n)
    return {"model": config.model, "format": fmt, "path": str(target), "bytes": target.stat().st_size,
            "verified_samples": n, "max_abs_difference": difference, "tolerance": ONNX_TOLERANCE}


def _convert_to_onnx(model: Any, input_names: tuple[str, ...], length: int, output: Path) -> None:
    """tf2onnx from a traced function: named float32 inputs, the served outputs ``logits`` and
    ``latent`` in that order (checked: tf2onnx orders a dict's outputs by key)."""
    import tensorflow as tf
    import tf2onnx

    served = served_view(model)
    signature = [tf.TensorSpec((None, length), tf.float32, name=name) for name in input_names]

    @tf.function(input_signature=signature)
    def forward(*inputs: tf.Tensor) -> dict[str, tf.Tensor]:
        logits, latent = served(list(inputs), training=False)
        return {LOGITS_OUTPUT: logits, LATENT_OUTPUT: latent}

    model_proto, _ = tf2onnx.convert.from_function(forward, input_signature=signature, opset=ONNX_OPSET)
    outputs = [node.name for node in model_proto.graph.output]
    if tuple(outputs) != SERVED_OUTPUTS:
        order = {name: position for position, name in enumerate(outputs)}
        permuted = [model_proto.graph.output[order[name]] for name in SERVED_OUTPUTS]
        del model_proto.graph.output[:]
        model_proto.graph.output.extend(permuted)
    output.write_bytes(model_proto.SerializeToString())


def _record_source(onnx_file: Path, keras_file: Path) -> None:
    """Stamp the ONNX file with the digest of the Keras file it was converted from."""
    import onnx

    model = onnx.load(str(onnx_file))
    entry = model.metadata_props.add()
    entry.key, entry.value = ONNX_SOURCE_DIGEST_KEY, file_sha256(keras_file)
    onnx.save(model, str(onnx_file))


def _max_difference(model: Any, onnx_file: Path, pipeline: Pipeline, samples: int) -> tuple[float, int]:
    """Largest absolute logit difference between onnxruntime and Keras on validation reviews."""
    session = open_onnx(onnx_file)
    ids = pipeline.split_ids("validation")[:samples]
    inputs = batch_inputs(pipeline, ids)
    keras_logits = run_model(model, inputs)
    onnx_logits = run_model(session, inputs)
    return float(np.max(np.abs(keras_logits - onnx_logits))), len(ids)


def export_int8(config: Config, *, verify_samples: int = VERIFY_SAMPLES, target: Path | None = None,
                source: Path | None = None) -> dict[str, Any]:
    """``<family>.int8.onnx``: onnxruntime's dynamic quantisation of the float32 ONNX file.

    Why dynamic int8: MatMul weights are stored as int8 and activations quantised per batch at
    run time, so no calibration data is needed and the file is a quarter of the size; the
    logits move (no tolerance check as for float32), and what that costs in accuracy on the
    validation split is measured by ``imdb-leap bench`` (the ``inference`` section). The
    float32 file is exported first when it is missing.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    source = source or model_path(config, ONNX_SUFFIX)
    if not source.exists():
        export(config, "onnx", verify_samples=verify_samples, target=source)
    target = target or model_path(config, INT8_ONNX_SUFFIX)
    with atomic_path(target) as tmp:
        quantize_dynamic(str(source), str(tmp), weight_type=QuantType.QInt8)
        difference, n = _max_difference(load_keras_model(config), tmp, Pipeline(config), verify_samples)
    LOG.info("wrote %s (max |int8 - keras| = %.2e on %d reviews)", target, difference, n)
    return {"model": config.model, "format": "onnx-int8", "path": str(target), "bytes": target.stat().st_size,
            "source": str(source), "verified_samples": n, "max_abs_difference": difference}
