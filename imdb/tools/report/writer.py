"""Writes a computed analysis: ``index.html``, one PNG per figure, ``samples.csv``, ``report.json``.

Every file is written atomically, so an interrupted run never leaves a half-written report
that a browser or a script would read as complete.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from imdb.contract.files import atomic_write_text
from imdb.tools.report import sections, static
from imdb.tools.report.analysis import Analysis, ModelRun
from imdb.tools.report.page import page_html
from imdb.tools.report.phrases import phrases_json
from imdb.tools.report.samples import LABEL_METADATA
from imdb.tools.report.unlabeled import summary_json as unlabeled_json

INDEX_FILE = "index.html"
SAMPLES_FILE = "samples.csv"
SUMMARY_FILE = "report.json"
PNG_FILES = {"summary": "summary.png", "population": "population.png", "clusters": "clusters.png",
             "metadata": "metadata_loss.png", "compare": "compare.png", "behaviour": "behaviour.png"}
PROBABILITY_DIGITS = 6
COMPARE_PREFIX = "compare_"


def write_report(analysis: Analysis, out: Path) -> dict[str, Path]:
    """All report files under ``out``; returns them by name."""
    out.mkdir(parents=True, exist_ok=True)
    files = write_pngs(analysis, out)
    files[SAMPLES_FILE] = write_samples_csv(analysis, out / SAMPLES_FILE)
    files[SUMMARY_FILE] = out / SUMMARY_FILE
    atomic_write_text(files[SUMMARY_FILE], json.dumps(json_safe(summary_json(analysis)), indent=2) + "\n")
    files[INDEX_FILE] = out / INDEX_FILE
    atomic_write_text(files[INDEX_FILE], page_html(title(analysis), subtitle(analysis),
                                                   sections.all_sections(analysis)))
    return files


def title(analysis: Analysis) -> str:
    """The page title: model and split."""
    return f"imdb-leap analysis: {analysis.run.name} on {analysis.options.split}"


def subtitle(analysis: Analysis) -> str:
    """Where the numbers come from: samples, data source, model file, heatmap method, time."""
    config = analysis.run.config
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [f"{len(analysis.samples):,} samples of the {analysis.options.split} split", f"data {config.data}",
             f"Keras model {config.model} from {config.model_dir}",
             f"heatmaps: {analysis.options.method}", stamp]
    return " · ".join(parts)


def write_pngs(analysis: Analysis, out: Path) -> dict[str, Path]:
    """One PNG per interactive figure, for documents that cannot embed the HTML."""
    labels, run = analysis.labels, analysis.run
    files = {
        PNG_FILES["summary"]: static.summary_png(analysis.confusion, labels, out / PNG_FILES["summary"]),
        PNG_FILES["population"]: static.population_png(
            analysis.coords, analysis.samples, run.predictions, labels,
            f"{run.name}: {analysis.options.projection.upper()} of the '{analysis.options.layer}' layer",
            out / PNG_FILES["population"]),
        PNG_FILES["clusters"]: static.cluster_png(analysis.coords, analysis.assignments,
                                                  f"Clusters ({analysis.options.cluster_method})",
                                                  out / PNG_FILES["clusters"]),
        PNG_FILES["metadata"]: static.metadata_png(analysis.fields, out / PNG_FILES["metadata"]),
    }
    if analysis.comparison is not None:
        files[PNG_FILES["compare"]] = static.comparison_png(analysis.comparison, out / PNG_FILES["compare"])
    if analysis.behaviour is not None:
        files[PNG_FILES["behaviour"]] = static.behaviour_png(analysis.behaviour, out / PNG_FILES["behaviour"])
    return files


def csv_columns(analysis: Analysis) -> list[str]:
    """``samples.csv``'s header: id, label, prediction, probabilities, loss, every metadata field
    (dashboard names; ``label`` is the ground-truth column), cluster, map coordinates, and the
    compared model's prediction, probabilities and loss when there is one."""
    labels = analysis.labels
    columns = ["id", "label", "prediction", *[f"probability_{name}" for name in labels], "loss", "correct"]
    columns += [name for name in analysis.samples.metadata if name != LABEL_METADATA]
    columns += ["cluster", "x", "y"]
    if analysis.other is not None:
        columns += [f"{COMPARE_PREFIX}prediction", *[f"{COMPARE_PREFIX}probability_{name}" for name in labels],
                    f"{COMPARE_PREFIX}loss"]
    return columns


def _prediction_cells(run: ModelRun, index: int, labels: tuple[str, ...]) -> list[object]:
    probabilities = [round(float(value), PROBABILITY_DIGITS) for value in run.predictions.probabilities[index]]
    return [labels[run.predictions.predicted[index]], *probabilities]


