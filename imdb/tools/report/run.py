"""``analyze``: compute the analysis (``analysis``), then write it (``writer``) — the report's one entry."""

from __future__ import annotations

from typing import Any

from imdb.contract.config import Config
from imdb.tools.memory import process_peak_mb
from imdb.tools.report.analysis import AnalyzeOptions, run_analysis
from imdb.tools.report.timing import StepTimer
from imdb.tools.report.writer import write_report


def analyze(config: Config, options: AnalyzeOptions) -> dict[str, Any]:
    """Run every step, write the report into ``options.out_dir(config)``, return the JSON summary."""
    timer = StepTimer()
    analysis = run_analysis(config, options, timer)
    out = options.out_dir(config)
    with timer("write report"):
        files = write_report(analysis, out)
    return {"out": str(files["index.html"]), "model": config.model, "split": options.split, "space": options.space,
            "n": len(analysis.samples), "accuracy": analysis.summary["accuracy"], "loss": analysis.summary["loss"],
            "macro_f1": analysis.summary["macro_f1"], "compare": analysis.other.name if analysis.other else None,
            "heatmap_method": analysis.options.method, "ig_steps": analysis.options.steps,
            "faithfulness_samples": analysis.options.faithfulness_samples,
            "timings": timer.rounded(), "seconds": round(timer.total, 1), "peak_rss_mb": process_peak_mb()}
