"""The benchmark: where the platform spends its time, measured side by side in one run.

Sections (each a key of the JSON ``imdb-leap bench`` prints last):
``data`` cold (empty cache: index + metadata) and warm load; ``binder`` per-call latency of
every decorated function, first and repeated calls; ``pass`` a whole warm pass over a split
through every per-sample function and visualizer; ``naive`` the official example's approach
on the same functions and its per-sample ``ratio`` to ours; ``inference`` Keras and ONNX
throughput per trained family; ``faithfulness`` the deletion test of each word-heatmap method;
``linear_reference`` TF-IDF + logistic regression on the same split and vocabulary size,
beside the word models' accuracies and their ratio to it; ``probes`` behavioural probe pass
rates per trained family (``imdb.tools.bench.probes``); ``memory`` peak RSS.
"""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path
from typing import Any, Callable

import numpy as np

from imdb.tools.bench.linear import linear_reference
from imdb.tools.bench.naive import NaiveIntegration, extract_reviews
from imdb.tools.bench.probes import bench_probes
from imdb.tools.bench.timing import Stopwatch, peak_memory_mb, time_calls
from imdb.contract.config import MODEL_FAMILIES, Config
from imdb.contract.model_files import BERT_INPUT_NAMES, ONNX_SUFFIX, WORD_INPUT_NAMES, ModelError, model_path
from imdb.models.loading import open_onnx
from imdb.contract.names import TRAINING
from imdb.runtime.pipeline import Pipeline

PASS_SPLIT = TRAINING
NAIVE_SAMPLES = 1000
INFERENCE_SAMPLES = {"dense": 2000, "cnn": 1000, "bert": 64}
INFERENCE_BATCH = 64
FAITHFULNESS_SAMPLES = 200
ROUND = 3


def _input_names(is_bert: bool) -> tuple[str, ...]:
    """The input encoders of the family; the first carries the token ids."""
    return BERT_INPUT_NAMES if is_bert else WORD_INPUT_NAMES


def _binder_functions(binder: Any, is_bert: bool) -> dict[str, Callable]:
    """The per-sample decorated functions of ``leap_binder``, named as on the platform."""
    names = (*_input_names(is_bert), "sentiment", "metadata_label", "metadata_text", "metadata_sentiment_lexicon",
             "metadata_review")
    return {name: getattr(binder, name) for name in names}


def _import_binder(config: Config, data_root: Path) -> Any:
    """``leap_binder`` bound to this benchmark's data, cache and model family."""
    os.environ.update({"IMDB_DATA": config.data, "IMDB_DATA_ROOT": str(data_root), "IMDB_MODEL": config.model,
                       "IMDB_MODEL_DIR": str(config.model_dir)})
    import leap_binder

    return leap_binder


def bench_data(config: Config, data_root: Path, limit: int | None, *,
               progress: bool = True) -> tuple[dict[str, Any], Pipeline]:
    """Cold start (index, split, TextBlob metadata) into an empty cache, then a warm reload."""
    cold_config = config.with_overrides(data_root=str(data_root))
    pipeline = Pipeline(cold_config)
    with Stopwatch() as index_watch:
        corpus = pipeline.corpus
    ids = [sample_id for split in corpus.splits for sample_id in corpus.ids(split)]
    if limit:
        ids = ids[:limit]
    with Stopwatch() as metadata_watch:
        pipeline.metadata_store.precompute([corpus[i] for i in ids], progress=progress)
    with Stopwatch() as warm_watch:
        Pipeline(cold_config).corpus.ids(PASS_SPLIT)
    return {
        "source": config.as_given("data"),
        "reviews": len(ids),
        "cold_index_s": round(index_watch.seconds, ROUND),
        "cold_metadata_s": round(metadata_watch.seconds, ROUND),
        "cold_start_s": round(index_watch.seconds + metadata_watch.seconds, ROUND),
        "warm_load_s": round(warm_watch.seconds, ROUND),
    }, pipeline


