"""The BERT backbone with its pretrained weights, read from a located checkpoint directory.

Why a reader of our own: keras-hub's ``from_preset`` reads Hugging Face checkpoints through
the ``safetensors`` package, which this project does not install, and it cannot tell the
user which *setting* pointed at a bad directory. The safetensors format is a JSON header
plus raw little-endian arrays, so it is read here with numpy; the mapping of Hugging Face
weight names onto keras-hub's ``BertBackbone`` is keras-hub's own (``convert_bert``), so the
backbone is the one ``from_preset`` would build.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any, Callable

import numpy as np

from imdb.contract.config import ConfigError
from imdb.text.checkpoint import CHECKPOINT_SETTING, CONFIG_FILE, WEIGHTS_FILE

SUPPORTED_MODEL_TYPE = "bert"
_HEADER_SIZE_BYTES = 8
_METADATA_KEY = "__metadata__"
_BF16_SHIFT = 16
_NUMPY_DTYPES = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16,
    "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_,
}


def read_hf_config(directory: str) -> dict[str, Any]:
    """``config.json``, checked to describe a BERT encoder (the only architecture we map)."""
    path = Path(directory) / CONFIG_FILE
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"setting '{CHECKPOINT_SETTING}': cannot read {path}: {exc}") from exc
    model_type = config.get("model_type")
    if model_type != SUPPORTED_MODEL_TYPE:
        raise ConfigError(
            f"setting '{CHECKPOINT_SETTING}': {path} describes a {model_type!r} model; only "
            f"{SUPPORTED_MODEL_TYPE!r} checkpoints (BERT, MiniLM, ...) are supported")
    return config


class SafetensorsReader:
    """Tensors of one ``.safetensors`` file, memory-mapped and read on demand.

    Also the weight-porting interface keras-hub's converters call (``get_tensor`` and
    ``port_weight``), so keras-hub's own name mapping fills the backbone. Names are matched
    exactly or by suffix, because some checkpoints prefix every key (``bert.``) and some do not.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        with open(self.path, "rb") as handle:
            (header_size,) = struct.unpack("<Q", handle.read(_HEADER_SIZE_BYTES))
            header = json.loads(handle.read(header_size))
        header.pop(_METADATA_KEY, None)
        self._entries: dict[str, dict[str, Any]] = header
        self._data = np.memmap(self.path, dtype=np.uint8, mode="r", offset=_HEADER_SIZE_BYTES + header_size)
        self.ported: set[int] = set()

    def keys(self) -> list[str]:
        return list(self._entries)

    def _full_key(self, key: str) -> str:
        if key in self._entries:
            return key
        matches = [name for name in self._entries if name.endswith("." + key)]
        if len(matches) != 1:
            raise KeyError(f"tensor {key!r} not found in {self.path}")
        return matches[0]

    def get_tensor(self, key: str) -> np.ndarray:
        entry = self._entries[self._full_key(key)]
        begin, end = entry["data_offsets"]
        raw = self._data[begin:end]
        if entry["dtype"] == "BF16":
            widened = raw.view(np.uint16).astype(np.uint32) << _BF16_SHIFT
            return widened.view(np.float32).reshape(entry["shape"])
        if entry["dtype"] not in _NUMPY_DTYPES:
            raise ValueError(f"tensor {key!r} in {self.path} has unsupported dtype {entry['dtype']}")
        return np.asarray(raw.view(_NUMPY_DTYPES[entry["dtype"]]).reshape(entry["shape"]))

    def port_weight(self, keras_variable: Any, hf_weight_key: str,
                    hook_fn: Callable[[np.ndarray, list[int]], np.ndarray] | None = None) -> None:
        tensor = self.get_tensor(hf_weight_key)
        if hook_fn is not None:
            tensor = hook_fn(tensor, list(keras_variable.shape))
        if tuple(tensor.shape) != tuple(keras_variable.shape):
            raise ValueError(
                f"tensor {hf_weight_key!r} in {self.path} has shape {tuple(tensor.shape)} but the backbone "
                f"expects {tuple(keras_variable.shape)}: config.json does not match the weights")
        keras_variable.assign(np.asarray(tensor, dtype=np.float32))
        self.ported.add(id(keras_variable))


def load_backbone(directory: str, dtype: str | None = None) -> Any:
    """A keras-hub ``BertBackbone`` with the checkpoint's pretrained weights (``dtype``: its Keras policy).

    Fails if any backbone variable was left at its random initialisation, so a keras-hub
    upgrade that renames layers cannot silently fine-tune a half-random network.
    """
    from keras_hub.models import BertBackbone
    from keras_hub.src.utils.transformers import convert_bert

    hf_config = read_hf_config(directory)
    backbone = BertBackbone(**convert_bert.convert_backbone_config(hf_config), dtype=dtype)
    reader = SafetensorsReader(Path(directory) / WEIGHTS_FILE)
    convert_bert.convert_weights(backbone, reader, hf_config)
    unfilled = [variable.path for variable in backbone.weights if id(variable) not in reader.ported]
    if unfilled:
        raise ConfigError(
            f"setting '{CHECKPOINT_SETTING}': {directory} left {len(unfilled)} backbone weights "
            f"unset (first: {unfilled[0]})")
    return backbone
