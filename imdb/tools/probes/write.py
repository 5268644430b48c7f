"""The stand-alone probe report of ``imdb-leap probe``: the Behaviour section as its own page,
its bar chart as a PNG, and the numbers as JSON; every file written atomically."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

from imdb.contract.files import atomic_write_text
from imdb.tools.probes.run import Behaviour, summary_json
from imdb.tools.report import sections, static
from imdb.tools.report.page import page_html
from imdb.tools.report.writer import json_safe

INDEX_FILE = "index.html"
PNG_FILE = "behaviour.png"
JSON_FILE = "probes.json"


def write_probe_report(behaviour: Behaviour, labels: Sequence[str], out: Path) -> dict[str, Path]:
    """``index.html`` (the report's Behaviour section alone), ``behaviour.png`` and ``probes.json``."""
    out.mkdir(parents=True, exist_ok=True)
    names = " vs ".join(model.name for model in behaviour.models)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    files = {PNG_FILE: static.behaviour_png(behaviour, out / PNG_FILE), JSON_FILE: out / JSON_FILE,
             INDEX_FILE: out / INDEX_FILE}
    atomic_write_text(files[JSON_FILE], json.dumps(json_safe(summary_json(behaviour)), indent=2) + "\n")
    subtitle = " · ".join([f"{len(behaviour.probes):,} probe cases", *[
        f"{model.name} from {model.config.model_dir}" for model in behaviour.models], stamp])
    atomic_write_text(files[INDEX_FILE], page_html(f"imdb-leap probes: {names}", subtitle,
                                                   [sections.behaviour_section(behaviour, labels)]))
    return files
