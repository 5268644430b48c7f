"""Where the data layer's settings come from when the caller does not pass them.

Why: the CLI, the integration and the tests all need the same precedence (explicit value, then
environment variable, then default) and the same clear error when nothing names the data.
"""

from __future__ import annotations

import math
import os

from imdb.data.errors import DataError

GCS_SCHEME = "gs://"
ENV_DATA = "IMDB_DATA"
ENV_DATA_ROOT = "IMDB_DATA_ROOT"
ENV_GCS_TIMEOUT = "IMDB_GCS_TIMEOUT"
ENV_AUTH_SECRET = "AUTH_SECRET"
ENV_EMULATOR = "STORAGE_EMULATOR_HOST"

# Long enough to ride out a few transient server errors, short enough that an unreachable
# server fails the command in well under a minute.
DEFAULT_GCS_TIMEOUT_S = 30.0


def gcs_timeout_s() -> float:
    """Seconds a Cloud Storage call may keep retrying (``$IMDB_GCS_TIMEOUT``, default 30).

    Also the longest a silent connection is waited on, so a stalled server fails in this time too.
    """
    raw = os.environ.get(ENV_GCS_TIMEOUT, "").strip()
    if not raw:
        return DEFAULT_GCS_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        raise DataError(f"{ENV_GCS_TIMEOUT}={raw!r} is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise DataError(f"{ENV_GCS_TIMEOUT}={raw!r} must be a positive number of seconds")
    return value
