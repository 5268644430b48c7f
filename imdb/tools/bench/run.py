"""The benchmark: where the platform spends its time, measured side by side in one run.

Sections (each a key of the JSON ``imdb-leap bench`` prints last): ``official_example_ratio``
the headline, our per-sample cost against the official example's (``official_example``);
``data`` cold start serial (one process) and parallel (all cores) into separate empty
caches, with the text scores split into sentiment and readability, and the warm load;
``cold_start`` the text scores of every served review, the unlabelled ones included (train + unsup:
75,000), serial and parallel, and a later start served by the persisted scores
(``imdb.tools.bench.cold_start``);
``binder`` per-call latency of every decorated function, first and repeated calls; ``pass`` a
whole warm pass over a split, encoders+metadata and visualizers apart; ``official_example``
the official Tensorleap example's per-call work on the same samples and functions, through
the same decorators; ``naive_textblob_per_call`` the older baseline that recomputes TextBlob
per call; ``inference`` Keras and ONNX throughput per trained family (BERT also ONNX int8 and its
accuracy change, see ``quantized``); ``bert_training`` (``--model bert``) fine-tuning reviews/s,
fixed padding beside bucketed batches; ``faithfulness`` the deletion test of each heatmap
method for every trained family, each in a process of its own (``imdb.tools.bench.faithfulness``);
``projection`` the population map's methods, each cold in a fresh process, with their readability figures (``imdb.tools.bench.projection``);
``linear_reference`` TF-IDF + logistic regression
on the same split and vocabulary size; ``probes`` behavioural probe pass rates per trained
family (``imdb.tools.bench.probes``); ``machine`` cores and load; ``memory`` peak RSS per section
(``imdb.tools.memory``) beside the family's ceiling.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from imdb.tools.bench.bert_training import bench_bert_training
from imdb.tools.bench.calling import CallingPaths, binder_paths, decorate
from imdb.tools.bench.cold_start import bench_cold_start
from imdb.tools.bench.faithfulness import PROCESS_PEAK, bench_faithfulness
from imdb.tools.bench.linear import linear_reference
from imdb.tools.bench.naive import OfficialExample, TextBlobPerCall, extract_reviews, fit_official_tokenizer, \
    NotReproducible, metadata_table
from imdb.tools.bench.probes import bench_probes
from imdb.tools.bench.projection import bench_projection
from imdb.tools.bench.quantized import int8_columns
from imdb.tools.bench.results import skipped
from imdb.tools.bench.settings import BERT_TRAINING_SAMPLES, NAIVE_SAMPLES
from imdb.tools.memory import SectionPeaks
from imdb.tools.bench.timing import NS_PER_S, Stopwatch, machine, time_calls
from imdb.contract.config import MODEL_FAMILIES, Config
from imdb.contract.model_files import ONNX_SUFFIX, WORD_INPUT_NAMES, ModelError, input_names, model_path
from imdb.models.loading import open_onnx
from imdb.contract.names import TRAINING
from imdb.runtime.pipeline import Pipeline, balanced_subset
from imdb.runtime.text_scores import default_workers

PASS_SPLIT = TRAINING
INFERENCE_SAMPLES = {"dense": 2000, "cnn": 1000, "rnn": 1000, "bert": 64, "ngram": 2000, "ensemble": 64}
INFERENCE_BATCH = 64
# Peak resident memory the whole benchmark may take: a word family, and BERT with its training section.
WORD_MEMORY_CEILING_MB = 4096
BERT_MEMORY_CEILING_MB = 8192
# Reviews on which sentiment and readability are timed apart (per review, in this process).
TEXT_SCORE_SAMPLES = 1000
# Timed passes per side of a comparison, alternating sides; the fastest of each counts, so a
# burst of load from the shared machine does not land on one side only.
COMPARISON_ROUNDS = 3
ROUND = 3
US_ROUND = 1
US_PER_S = 1e6
MS_PER_S = 1e3
SERIAL_WORKERS = 1
SERIAL_CACHE, PARALLEL_CACHE, COLD_START_DIR = "cold-serial", "cache", "cold-start"
# Sections whose rows run one family each in a process of its own (peaks held per family).
FAMILY_SECTIONS = ("inference", "faithfulness")
# Two-class logits for the visualizers' timing (their cost does not depend on the values).
EXAMPLE_LOGITS = (0.3, -0.2)
# The binder's visualizers, each called once per sample in the pass.
VISUALIZERS = ("review_visualizer", "probabilities_visualizer", "ground_truth_visualizer")


def _function_names(inputs: tuple[str, ...]) -> tuple[str, ...]:
    """The per-sample decorated functions of ``leap_binder``, named as on the platform: the
    family's input encoders (``model_files.input_names``; the first carries the token ids), then
    the rest."""
    return (*inputs, "sentiment", "metadata_label", "metadata_text", "metadata_sentiment_lexicon",
            "metadata_review", "metadata_readability")


def _binder_functions(binder: Any, inputs: tuple[str, ...]) -> dict[str, Callable]:
    return {name: getattr(binder, name) for name in _function_names(inputs)}


def _import_binder(config: Config, data_root: Path) -> Any:
    """``leap_binder`` bound to this benchmark's data, cache and model family."""
    os.environ.update({"IMDB_DATA": config.data, "IMDB_DATA_ROOT": str(data_root), "IMDB_MODEL": config.model,
                       "IMDB_MODEL_DIR": str(config.model_dir)})
    import leap_binder

    return leap_binder