def _pass_subset(binder: Any) -> Any:
    """The preprocess response of the split the benchmark passes over."""
    return next(response for response in binder.preprocess() if response.data["split"] == PASS_SPLIT)


def bench_binder(binder: Any, subset: Any, ids: list[str], is_bert: bool) -> dict[str, Any]:
    """Latency of each decorated function: first call per sample (memo fill), then repeated."""
    calls = [(sample_id, subset) for sample_id in ids]
    results = {}
    for name, function in _binder_functions(binder, is_bert).items():
        results[name] = {"first": time_calls(function, calls), "repeat": time_calls(function, calls)}
    tokens = [(getattr(binder, _input_names(is_bert)[0])(sample_id, subset),) for sample_id in ids]
    gts = [(binder.sentiment(sample_id, subset),) for sample_id in ids]
    logits = [(np.array([0.3, -0.2], dtype=np.float32), gt[0]) for gt in gts]
    results["review_visualizer"] = {"repeat": time_calls(binder.review_visualizer, tokens)}
    results["probabilities_visualizer"] = {"repeat": time_calls(binder.probabilities_visualizer, logits)}
    results["ground_truth_visualizer"] = {"repeat": time_calls(binder.ground_truth_visualizer, gts)}
    return results


def _whole_pass(functions: dict[str, Callable], ids: list[str], extra: tuple = ()) -> float:
    with Stopwatch() as watch:
        for sample_id in ids:
            for function in functions.values():
                function(sample_id, *extra)
    return watch.seconds


def bench_pass(binder: Any, subset: Any, ids: list[str], is_bert: bool) -> dict[str, Any]:
    """Every per-sample function and visualizer over every sample of the split, warm."""
    functions = _binder_functions(binder, is_bert)
    _whole_pass(functions, ids, (subset,))
    data_seconds = _whole_pass(functions, ids, (subset,))
    token_function = functions[_input_names(is_bert)[0]]
    logits = np.array([0.3, -0.2], dtype=np.float32)
    with Stopwatch() as visual_watch:
        for sample_id in ids:
            gt = binder.sentiment(sample_id, subset)
            binder.review_visualizer(token_function(sample_id, subset))
            binder.probabilities_visualizer(logits, gt)
            binder.ground_truth_visualizer(gt)
    return {"split": PASS_SPLIT, "samples": len(ids), "functions": len(functions) + 3,
            "encoders_metadata_s": round(data_seconds, ROUND), "visualizers_s": round(visual_watch.seconds, ROUND),
            "whole_pass_s": round(data_seconds + visual_watch.seconds, ROUND),
            "per_sample_us": round((data_seconds + visual_watch.seconds) / max(len(ids), 1) * 1e6, 1)}


def bench_naive(config: Config, binder: Any, subset: Any, ids: list[str], workdir: Path) -> dict[str, Any]:
    """The official example's per-call approach on the same samples and functions as ours."""
    tarball = Path(config.data)
    if not (tarball.is_file() and tarball.name.endswith(".tar.gz")):
        raise ModelError(f"the naive baseline reads review files extracted from a local .tar.gz; got {config.data}")
    root = extract_reviews(tarball, ids, workdir)
    from imdb.text.words import WordVocabulary

    naive = NaiveIntegration(root, WordVocabulary.load(config.text.vocab_file), config.text.sequence_length,
                             config.labels)
    naive_seconds = _whole_pass(naive.functions(), ids)
    ours = _binder_functions(binder, False)
    _whole_pass(ours, ids, (subset,))
    ours_seconds = _whole_pass(ours, ids, (subset,))
    return {"samples": len(ids), "functions": len(ours), "naive_s": round(naive_seconds, ROUND),
            "ours_s": round(ours_seconds, ROUND),
            "naive_per_sample_us": round(naive_seconds / len(ids) * 1e6, 1),
            "ours_per_sample_us": round(ours_seconds / len(ids) * 1e6, 1),
            "speedup_ratio": round(naive_seconds / ours_seconds, 1)}


