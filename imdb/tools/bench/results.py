"""How a bench section records what it could not measure, without this machine's paths.

Why: the results JSON is committed beside the README; an error names the model directory,
which is stored as the user gave it (``model_dir: model``), never as an absolute path.
"""

from __future__ import annotations

from imdb.contract.config import Config


def skipped(config: Config, exc: Exception) -> dict[str, str]:
    """``{"skipped": why}`` with the model directory as configured."""
    return {"skipped": str(exc).replace(str(config.model_dir), config.as_given("model_dir"))}
