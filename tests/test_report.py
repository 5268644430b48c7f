"""``imdb-leap analyze`` end to end on real reviews with the committed dense model, compared
with a second model, then rendered in headless Chromium; plus the analysis building blocks
on data small enough to check by hand."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from html import escape as html_escape
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from imdb.contract.config import REPO_ROOT, load_config
from imdb.runtime.text_scoring import READABILITY_FUNCTIONS
from imdb.tools.report import browser
from imdb.tools.cli.main import main as analyze_main
from imdb.tools.report.metadata_loss import loss_bins, verdict
from imdb.tools.report.mislabeled import UNASSIGNED, find_label_issues
from imdb.tools.report.page import Section, page_html
from imdb.tools.report.words import log_odds_z

LIMIT = 300
TOP = 4
LABELS = ("negative", "positive")
METADATA_COLUMNS = ["text_word_count", "text_token_count", "text_truncated", "text_empty", "text_oov_count",
                    "text_oov_ratio", "sentiment_lexicon_polarity", "sentiment_lexicon_subjectivity", "review_rating",
                    "review_movie_id", *(f"readability_{name}" for name in READABILITY_FUNCTIONS),
                    "probe_capability", "probe_kind", "probe_template", "probe_direction", "probe_source"]
EXPECTED_COLUMNS = ["id", "label", "prediction", "probability_negative", "probability_positive", "loss", "correct",
                    *METADATA_COLUMNS, "cluster", "x", "y", "compare_prediction", "compare_probability_negative",
                    "compare_probability_positive", "compare_loss"]
PNGS = ("summary.png", "population.png", "clusters.png", "metadata_loss.png", "compare.png", "behaviour.png")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# summary, population, clusters, metadata, calibration, compare, behaviour.
FIGURES_WITH_COMPARE = 7
CLAIM_FIELDS = {"text_oov_count", "text_word_count", "abs_polarity"}
# The second word model, when model/cnn.h5 is not there yet: a dense model fitted briefly.
SECOND_MODEL_REVIEWS = 2000
SECOND_MODEL_EPOCHS = 3
SECOND_MODEL_LEARNING_RATE = 3e-3
PROBABILITY_TOLERANCE = 1e-5


@dataclass(frozen=True)
class ReportRun:
    out: Path
    result: dict
    compare: list[str]


def _train_second_model(imdb_data_uri: str, data_root: Path, model_dir: Path) -> None:
    """A dense model fitted for a few epochs on a few reviews: predictions that differ from the
    committed model's, so the comparison has flips in both directions."""
    import keras

    from imdb.models.build import build_model
    from imdb.text.words import WordVocabulary
    from imdb.training.artifacts import save_keras_model

    config = load_config(environ={}, model="dense", data=imdb_data_uri, data_root=data_root, model_dir=model_dir,
                         sample_limit_per_split=SECOND_MODEL_REVIEWS)
    from imdb.runtime.pipeline import Pipeline

    keras.utils.set_random_seed(config.seed)
    pipeline = Pipeline(config)
    ids = pipeline.split_ids("training")
    inputs = np.stack([pipeline.model_input(i, "input_tokens") for i in ids])
    targets = np.stack([pipeline.ground_truth(i) for i in ids])
    model = build_model(config, len(WordVocabulary.load(config.text.vocab_file)))
    model.compile(optimizer=keras.optimizers.Adam(SECOND_MODEL_LEARNING_RATE),
                  loss=keras.losses.CategoricalCrossentropy(from_logits=True))
    model.fit([inputs], targets, epochs=SECOND_MODEL_EPOCHS, batch_size=config.dense.batch_size, verbose=0)
    save_keras_model(model, config)


