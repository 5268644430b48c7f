"""Where the data layer's settings come from when the caller does not pass them.

Why: the CLI, the integration and the tests all need the same precedence (explicit value, then
environment variable, then default) and the same clear error when nothing names the data.
"""

from __future__ import annotations

import math
import os

from imdb.data.errors import DataError

GCS_SCHEME = "gs://"
HTTP_SCHEMES = ("https://", "http://")
ENV_DATA = "IMDB_DATA"
ENV_DATA_ROOT = "IMDB_DATA_ROOT"
ENV_GCS_TIMEOUT = "IMDB_GCS_TIMEOUT"
ENV_HTTP_TIMEOUT = "IMDB_HTTP_TIMEOUT"
ENV_AUTH_SECRET = "AUTH_SECRET"
ENV_EMULATOR = "STORAGE_EMULATOR_HOST"

# Long enough to ride out a few transient server errors, short enough that an unreachable
# server fails the command in well under a minute.
DEFAULT_GCS_TIMEOUT_S = 30.0
# The same reasoning for an HTTP(S) download, counted from the last byte that arrived: a slow
# but steady download of the 84 MB official archive never hits it, a dead server does.
DEFAULT_HTTP_TIMEOUT_S = 30.0
# The doc and its section that explain every kind of source; errors about unreachable data name them.
DOCS_SOURCES_FILE = "docs/data.md"
SOURCES_SECTION = "Data sources"


def gcs_timeout_s() -> float:
    """Seconds a Cloud Storage call may keep retrying (``$IMDB_GCS_TIMEOUT``, default 30).

    Also the longest a silent connection is waited on, so a stalled server fails in this time too.
    """
    return _seconds(ENV_GCS_TIMEOUT, DEFAULT_GCS_TIMEOUT_S)


def http_timeout_s() -> float:
    """Seconds an HTTP(S) download may go without receiving a byte (``$IMDB_HTTP_TIMEOUT``, default 30),
    retries included; also the longest a silent connection is waited on."""
    return _seconds(ENV_HTTP_TIMEOUT, DEFAULT_HTTP_TIMEOUT_S)


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise DataError(f"{name}={raw!r} is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise DataError(f"{name}={raw!r} must be a positive number of seconds")
    return value


def other_source_hint() -> str:
    """What to do when the configured data cannot be had: where to point instead, and where it is explained."""
    return (f"set {ENV_DATA} (or data: in imdb/project_config.yaml, or --data) to a reachable copy: "
            f"an aclImdb/ directory, a .tar.gz, gs://BUCKET/PREFIX or https://.../NAME.tar.gz "
            f"(see \"{SOURCES_SECTION}\" in {DOCS_SOURCES_FILE})")