def _per_sample_us(seconds: float, samples: int) -> float:
    return round(seconds / max(samples, 1) * US_PER_S, US_ROUND)


def cold_start_ids(pipeline: Pipeline, limit: int | None) -> list[str]:
    """Every served id of every split (``limit`` per split, label-balanced)."""
    return [sample_id for split in pipeline.corpus.splits for sample_id in pipeline.split_ids(split, limit)]


def _cold_start(config: Config, data_root: Path, limit: int | None, workers: int,
                progress: bool) -> tuple[dict[str, Any], Pipeline, list[str]]:
    """Index and metadata into an empty cache with ``workers`` scoring processes."""
    pipeline = Pipeline(config.with_overrides(data_root=str(data_root)))
    with Stopwatch() as index_watch:
        corpus = pipeline.corpus
    ids = cold_start_ids(pipeline, limit)
    with Stopwatch() as metadata_watch:
        pipeline.metadata_store.precompute([corpus[i] for i in ids], progress=progress, workers=workers)
    return {"workers": workers, "index_s": round(index_watch.seconds, ROUND),
            "metadata_s": round(metadata_watch.seconds, ROUND),
            "cold_start_s": round(index_watch.seconds + metadata_watch.seconds, ROUND)}, pipeline, ids


def _ms_figures(latencies_ns: list[int]) -> dict[str, float]:
    values = np.asarray(latencies_ns, dtype=np.float64) / NS_PER_S * MS_PER_S
    return {"mean_ms": round(float(values.mean()), ROUND), "p50_ms": round(float(np.median(values)), ROUND)}