@pytest.fixture(scope="module")
def report_run(imdb_data_uri: str, data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> ReportRun:
    """One ``analyze`` run: dense on 300 validation reviews, compared with the CNN when it is
    trained, else with a briefly trained second dense model."""
    out = tmp_path_factory.mktemp("report") / "dense-validation"
    if (REPO_ROOT / "model" / "cnn.h5").exists():
        compare = ["--compare", "cnn"]
    else:
        second = tmp_path_factory.mktemp("second-model")
        _train_second_model(imdb_data_uri, data_root, second)
        compare = ["--compare", "dense", "--compare-model-dir", str(second)]
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        code = analyze_main(["analyze", "--model", "dense", "--data", imdb_data_uri, "--data-root", str(data_root),
                             "--split", "validation", "--limit", str(LIMIT), "--top", str(TOP), "--out", str(out),
                             "--no-progress", *compare])
    assert code == 0
    return ReportRun(out=out, result=json.loads(stdout.getvalue().strip().splitlines()[-1]), compare=compare)


@pytest.fixture(scope="module")
def rows(report_run: ReportRun) -> list[dict[str, str]]:
    with open(report_run.out / "samples.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def summary(report_run: ReportRun) -> dict:
    return json.loads((report_run.out / "report.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def page(report_run: ReportRun) -> str:
    return (report_run.out / "index.html").read_text(encoding="utf-8")


def test_analyze_prints_a_json_summary_last(report_run: ReportRun) -> None:
    result = report_run.result
    assert Path(result["out"]) == report_run.out / "index.html"
    assert result["n"] == LIMIT and result["split"] == "validation" and result["model"] == "dense"
    assert result["accuracy"] > 0.8, "the committed dense model is far better than chance"
    assert {"samples + metadata", "inference + latent", "projection", "clusters", "heatmaps", "compare", "probes",
            "write report"} <= set(result["timings"])
    assert result["peak_rss_mb"] > 100, "the kernel's high-water mark of a process that loaded TensorFlow"


def test_every_output_file_is_written(report_run: ReportRun) -> None:
    for name in (*PNGS, "index.html", "samples.csv", "report.json"):
        assert (report_run.out / name).stat().st_size > 0, name
    for name in PNGS:
        assert (report_run.out / name).read_bytes()[:len(PNG_MAGIC)] == PNG_MAGIC, name
    leftovers = [path.name for path in report_run.out.iterdir() if ".tmp" in path.name]
    assert not leftovers, "atomic writes leave no temp files"


def test_samples_csv_has_every_column_and_one_row_per_sample(rows: list[dict[str, str]]) -> None:
    assert list(rows[0]) == EXPECTED_COLUMNS
    assert len(rows) == LIMIT and len({row["id"] for row in rows}) == LIMIT
    assert sorted(row["label"] for row in rows).count("positive") == LIMIT // 2, "the limit is label-balanced"
    for row in rows:
        probabilities = [float(row[f"probability_{name}"]) for name in LABELS]
        assert abs(sum(probabilities) - 1.0) < PROBABILITY_TOLERANCE * 10
        assert row["prediction"] == LABELS[int(np.argmax(probabilities))]
        assert (row["prediction"] == row["label"]) == (row["correct"] == "True")
        # The binder's loss is the cross-entropy of the true label's probability.
        own = probabilities[LABELS.index(row["label"])]
        assert float(row["loss"]) == pytest.approx(-np.log(max(own, 1e-12)), rel=1e-3, abs=1e-4)
        assert row["cluster"].lstrip("-").isdigit() and np.isfinite([float(row["x"]), float(row["y"])]).all()
        assert row["review_movie_id"].startswith("tt")
        assert row["probe_kind"] == "review" and row["probe_capability"] == "none", "real reviews test nothing"


def test_seed_claims_are_verdicts_on_the_runs_own_numbers(rows: list[dict[str, str]], summary: dict, page: str) -> None:
    """Each claim's rho is recomputed here from samples.csv: the verdicts cannot be canned."""
    loss = np.array([float(row["loss"]) for row in rows])
    columns = {"text_oov_count": np.array([float(row["text_oov_count"]) for row in rows]),
               "text_word_count": np.array([float(row["text_word_count"]) for row in rows]),
               "abs_polarity": np.abs([float(row["sentiment_lexicon_polarity"]) for row in rows])}
    claims = summary["claims"]
    assert {claim["field"] for claim in claims} == CLAIM_FIELDS
    for claim in claims:
        expected = stats.spearmanr(columns[claim["field"]], loss)
        assert claim["rho"] == pytest.approx(expected.statistic, abs=1e-6)
        assert claim["p_value"] == pytest.approx(expected.pvalue, rel=1e-3)
        assert claim["verdict"] in ("confirmed", "not confirmed", "contradicted")
        assert f"Spearman ρ = {claim['rho']:+.3f}" in claim["sentence"]
        assert claim["sentence"].split(" — ")[0].endswith(claim["verdict"])
        assert claim["sentence"] in page.replace("&#x27;", "'")


def test_sections_and_heatmaps_are_in_the_page(page: str, summary: dict) -> None:
    for anchor in ("summary", "population", "clusters", "metadata", "samples", "mislabeled", "calibration", "compare",
                   "behaviour"):
        assert f'<section id="{anchor}">' in page, anchor
    errors_shown = sum(min(TOP, total) for total in summary["errors"].values())
    issues_shown = min(TOP, summary["label_issues"]["flagged"])
    flips = summary["comparison"]["b_right_a_wrong"] + summary["comparison"]["a_right_b_wrong"]
    assert page.count('<div class="sample">') == errors_shown + issues_shown + 2 * min(TOP, flips)
    assert page.count('class="hw"') > errors_shown, "heatmaps colour words"
    assert page.count("<script>") >= 1 and page.count("Plotly.newPlot") == FIGURES_WITH_COMPARE
    assert page.count("* plotly.js v") == 1, "plotly.js is inlined exactly once"


def test_calibration_of_both_models_is_fitted_on_training(summary: dict, page: str) -> None:
    calibration = summary["calibration"]
    assert set(calibration) == set(summary["comparison"]["models"])
    for fit in calibration.values():
        assert 0.0 <= fit["ece_interval"][0] <= fit["ece"] <= fit["ece_interval"][1] <= 1.0
        assert fit["fit_samples"] == LIMIT and fit["temperature"] > 0
        assert 0.0 <= fit["ece_after_temperature"] <= 1.0
    assert 'id="fig-calibration"' in page


def test_class_table_agrees_with_the_csv(rows: list[dict[str, str]], summary: dict) -> None:
    by_class = {row["class"]: row for row in summary["classes"]}
    assert list(by_class) == list(LABELS)
    for name in LABELS:
        members = [row for row in rows if row["label"] == name]
        called = [row for row in rows if row["prediction"] == name]
        assert by_class[name]["samples"] == len(members) and by_class[name]["predicted"] == len(called)
        assert by_class[name]["recall"] == pytest.approx(np.mean([row["prediction"] == name for row in members]))
        assert by_class[name]["mean_loss"] == pytest.approx(np.mean([float(row["loss"]) for row in members]), rel=1e-4)


def test_comparison_counts_match_the_csv(rows: list[dict[str, str]], summary: dict) -> None:
    comparison = summary["comparison"]
    own = np.array([row["prediction"] == row["label"] for row in rows])
    other = np.array([row["compare_prediction"] == row["label"] for row in rows])
    assert comparison["b_right_a_wrong"] == int((~own & other).sum())
    assert comparison["a_right_b_wrong"] == int((own & ~other).sum())
    assert comparison["b_right_a_wrong"] + comparison["a_right_b_wrong"] > 0, "the two models must disagree somewhere"
    assert comparison["accuracy"][0] == pytest.approx(own.mean()) and comparison["accuracy"][1] == pytest.approx(
        other.mean())
    assert [cue["phrase"] for cue in comparison["cues"]] == ["but", "not", "waste of"]


@pytest.fixture(scope="module")
def chromium() -> str:
    """The browser, or one line saying how to install it (``poetry run test`` checks this first)."""
    try:
        return browser.chromium()
    except browser.BrowserError as exc:
        pytest.fail(str(exc), pytrace=False)


def test_report_renders_in_headless_chromium(chromium: str, report_run: ReportRun, tmp_path: Path) -> None:
    rendered = browser.render(report_run.out / "index.html")
    assert rendered.errors == []
    assert rendered.figures == FIGURES_WITH_COMPARE
    assert rendered.drawn_figures == rendered.figures, "every figure drew its SVG"
    shot = browser.screenshot(report_run.out / "index.html", tmp_path / "report.png", fragment="#only=clusters")
    assert shot.read_bytes()[:len(PNG_MAGIC)] == PNG_MAGIC


def test_the_error_collector_catches_script_errors(chromium: str, tmp_path: Path) -> None:
    """Without this, "no errors" above could mean "the collector never ran"."""
    failing = Section("broken", "broken", "<script>undefinedFunction();</script><script>console.error('boom')</script>")
    path = tmp_path / "broken.html"
    path.write_text(page_html("broken", "", [failing]), encoding="utf-8")
    errors = browser.render(path).errors
    assert any("undefinedFunction" in error for error in errors) and any("boom" in error for error in errors)


def test_unknown_layer_is_a_one_line_error(imdb_data_uri: str, data_root: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    code = analyze_main(["analyze", "--model", "dense", "--data", imdb_data_uri, "--data-root", str(data_root),
                         "--limit", "20", "--layer", "no_such_layer", "--out", str(tmp_path), "--no-progress"])
    assert code == 2
    error = capsys.readouterr().err
    assert "no_such_layer" in error and "Traceback" not in error


# ---------------------------------------------------------------- building blocks


def test_confident_learning_flags_confident_disagreements() -> None:
    labels = np.array([0, 0, 0, 1, 1, 1])
    probabilities = np.array([[0.9, 0.1], [0.8, 0.2], [0.05, 0.95], [0.2, 0.8], [0.1, 0.9], [0.55, 0.45]])
    issues = find_label_issues(labels, probabilities)
    np.testing.assert_allclose(issues.thresholds, [(0.9 + 0.8 + 0.05) / 3, (0.8 + 0.9 + 0.45) / 3])
    # Sample 2 (label 0, p1 = 0.95 >= t1) is confidently class 1; sample 5 reaches no threshold.
    assert issues.ranked.tolist() == [2]
    assert issues.suggested[5] == UNASSIGNED
    np.testing.assert_array_equal(issues.confident_joint, [[2, 1], [0, 2]])


def test_log_odds_z_scores_reward_both_ratio_and_evidence() -> None:
    group = np.array([50.0, 5.0, 10.0])
    rest = np.array([10.0, 50.0, 100.0])
    z = log_odds_z(group, rest, 0.1 * (group + rest))
    assert z[0] > 0 > z[1]
    assert z[2] < z[1], "the same under-representation seen twice as often is stronger evidence"


def test_verdicts_need_sign_significance_and_size() -> None:
    assert verdict(-0.3, 1e-9, -1) == "confirmed"
    assert verdict(0.3, 1e-9, -1) == "contradicted"
    assert verdict(-0.05, 1e-9, -1) == "not confirmed", "significant but negligible"
    assert verdict(-0.3, 0.2, -1) == "not confirmed", "large but not significant"
    assert verdict(float("nan"), float("nan"), 1) == "not confirmed"


def test_loss_bins_use_values_when_few_and_quantiles_otherwise() -> None:
    ratings = np.array([1, 1, 2, 10, 10, 10], dtype=float)
    loss = np.array([1.0, 3.0, 2.0, 0.0, 0.0, 3.0])
    bins = loss_bins(ratings, loss)
    assert [(b.low, b.count, b.mean_loss) for b in bins] == [(1.0, 2, 2.0), (2.0, 1, 2.0), (10.0, 3, 1.0)]
    lengths = np.arange(1000, dtype=float)
    quantile_bins = loss_bins(lengths, lengths)
    assert sum(b.count for b in quantile_bins) == 1000 and len(quantile_bins) == 10
    assert [b.mean_loss for b in quantile_bins] == sorted(b.mean_loss for b in quantile_bins)


def test_faithfulness_is_reported_per_method_and_beats_random(summary: dict, page: str) -> None:
    rows = {row["method"]: row for row in summary["faithfulness"]}
    assert set(rows) == {"ig", "gradxinput"}
    for row in rows.values():
        assert row["n"] > 0 and row["mean_drop_top_k"] > row["mean_drop_random"] + 0.1, row
    assert '<section id="faithfulness">' in page


def test_behaviour_section_states_a_verdict_per_capability(summary: dict, page: str) -> None:
    """Each capability's rates and sentence come from the run's own probe outcomes."""
    probes = summary["probes"]
    models = list(probes["models"])
    assert len(models) == 2, "the analysed and the compared model are both probed"
    capabilities = list(probes["models"][models[0]])
    assert len(capabilities) >= 6 and [v["capability"] for v in probes["verdicts"]] == capabilities
    text = page.replace("&#x27;", "'")
    for capability_verdict in probes["verdicts"]:
        assert capability_verdict["sentence"] in text
        low, high = capability_verdict["ci"]
        a, b = (probes["models"][name][capability_verdict["capability"]]["pass_rate"] for name in models)
        assert capability_verdict["difference"] == pytest.approx(b - a)
        beats = "beats" in capability_verdict["outcome"]
        assert beats == (low > 0 or high < 0)
    for name in models:
        for row in probes["models"][name].values():
            assert row["ci"][0] <= row["pass_rate"] <= row["ci"][1] and row["n"] > 0
    failing = sum(len(ids) for model in probes["failing"].values() for ids in model.values())
    assert page.count('<div class="sample probe">') == failing > 0


def test_heatmap_defaults_are_per_family() -> None:
    from imdb.tools.explain.methods import METHODS
    from imdb.tools.report.analysis import AnalyzeOptions
    from imdb.tools.report.settings import faithfulness_methods

    bert, dense = AnalyzeOptions().for_family("bert"), AnalyzeOptions().for_family("dense")
    assert (bert.method, bert.steps, bert.faithfulness_samples) == ("ig", 4, 100)
    assert (dense.method, dense.steps, dense.faithfulness_samples) == ("ig", 32, 200)
    chosen = AnalyzeOptions(method="gradxinput", steps=16, faithfulness_samples=0).for_family("bert")
    assert (chosen.method, chosen.steps, chosen.faithfulness_samples) == ("gradxinput", 16, 0)
    assert faithfulness_methods("bert", "ig") == ("ig",) and faithfulness_methods("cnn", "ig") == METHODS
    ngram = AnalyzeOptions().for_family("ngram")
    assert ngram.method == "exact" and faithfulness_methods("ngram", ngram.method) == ("exact", *METHODS)


NGRAM_LIMIT = 100
DECIDING_NGRAMS = 20


@pytest.fixture(scope="module")
def ngram_report(imdb_data_uri: str, data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ``analyze`` run of the shipped n-gram model: exact heatmaps and its phrase table."""
    out = tmp_path_factory.mktemp("report") / "ngram-validation"
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        code = analyze_main(["analyze", "--model", "ngram", "--data", imdb_data_uri, "--data-root", str(data_root),
                             "--split", "validation", "--limit", str(NGRAM_LIMIT), "--top", str(TOP), "--out",
                             str(out), "--no-progress"])
    assert code == 0
    assert json.loads(stdout.getvalue().strip().splitlines()[-1])["heatmap_method"] == "exact"
    return out


def test_ngram_report_lists_the_deciding_ngrams_with_weights_and_counts(ngram_report: Path) -> None:
    summary = json.loads((ngram_report / "report.json").read_text(encoding="utf-8"))
    tables = summary["deciding_ngrams"]
    assert [(table["class"], table["direction"]) for table in tables] == [("negative", "towards"),
                                                                          ("positive", "towards")]
    for table in tables:
        weights = [row["weight"] for row in table["ngrams"]]
        assert len(weights) == DECIDING_NGRAMS and weights == sorted(weights, reverse=True) and weights[-1] > 0
        for row in table["ngrams"]:
            assert row["documents"] == sum(row["documents_per_class"].values()) > 0
            assert row["documents_per_class"][table["class"]] > row["documents"] / 2, row
    page = (ngram_report / "index.html").read_text(encoding="utf-8")
    assert '<section id="phrases"><h2>The words and phrases that decide</h2>' in page
    assert all(f"<td class=\"text\">{html_escape(row['ngram'])}</td>" in page
               for table in tables for row in table["ngrams"])


def test_ngram_report_deletion_test_puts_exact_beside_the_gradients(ngram_report: Path) -> None:
    summary = json.loads((ngram_report / "report.json").read_text(encoding="utf-8"))
    rows = {row["method"]: row for row in summary["faithfulness"]}
    assert set(rows) == {"exact", "ig", "gradxinput"} and rows["exact"]["unit"] == "word"
    for row in rows.values():
        assert row["n"] == NGRAM_LIMIT and row["mean_drop_top_k"] > row["mean_drop_random"] + 0.1, row


def test_ngram_report_renders_exact_heatmaps_in_headless_chromium(chromium: str, ngram_report: Path) -> None:
    rendered = browser.render(ngram_report / "index.html")
    assert rendered.errors == [] and rendered.drawn_figures == rendered.figures > 0
    phrases = rendered.dom.split('<section id="phrases">')[1].split("</section>")[0]
    assert phrases.count("<h3 class=\"phrases\">") == 2 and phrases.count("<tr>") == 2 * (DECIDING_NGRAMS + 1)
    samples = rendered.dom.split('<section id="samples">')[1].split("</section>")[0]
    heat = samples.split('<div class="heat">')[1].split("</div>")[0]
    words = [span.split(">", 1)[1].split("<", 1)[0] for span in heat.split("<span")[1:]]
    assert words and len(words) == len(set(words)), "each word once: the model reads a bag of distinct n-grams"
    assert all(" " not in word for word in words), "words, not n-grams"