def bench_inference(config: Config, workdir: Path) -> dict[str, Any]:
    """Keras and ONNX throughput side by side for every family that has a trained model."""
    from imdb.tools.export import export
    from imdb.models.inference import predict_logits
    from imdb.models.loading import load_keras_model

    results: dict[str, Any] = {}
    for family in MODEL_FAMILIES:
        family_config = config.with_overrides(model=family)
        try:
            keras_model = load_keras_model(family_config)
        except (ModelError, ValueError) as exc:
            results[family] = {"skipped": str(exc)}
            continue
        pipeline = Pipeline(family_config)
        ids = pipeline.split_ids("validation")[: INFERENCE_SAMPLES[family]]
        for sample_id in ids:
            pipeline.encoded(sample_id)
        onnx_file = model_path(family_config, ONNX_SUFFIX)
        if not onnx_file.exists():
            onnx_file = workdir / f"{family}.onnx"
            export(family_config, "onnx", target=onnx_file)
        session = open_onnx(onnx_file)
        row: dict[str, Any] = {"samples": len(ids), "batch": INFERENCE_BATCH}
        for name, model in (("keras", keras_model), ("onnx", session)):
            predict_logits(pipeline, model, ids[:INFERENCE_BATCH], batch_size=INFERENCE_BATCH, progress=False)
            with Stopwatch() as watch:
                predict_logits(pipeline, model, ids, batch_size=INFERENCE_BATCH, progress=False)
            row[f"{name}_samples_per_s"] = round(len(ids) / watch.seconds, 1)
        row["onnx_to_keras_ratio"] = round(row["onnx_samples_per_s"] / row["keras_samples_per_s"], 2)
        results[family] = row
    return results


def bench_faithfulness(config: Config, n_samples: int) -> dict[str, Any]:
    """Deletion test per attribution method: top-k attributed words versus k random words."""
    from imdb.tools.explain.deletion import faithfulness_of_methods
    from imdb.tools.explain.methods import METHODS

    return dict(zip(METHODS, faithfulness_of_methods(config, METHODS, n_samples)))


def run_bench(config: Config, *, limit: int | None = None, naive_samples: int = NAIVE_SAMPLES,
              inference: bool = True, faithfulness_samples: int = FAITHFULNESS_SAMPLES,
              linear: bool = True, probes: bool = True, progress: bool = True) -> dict[str, Any]:
    """All sections in one process, so the figures are comparable with each other."""
    with tempfile.TemporaryDirectory(prefix="imdb-bench-") as scratch:
        workdir = Path(scratch)
        data, pipeline = bench_data(config, workdir / "cache", limit, progress=progress)
        binder = _import_binder(config, workdir / "cache")
        ids = pipeline.split_ids(PASS_SPLIT)
        if limit:
            ids = ids[:limit]
        sample = random.Random(config.seed).sample(ids, min(naive_samples, len(ids)))
        result: dict[str, Any] = {"model": config.model, "data": data}
        subset = _pass_subset(binder)
        result["binder"] = bench_binder(binder, subset, sample, config.is_bert)
        result["pass"] = bench_pass(binder, subset, ids, config.is_bert)
        if not config.is_bert:
            try:
                result["naive"] = bench_naive(config, binder, subset, sample, workdir / "naive")
            except ModelError as exc:
                result["naive"] = {"skipped": str(exc)}
        if inference:
            result["inference"] = bench_inference(config, workdir)
        if faithfulness_samples:
            result["faithfulness"] = bench_faithfulness(config, faithfulness_samples)
        if linear:
            result["linear_reference"] = linear_reference(config, pipeline, limit)
        if probes:
            result["probes"] = bench_probes(config, progress=progress)
        result["memory"] = {"peak_rss_mb": peak_memory_mb()}
    return result