def bench_text_score_parts(texts: Sequence[str]) -> dict[str, Any]:
    """Sentiment (TextBlob) and readability timed apart, per review, in this process: which part
    of the cold start's scoring each one is; readability is timed both ways on the same
    reviews, textstat per review (what the official example calls) against
    ``imdb.runtime.readability`` with fresh word memos, and every value is compared."""
    from imdb.runtime.text_scoring import lexicon_sentiment
    from imdb.text.plain import plain_text
    from imdb.tools.bench.readability import compare_with_textstat

    lexicon_sentiment(texts[0])  # imports and lexicon loading stay out of the figure
    latencies = []
    for text in texts:
        started = time.perf_counter_ns()
        lexicon_sentiment(text)
        latencies.append(time.perf_counter_ns() - started)
    comparison = compare_with_textstat([plain_text(text) for text in texts])
    parts: dict[str, Any] = {"samples": len(texts), "sentiment": _ms_figures(latencies),
                             "readability": {"mean_ms": comparison["fast_mean_ms"]},
                             "readability_textstat_per_call": {"mean_ms": comparison["textstat_mean_ms"]},
                             "readability_speedup_ratio": comparison["speedup_ratio"],
                             "readability_values_differing": comparison["values_differing"]}
    parts["worker_start_s"] = round(worker_start_seconds(texts[0]), ROUND)
    total = parts["sentiment"]["mean_ms"] + parts["readability"]["mean_ms"]
    parts["readability_share"] = round(parts["readability"]["mean_ms"] / total, ROUND) if total else 0.0
    return parts


