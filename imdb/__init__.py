"""imdb-leap: a Tensorleap integration and local analysis runner for IMDB sentiment models.

Importing this package switches code-loader's third-party analytics off before code_loader
can be imported anywhere in the process (library, CLI, tests and the entry files all import
``imdb`` first), so no run of this project ever phones home.
"""

import os

ANALYTICS_ENV_VAR = "TL_DISABLE_ANALYTICS"

if not os.environ.get(ANALYTICS_ENV_VAR):
    os.environ[ANALYTICS_ENV_VAR] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