def write_samples_csv(analysis: Analysis, path: Path) -> Path:
    """One row per sample in ``csv_columns`` order, for slicing the run in a spreadsheet or pandas."""
    samples, run, labels = analysis.samples, analysis.run, analysis.labels
    metadata_names = [name for name in samples.metadata if name != LABEL_METADATA]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(csv_columns(analysis))
    for index, sample_id in enumerate(samples.ids):
        row: list[object] = [sample_id, labels[samples.labels[index]], *_prediction_cells(run, index, labels),
                             round(float(run.predictions.loss[index]), PROBABILITY_DIGITS),
                             bool(run.predictions.correct[index])]
        row += [_plain(samples.metadata[name][index]) for name in metadata_names]
        row += [int(analysis.assignments[index]), round(float(analysis.coords[index, 0]), PROBABILITY_DIGITS),
                round(float(analysis.coords[index, 1]), PROBABILITY_DIGITS)]
        if analysis.other is not None:
            row += [*_prediction_cells(analysis.other, index, labels),
                    round(float(analysis.other.predictions.loss[index]), PROBABILITY_DIGITS)]
        writer.writerow(row)
    atomic_write_text(path, buffer.getvalue())
    return path


def _plain(value: Any) -> Any:
    """NumPy scalars as Python values (``True``, ``12``, ``0.25``) for the CSV."""
    return value.item() if isinstance(value, np.generic) else value


def json_safe(value: Any) -> Any:
    """NaN (an undefined correlation) as ``null``, NumPy scalars as Python: strict JSON for any reader."""
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def summary_json(analysis: Analysis) -> dict[str, Any]:
    """The report's numbers, machine-readable: summary, claims, fields, clusters, issues, comparison,
    unlabelled reviews (when the source holds them)."""
    result: dict[str, Any] = {
        "model": analysis.run.name, "split": analysis.options.split, "heatmap_method": analysis.options.method,
        "ig_steps": analysis.options.steps, "summary": analysis.summary,
        "claims": [{"statement": c.statement, "field": c.field, "rho": c.rho, "p_value": c.p_value,
                    "verdict": c.verdict, "strength": c.strength, "low_group_loss": c.low_group_loss,
                    "high_group_loss": c.high_group_loss, "companion": c.companion,
                    "companion_rho": c.companion_rho, "sentence": sections.claim_sentence(c)}
                   for c in analysis.claims],
        "fields": {f.field: {"rho": f.rho, "p_value": f.p_value} for f in analysis.fields},
        "clusters": [{"cluster": c.cluster, "size": c.size, "accuracy": c.accuracy, "mean_loss": c.mean_loss,
                      "label_share": c.label_share, "words": [w for w, _ in c.words]} for c in analysis.clusters],
        "label_issues": {"flagged": int(len(analysis.issues.ranked)),
                         "thresholds": [float(t) for t in analysis.issues.thresholds],
                         "confident_joint": analysis.issues.confident_joint.tolist(),
                         "top": [analysis.samples.ids[i] for i in analysis.issues.ranked[:analysis.options.top]]},
        "classes": [{"class": r.name, "samples": r.samples, "predicted": r.predicted, "recall": r.recall,
                     "precision": r.precision, "f1": r.f1, "mean_loss": r.mean_loss, "mistaken_for": r.mistaken_for,
                     "mistaken_count": r.mistaken_count} for r in analysis.class_rows],
        "calibration": {name: {key: value for key, value in fit.items() if not key.startswith("reliability")}
                        for name, fit in analysis.calibration.items()},
        "errors": {g.title: g.total for g in analysis.errors},
        "faithfulness": list(analysis.faithfulness),
        "timings": dict(analysis.timings),
    }
    if analysis.phrases:
        result["deciding_ngrams"] = phrases_json(analysis.phrases, analysis.labels)
    if analysis.behaviour is not None:
        from imdb.tools.probes.run import summary_json as probes_json

        result["probes"] = probes_json(analysis.behaviour)
    if analysis.unlabeled is not None:
        result["unlabeled"] = unlabeled_json(analysis.unlabeled)
    if analysis.comparison is not None:
        comparison = analysis.comparison
        result["comparison"] = {
            "models": [comparison.name_a, comparison.name_b], "agreement": comparison.agreement,
            "accuracy": [comparison.accuracy_a, comparison.accuracy_b],
            "b_right_a_wrong": int(comparison.b_right_a_wrong.sum()), "a_right_b_wrong": int(comparison.a_right_b_wrong.sum()),
            "cues": [{"phrase": r.phrase, "count": r.count, "accuracy": [r.accuracy_a, r.accuracy_b],
                      "b_right_a_wrong": r.b_right_a_wrong, "a_right_b_wrong": r.a_right_b_wrong} for r in comparison.cues]}
    return result