def worker_start_seconds(text: str) -> float:
    """Wall time of one scoring worker on one review: nearly all of it the interpreter start
    and the imports (TextBlob pulls in NLTK and SciPy), paid once per chunk of the parallel run."""
    from imdb.runtime.text_scores import WORKER_MODULE, _worker_env

    with tempfile.TemporaryDirectory(prefix="imdb-bench-worker-") as scratch:
        source, target = Path(scratch) / "texts.json", Path(scratch) / "scores.json"
        source.write_text(json.dumps([text]), encoding="utf-8")
        with Stopwatch() as watch:
            subprocess.run([sys.executable, "-m", WORKER_MODULE, str(source), str(target)], env=_worker_env(),
                           check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    return watch.seconds


def _text_score_sample(pipeline: Pipeline, scored_ids: list[str], seed: int) -> list[str]:
    """Texts for the parts timing: label-balanced, and none of the last reviews the serial run
    scored in this process (textstat memoises its last texts, so those would be free)."""
    from textstat.backend.utils.constants import CACHE_SIZE

    candidates = scored_ids[:-CACHE_SIZE] if len(scored_ids) > CACHE_SIZE else scored_ids
    chosen = balanced_subset(candidates, [pipeline.corpus.label(i) for i in candidates],
                             min(TEXT_SCORE_SAMPLES, len(candidates)), seed)
    return [pipeline.corpus[i].text for i in chosen]


def bench_data(config: Config, workdir: Path, limit: int | None, *,
               progress: bool = True) -> tuple[dict[str, Any], Pipeline]:
    """Cold start serial then parallel, on the same reviews into separate empty caches, the
    text scores split into their parts, then a warm reload of the parallel run's cache."""
    serial, serial_pipeline, ids = _cold_start(config, workdir / SERIAL_CACHE, limit, SERIAL_WORKERS, progress)
    parts = bench_text_score_parts(_text_score_sample(serial_pipeline, ids, config.seed))
    del serial_pipeline
    parallel, pipeline, parallel_ids = _cold_start(config, workdir / PARALLEL_CACHE, limit, default_workers(),
                                                   progress)
    # Each worker interpreter starts once, on one contiguous chunk of the reviews.
    parallel["worker_starts"] = parallel["workers"]
    if parallel_ids != ids:
        raise RuntimeError("the serial and parallel cold starts served different reviews; the ratio would be void")
    with Stopwatch() as warm_watch:
        Pipeline(pipeline.config).corpus.ids(PASS_SPLIT)
    return {
        "source": config.as_given("data"),
        "reviews": len(ids),
        "serial": serial,
        "parallel": parallel,
        "cold_start_serial_s": serial["cold_start_s"],
        "cold_start_parallel_s": parallel["cold_start_s"],
        "parallel_speedup_ratio": round(serial["cold_start_s"] / parallel["cold_start_s"], 2),
        "metadata_parallel_speedup_ratio": round(serial["metadata_s"] / parallel["metadata_s"], 2),
        "text_scores": parts,
        "warm_load_s": round(warm_watch.seconds, ROUND),
    }, pipeline


def _pass_subset(binder: Any) -> Any:
    """The preprocess response of the split the benchmark passes over."""
    return next(response for response in binder.preprocess() if response.data["split"] == PASS_SPLIT)


def bench_binder(binder: Any, subset: Any, ids: list[str], inputs: tuple[str, ...]) -> dict[str, Any]:
    """Latency of each decorated function: first call per sample (memo fill), then repeated."""
    calls = [(sample_id, subset) for sample_id in ids]
    results = {}
    for name, function in _binder_functions(binder, inputs).items():
        results[name] = {"first": time_calls(function, calls), "repeat": time_calls(function, calls)}
    tokens = [(getattr(binder, inputs[0])(sample_id, subset),) for sample_id in ids]
    gts = [(binder.sentiment(sample_id, subset),) for sample_id in ids]
    logits = [(np.array(EXAMPLE_LOGITS, dtype=np.float32), gt[0]) for gt in gts]
    results["review_visualizer"] = {"repeat": time_calls(binder.review_visualizer, tokens)}
    results["probabilities_visualizer"] = {"repeat": time_calls(binder.probabilities_visualizer, logits)}
    results["ground_truth_visualizer"] = {"repeat": time_calls(binder.ground_truth_visualizer, gts)}
    return results


def _whole_pass(functions: dict[str, Callable], ids: Sequence[str], extra: tuple = ()) -> float:
    with Stopwatch() as watch:
        for sample_id in ids:
            for function in functions.values():
                function(sample_id, *extra)
    return watch.seconds


def bench_pass(binder: Any, subset: Any, ids: list[str], inputs: tuple[str, ...]) -> dict[str, Any]:
    """Every per-sample function and visualizer over every sample of the split, warm; the
    encoders+metadata (every sample, on the platform) apart from the visualizers (only the
    samples a user displays)."""
    functions = _binder_functions(binder, inputs)
    _whole_pass(functions, ids, (subset,))
    data_seconds = _whole_pass(functions, ids, (subset,))
    token_function = functions[inputs[0]]
    logits = np.array(EXAMPLE_LOGITS, dtype=np.float32)
    with Stopwatch() as visual_watch:
        for sample_id in ids:
            gt = binder.sentiment(sample_id, subset)
            binder.review_visualizer(token_function(sample_id, subset))
            binder.probabilities_visualizer(logits, gt)
            binder.ground_truth_visualizer(gt)
    return {"split": PASS_SPLIT, "samples": len(ids), "encoders_metadata": len(functions),
            "visualizers": len(VISUALIZERS),
            "encoders_metadata_s": round(data_seconds, ROUND),
            "encoders_metadata_per_sample_us": _per_sample_us(data_seconds, len(ids)),
            "visualizers_s": round(visual_watch.seconds, ROUND),
            "visualizers_per_sample_us": _per_sample_us(visual_watch.seconds, len(ids)),
            "whole_pass_s": round(data_seconds + visual_watch.seconds, ROUND),
            "per_sample_us": _per_sample_us(data_seconds + visual_watch.seconds, len(ids))}


def _best_passes(sides: dict[str, tuple[dict[str, Callable], Any]], ids: Sequence[str]) -> dict[str, float]:
    """Seconds of a whole pass per side: one warm-up pass each (memo, page cache), then
    ``COMPARISON_ROUNDS`` passes alternating sides; the fastest of each side counts."""
    for functions, preprocess in sides.values():
        _whole_pass(functions, ids, (preprocess,))
    best = {name: float("inf") for name in sides}
    for _ in range(COMPARISON_ROUNDS):
        for name, (functions, preprocess) in sides.items():
            best[name] = min(best[name], _whole_pass(functions, ids, (preprocess,)))
    return best


def _comparison(baseline: CallingPaths, ours: CallingPaths, baseline_preprocess: Any, subset: Any,
                ids: Sequence[str]) -> dict[str, Any]:
    """Per-sample cost of a baseline and ours through each calling path, and their ratio."""
    result: dict[str, Any] = {"samples": len(ids), "functions": len(ours.platform), "rounds": COMPARISON_ROUNDS}
    for path in ("platform", "validated"):
        seconds = _best_passes({"baseline": (getattr(baseline, path), baseline_preprocess),
                                "ours": (getattr(ours, path), subset)}, ids)
        result[path] = {"baseline_per_sample_us": _per_sample_us(seconds["baseline"], len(ids)),
                        "ours_per_sample_us": _per_sample_us(seconds["ours"], len(ids)),
                        "ratio": round(seconds["baseline"] / seconds["ours"], 1)}
    result["ratio"] = result["platform"]["ratio"]
    return result


def comparison_sample(pipeline: Pipeline, ids: list[str], samples: int, seed: int) -> list[str]:
    """``samples`` label-balanced ids of the pass's ids, in their order."""
    if samples >= len(ids):
        return list(ids)
    return balanced_subset(ids, [pipeline.corpus.label(i) for i in ids], samples, seed)


def bench_baselines(config: Config, pipeline: Pipeline, binder: Any, subset: Any, ids: list[str],
                    workdir: Path, limit: int | None) -> dict[str, Any]:
    """The official example's per-call work and the older TextBlob-per-call baseline against
    ours: same samples, same functions, same decorators, same calling paths."""
    from code_loader.contract.datasetclasses import PreprocessResponse
    from code_loader.contract.enums import DataStateType

    from imdb.text.words import WordVocabulary

    tarball = Path(config.data)
    if not (tarball.is_file() and tarball.name.endswith(".tar.gz")):
        raise ModelError(f"the baselines read review files extracted from a local .tar.gz; got {config.data}")
    root = extract_reviews(tarball, ids, workdir)
    example = OfficialExample(root, config.text.sequence_length)  # imports Keras, outside the fit's time
    with Stopwatch() as fit_watch:
        tokenizer = fit_official_tokenizer(pipeline.corpus[i].text for i in pipeline.split_ids(TRAINING, limit))
    table = metadata_table(pipeline.metadata, ids)
    preprocess = PreprocessResponse(sample_ids=list(ids), state=DataStateType.training, sample_id_type=str,
                                    data=OfficialExample.preprocess_data(table, tokenizer))
    ours = binder_paths(binder, _function_names(WORD_INPUT_NAMES))
    official = decorate("official", example.functions())
    textblob = decorate("textblob", TextBlobPerCall(root, config.text.sequence_length,
                                                    WordVocabulary.load(config.text.vocab_file)).functions())
    official_result = {"tokenizer": "keras legacy Tokenizer", "tokenizer_words": len(tokenizer.word_index),
                       "tokenizer_fit_s": round(fit_watch.seconds, ROUND), "table": "dict (pandas not a dependency)",
                       **_comparison(official, ours, preprocess, subset, ids)}
    return {"official_example": official_result,
            "naive_textblob_per_call": _comparison(textblob, ours, preprocess, subset, ids)}


def bench_inference(config: Config, workdir: Path, families: Sequence[str] = MODEL_FAMILIES) -> dict[str, Any]:
    """Keras and ONNX throughput side by side for every family that has a trained model.

    Each family's row runs in a fresh process (spawned, so nothing of this one is inherited): a
    family's model, its ONNX export (tf2onnx holds the whole graph several times over for BERT)
    and its int8 file are released with the process, so no family's memory is charged to the next
    section, and each row records its own process's peak beside its rates."""
    from imdb.tools.memory import in_fresh_process

    results: dict[str, Any] = {}
    for family in families:
        family_config = config.with_overrides(model=family)
        onnx_file = served_onnx_file(family_config, workdir)
        exported = None
        if not onnx_file.exists() and _has_keras_model(family_config):
            exported = in_fresh_process(export_row, family_config, onnx_file)
        results[family] = in_fresh_process(inference_row, family_config, workdir)
        if exported is not None and isinstance(results[family], dict):
            results[family]["export_process_peak_rss_mb"] = exported
    return results


def served_onnx_file(family_config: Config, workdir: Path) -> Path:
    """The family's committed ONNX file, or where the bench exports one when none is committed."""
    committed = model_path(family_config, ONNX_SUFFIX)
    return committed if committed.exists() else workdir / f"{family_config.model}.onnx"


def _has_keras_model(family_config: Config) -> bool:
    """Whether the family has a trained Keras model to export (else its row says it is skipped)."""
    from imdb.models.loading import keras_model_file

    try:
        keras_model_file(family_config)
    except ModelError:
        return False
    return True


def export_row(family_config: Config, target: Path) -> float:
    """Export the family's ONNX file to ``target`` in a process of its own and return that
    process's peak: tf2onnx holds a transformer's graph several times over (5.3 GB more than the
    loaded BERT), so the export is kept out of the process that measures inference."""
    import imdb  # noqa: F401  (analytics off in the spawned process too)
    from imdb.tools.export import export
    from imdb.tools.memory import process_peak_mb

    export(family_config, "onnx", target=target)
    return process_peak_mb()


def inference_row(family_config: Config, workdir: Path) -> dict[str, Any]:
    """One family's row of ``bench_inference`` (run in its own process; see there)."""
    import imdb  # noqa: F401  (analytics off in the spawned process too)
    from imdb.models.inference import predict_logits
    from imdb.models.loading import load_keras_model
    from imdb.tools.memory import process_peak_mb

    family = family_config.model
    try:
        keras_model = load_keras_model(family_config)
    except (ModelError, ValueError) as exc:
        return skipped(family_config, exc)
    pipeline = Pipeline(family_config)
    ids = pipeline.split_ids("validation")[: INFERENCE_SAMPLES[family]]
    for sample_id in ids:
        pipeline.encoded(sample_id)
    onnx_file = served_onnx_file(family_config, workdir)
    if not onnx_file.exists():
        return skipped(family_config, ModelError(f"no ONNX file for {family!r} at {onnx_file}: "
                                                 f"run `imdb-leap export --model {family} --format onnx`"))
    session = open_onnx(onnx_file)
    row: dict[str, Any] = {"samples": len(ids), "batch": INFERENCE_BATCH}
    for name, model in (("keras", keras_model), ("onnx", session)):
        predict_logits(pipeline, model, ids[:INFERENCE_BATCH], batch_size=INFERENCE_BATCH, progress=False)
        with Stopwatch() as watch:
            predict_logits(pipeline, model, ids, batch_size=INFERENCE_BATCH, progress=False)
        row[f"{name}_samples_per_s"] = round(len(ids) / watch.seconds, 1)
    row["onnx_to_keras_ratio"] = round(row["onnx_samples_per_s"] / row["keras_samples_per_s"], 2)
    if family_config.is_bert:
        row.update(int8_columns(family_config, pipeline, onnx_file, workdir, ids))
    row[PROCESS_PEAK] = process_peak_mb()
    return row


def memory_figures(peaks: SectionPeaks, config: Config, processes: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The peaks per section beside the ceiling that applies: a word family's bench must fit in
    4 GB, BERT's with its training section in 8 GB. Every family process the bench spawned
    (``processes``: section -> family -> row, the inference and faithfulness sections) is held
    to its own family's ceiling — BERT's and the ensemble's rows export a transformer to ONNX
    and run integrated gradients through it, which is BERT's cost whichever family is benched."""
    figures = peaks.figures()
    ceiling = _memory_ceiling(config)
    held = {section: {family: {"peak_rss_mb": max(row[PROCESS_PEAK], row.get("export_process_peak_rss_mb", 0.0)),
                               "ceiling_mb": _memory_ceiling(config.with_overrides(model=family))}
                      for family, row in rows.items() if isinstance(row, dict) and PROCESS_PEAK in row}
            for section, rows in (processes or {}).items()}
    within = figures["peak_rss_mb"] <= ceiling and all(
        process["peak_rss_mb"] <= process["ceiling_mb"] for rows in held.values() for process in rows.values())
    return {**figures, "family_processes": held, "ceiling_mb": ceiling, "within_ceiling": within}


def _memory_ceiling(config: Config) -> int:
    return BERT_MEMORY_CEILING_MB if config.uses_bert else WORD_MEMORY_CEILING_MB


def run_bench(config: Config, *, limit: int | None = None, naive_samples: int = NAIVE_SAMPLES,
              inference: bool = True, faithfulness_samples: int | None = None,
              linear: bool = True, probes: bool = True, progress: bool = True,
              bert_training: int = BERT_TRAINING_SAMPLES, projection: bool = True,
              cold_start: bool = True, families: Sequence[str] = MODEL_FAMILIES) -> dict[str, Any]:
    """All sections in one process, so the figures are comparable with each other.

    ``bert_training`` is the number of training reviews of the ``bert_training`` section (0 skips it);
    ``faithfulness_samples`` the reviews of the deletion test (0 skips it; None: the family's
    default, as ``analyze`` uses); ``families`` the families the per-family sections run.
    """
    peaks = SectionPeaks()
    with tempfile.TemporaryDirectory(prefix="imdb-bench-") as scratch:
        workdir = Path(scratch)
        result: dict[str, Any] = {"model": config.model, "machine": {"start": machine()}}
        with peaks.section("data"):
            result["data"], pipeline = bench_data(config, workdir, limit, progress=progress)
        if cold_start:
            with peaks.section("cold_start"):
                result["cold_start"] = bench_cold_start(config, workdir / COLD_START_DIR, limit, progress=progress)
        with peaks.section("binder"):
            binder = _import_binder(config, workdir / PARALLEL_CACHE)
            ids = pipeline.split_ids(PASS_SPLIT, limit)
            sample = comparison_sample(pipeline, ids, naive_samples, config.seed)
            subset = _pass_subset(binder)
            result["binder"] = bench_binder(binder, subset, sample, input_names(config))
        with peaks.section("pass"):
            result["pass"] = bench_pass(binder, subset, ids, input_names(config))
        if not config.uses_bert:
            with peaks.section("baselines"):
                try:
                    result.update(bench_baselines(config, pipeline, binder, subset, sample, workdir / "naive",
                                                  limit))
                    result["official_example_ratio"] = result["official_example"]["ratio"]
                except (ModelError, NotReproducible) as exc:
                    result["official_example"] = skipped(config, exc)
        if config.is_bert and bert_training:
            with peaks.section("bert_training"):
                result["bert_training"] = bench_bert_training(config, bert_training)
        if inference:
            with peaks.section("inference"):
                result["inference"] = bench_inference(config, workdir, families)
        if faithfulness_samples != 0:
            with peaks.section("faithfulness"):
                result["faithfulness"] = bench_faithfulness(config, faithfulness_samples, families)
        if projection:
            with peaks.section("projection"):
                result["projection"] = bench_projection(config, pipeline, limit)
        if linear:
            with peaks.section("linear_reference"):
                result["linear_reference"] = linear_reference(config, pipeline, limit, families)
        if probes:
            with peaks.section("probes"):
                result["probes"] = bench_probes(config, families, progress=progress)
        result["memory"] = memory_figures(peaks, config, {section: result[section] for section in FAMILY_SECTIONS
                                                          if section in result})
        result["machine"]["end"] = machine()
    return {"official_example_ratio": result.pop("official_example_ratio", None), **result}
