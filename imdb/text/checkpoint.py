"""Where the BERT checkpoint lives: a local Hugging Face-format directory or ``hf://ORG/NAME``.

Why in the text layer: the WordPiece encoder needs only the checkpoint's ``vocab.txt`` and its
lower-casing setting, never its weights, so locating a checkpoint must not import Keras. Each
caller names the files it needs (the encoder its vocabulary, training the weights too), and
every failure names the setting and the value, because a wrong path otherwise surfaces as an
obscure error deep inside a tokenizer or keras-hub.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Sequence

from imdb.contract.config import ENV_OVERRIDES, ConfigError

CHECKPOINT_SETTING = "bert.checkpoint"
CHECKPOINT_ENV = next(name for name, key in ENV_OVERRIDES.items() if key == CHECKPOINT_SETTING)
HF_SCHEME = "hf://"
CONFIG_FILE = "config.json"
VOCAB_FILE = "vocab.txt"
WEIGHTS_FILE = "model.safetensors"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
# What each use of a checkpoint reads: tokenising needs the vocabulary alone, training all three.
TOKENIZER_FILES = (VOCAB_FILE,)
REQUIRED_FILES = (CONFIG_FILE, VOCAB_FILE, WEIGHTS_FILE)
# Hugging Face's BertTokenizer lowercases unless the checkpoint says otherwise.
DEFAULT_LOWERCASE = True

_LOCAL_DIRECTORY_HINT = (
    f"a local Hugging Face-format directory holding {', '.join(REQUIRED_FILES)}, or hf://ORG/NAME")


def resolve_checkpoint(uri: str, files: Sequence[str] = REQUIRED_FILES) -> str:
    """The local directory holding ``files`` of the checkpoint named by ``bert.checkpoint``.

    Local directories are used in place (never copied); ``hf://ORG/NAME`` fetches just
    ``files`` into the Hugging Face cache.
    """
    if uri.startswith(HF_SCHEME):
        return _fetch_from_hub(uri, files)
    if "://" in uri:
        raise ConfigError(f"setting '{CHECKPOINT_SETTING}' must be {_LOCAL_DIRECTORY_HINT}, got {uri!r}")
    directory = Path(uri).expanduser()
    if not directory.is_dir():
        raise ConfigError(
            f"setting '{CHECKPOINT_SETTING}': checkpoint directory {directory} does not exist; "
            f"it must be {_LOCAL_DIRECTORY_HINT}")
    missing = [name for name in files if not (directory / name).is_file()]
    if missing:
        raise ConfigError(
            f"setting '{CHECKPOINT_SETTING}': checkpoint directory {directory} lacks {', '.join(missing)}; "
            f"it must be {_LOCAL_DIRECTORY_HINT}")
    return str(directory)


def _fetch_from_hub(uri: str, files: Sequence[str]) -> str:
    """Download the checkpoint files (cached) the way keras-hub's ``from_preset`` does for ``hf://``."""
    import huggingface_hub
    from huggingface_hub.errors import EntryNotFoundError

    repo_id = uri[len(HF_SCHEME):].strip("/")
    if repo_id.count("/") != 1:
        raise ConfigError(f"setting '{CHECKPOINT_SETTING}': {uri!r} is not of the form hf://ORG/NAME")
    paths = []
    for name in files:
        try:
            paths.append(Path(huggingface_hub.hf_hub_download(repo_id=repo_id, filename=name)))
        # The hub client raises many unrelated types (HTTP, offline, validation, I/O); all of
        # them mean the same thing to the user: this URI cannot be used from here. One line,
        # because the CLI prints it as its whole error message.
        except Exception as exc:
            raise ConfigError(
                f"setting '{CHECKPOINT_SETTING}': cannot fetch {name} of {uri} from the Hugging Face hub "
                f"({type(exc).__name__}: {_first_line(exc)}); if this machine is offline, download the "
                f"checkpoint elsewhere and point {CHECKPOINT_SETTING} (or {CHECKPOINT_ENV}) at its local "
                f"directory, holding {', '.join(files)}") from exc
    # Optional: without it the tokenizer uses Hugging Face's default (lowercase).
    with contextlib.suppress(EntryNotFoundError):
        huggingface_hub.hf_hub_download(repo_id=repo_id, filename=TOKENIZER_CONFIG_FILE)
    return str(paths[0].parent)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "no details"


def checkpoint_lowercases(directory: str) -> bool:
    """Whether the checkpoint's tokenizer lowercases (``do_lower_case``), so encoding matches training."""
    path = Path(directory) / TOKENIZER_CONFIG_FILE
    if not path.is_file():
        return DEFAULT_LOWERCASE
    return bool(json.loads(path.read_text(encoding="utf-8")).get("do_lower_case", DEFAULT_LOWERCASE))
