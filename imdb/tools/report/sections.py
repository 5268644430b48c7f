"""The report's sections as HTML, from a computed ``Analysis`` (formatting only, no computing).

Every number on the page comes from the analysis objects; sentences such as a claim's
verdict are assembled from them, never written in advance.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Sequence

import numpy as np

from imdb.contract.names import LABEL_NAMES as POLARITY_NAMES

from imdb.tools.report import figures
from imdb.tools.report.analysis import Analysis, AnalyzeOptions, ModelRun
from imdb.tools.report.heatmaps import Heatmap, heatmap_html, legend_html
from imdb.tools.report.metadata_loss import Claim
from imdb.tools.report.page import Markup, Section, figure_html, table_html
from imdb.tools.report.settings import MODEL_SPACE
from imdb.tools.report.unlabeled import CONTENT_MAP, DOMINANCE_ODDS_RATIO, MODEL_MAP, UnlabeledAnalysis, far_share

if TYPE_CHECKING:
    from imdb.tools.probes.run import Behaviour, ModelProbe

# Metadata shown on each sample card: dashboard name -> short label.
CARD_METADATA = {"text_word_count": "words", "text_oov_count": "OOV", "text_truncated": "truncated",
                 "sentiment_lexicon_polarity": "polarity", "sentiment_lexicon_subjectivity": "subjectivity",
                 "review_rating": "rating", "review_movie_id": "movie"}
CLUSTER_WORDS_SHOWN = 8
METRIC_DIGITS = 4


def _pct(value: float) -> str:
    return "n/a" if np.isnan(value) else f"{100 * value:.1f} %"


def _num(value: float, digits: int = 3) -> str:
    return "n/a" if np.isnan(value) else f"{value:.{digits}f}"


def _p_value(value: float) -> str:
    return "n/a" if np.isnan(value) else f"{value:.1e}"


def _kpis(items: Sequence[tuple[str, str]]) -> str:
    return '<div class="kpis">' + "".join(
        f'<div class="kpi">{html.escape(name)}<b>{html.escape(value)}</b></div>' for name, value in items) + "</div>"


def summary_section(analysis: Analysis) -> Section:
    """Headline metrics, the confusion matrix and per-class counts."""
    summary, labels = analysis.summary, analysis.labels
    items = [("samples", f"{summary['n']:,}"), ("accuracy", _num(summary["accuracy"], METRIC_DIGITS)),
             ("loss", _num(summary["loss"], METRIC_DIGITS)), ("macro-F1", _num(summary["macro_f1"], METRIC_DIGITS))]
    if "star_mae" in summary:
        items.append(("mean star error", _num(summary["star_mae"], 2)))
    rows = [(row.name, f"{row.samples:,}", f"{row.predicted:,}", _pct(row.recall), _pct(row.precision),
             _num(row.f1), _num(row.mean_loss),
             f"{row.mistaken_for} ({row.mistaken_count:,})" if row.mistaken_for else "never")
            for row in analysis.class_rows]
    table = table_html(("class", "ground truth", "predicted", "recall", "precision", "F1", "mean loss",
                        "most often mistaken for"), rows)
    body = _kpis(items) + figure_html(figures.summary_figure(analysis.confusion, labels), "fig-summary") + table
    return Section("summary", "1. Summary", body)


def space_name(options: AnalyzeOptions) -> str:
    """What the map shows: the model layer or the content space."""
    return f"'{options.layer}' layer" if options.space == MODEL_SPACE else "content space (TF-IDF + SVD)"


def population_section(analysis: Analysis) -> Section:
    """The latent-space map coloured by ground truth and sized by loss."""
    options = analysis.options
    title = (f"{analysis.run.name}: {space_name(options)}, {options.projection.upper()} of "
             f"{len(analysis.samples):,} samples")
    where = ("the model's latent space" if options.space == MODEL_SPACE else
             "the content space (TF-IDF of its words reduced by SVD: topics, whatever the model)")
    note = (f"<p class='note'>Each dot is a review at its position in {where}. Colour: ground "
            "truth; size: loss; ×: misclassified. Hover a dot for its id, label, prediction and opening words; "
            "click legend entries to hide a class.</p>")
    figure = figures.population_map(analysis.coords, analysis.samples, analysis.run.predictions, analysis.labels,
                                    analysis.samples.snippets, title)
    return Section("population", "2. Population exploration", note + figure_html(figure, "fig-population"))


def clusters_section(analysis: Analysis) -> Section:
    """The map coloured by cluster and the per-cluster table."""
    options, labels = analysis.options, analysis.labels
    vectors = "latent vectors" if options.space == MODEL_SPACE else "content (topic) vectors"
    method = (f"k-means (k = {options.clusters}) on the PCA-reduced {vectors}" if options.cluster_method == "kmeans"
              else "HDBSCAN on the 2-D map")
    figure = figures.cluster_map(analysis.coords, analysis.assignments, analysis.samples, analysis.run.predictions,
                                 labels, analysis.samples.snippets, f"Clusters: {method}")
    headers = ("cluster", "size", "label mix", "accuracy", "mean loss", "mean words", "mean OOV", "mean polarity",
               "mean subjectivity", "mean rating", "truncated", "characteristic words (z)")
    rows = []
    for row in analysis.clusters:
        means = row.metadata_means
        mix = " / ".join(f"{name} {_pct(share)}" for name, share in row.label_share.items())
        words = ", ".join(f"{word} ({z:.0f})" for word, z in row.words[:CLUSTER_WORDS_SHOWN])
        rows.append((figures.cluster_name(row.cluster), f"{row.size:,}", mix, _pct(row.accuracy),
                     _num(row.mean_loss), _num(means["text_word_count"], 0), _num(means["text_oov_count"], 1),
                     _num(means["sentiment_lexicon_polarity"]), _num(means["sentiment_lexicon_subjectivity"]),
                     _num(means["review_rating"], 2), _pct(means["text_truncated"]), words))
    note = ("<p class='note'>Characteristic words: log-odds ratio of the cluster's words against all other "
            "reviews with an informative Dirichlet prior, as z-scores (stop words omitted).</p>")
    return Section("clusters", "3. Clusters", figure_html(figure, "fig-clusters") + note +
                   table_html(headers, rows, text_columns=(0, 2, 11)))


def claim_sentence(claim: Claim) -> str:
    """One sentence with the verdict and the numbers behind it."""
    share = f"{100 * claim.group_share:.0f} %"
    sentence = (f"{claim.statement}: {claim.verdict} — Spearman ρ = {claim.rho:+.3f} ({claim.strength}, "
                f"p = {_p_value(claim.p_value)}); mean loss {claim.low_group_loss:.3f} in the lowest {share} of "
                f"'{claim.field}' vs {claim.high_group_loss:.3f} in the highest {share}.")
    if claim.companion:
        sentence += f" Related: ρ = {claim.companion_rho:+.3f} for '{claim.companion}'."
    return sentence


def _verdict_markup(verdict: str) -> Markup:
    css = {"confirmed": "verdict-confirmed", "contradicted": "verdict-contradicted"}.get(verdict, "verdict-not")
    return Markup(f'<span class="{css}">{html.escape(verdict)}</span>')


def top_slices_sentence(analysis: Analysis) -> str:
    """Which metadata slices matter most for this model: the largest |ρ| with loss, in numbers."""
    from imdb.tools.report.metadata_loss import top_slices

    top = top_slices(analysis.fields)
    if not top:
        return "No metadata field varies enough on these samples to correlate with the loss."
    listed = "; ".join(f"{item.title} (ρ = {item.rho:+.3f}, p = {_p_value(item.p_value)})" for item in top)
    return f"The slices that matter most for {analysis.run.name} (largest |Spearman ρ| with the loss): {listed}."


def metadata_section(analysis: Analysis) -> Section:
    """The seeds' claims with verdicts, then every field's correlation and binned loss."""
    from imdb.tools.report.metadata_loss import EXTREME_GROUP_SHARE, MIN_MEANINGFUL_RHO, SIGNIFICANCE

    share = f"{100 * EXTREME_GROUP_SHARE:.0f} %"
    claims = table_html(
        ("seed claim", "field", "Spearman ρ", "p", f"mean loss, lowest {share}", f"mean loss, highest {share}",
         "verdict"),
        [(claim.statement, claim.field, f"{claim.rho:+.3f}", _p_value(claim.p_value), _num(claim.low_group_loss),
          _num(claim.high_group_loss), _verdict_markup(claim.verdict)) for claim in analysis.claims],
        text_columns=(0, 1, 6))
    sentences = "".join(f"<li>{html.escape(claim_sentence(claim))}</li>" for claim in analysis.claims)
    rule = (f"<p class='note'>A claim is confirmed when the rank correlation has the claimed sign, p &lt; "
            f"{SIGNIFICANCE} and |ρ| ≥ {MIN_MEANINGFUL_RHO}; contradicted when the same holds with the opposite "
            f"sign.</p>")
    fields = table_html(
        ("field", "Spearman ρ with loss", "p", "mean loss per bin (low → high)"),
        [(item.title, f"{item.rho:+.3f}" if not np.isnan(item.rho) else "n/a", _p_value(item.p_value),
          " · ".join(f"{b.mean_loss:.2f}" for b in item.bins)) for item in analysis.fields],
        text_columns=(0, 3))
    body = (claims + f"<ul>{sentences}</ul>" + rule + f"<p>{html.escape(top_slices_sentence(analysis))}</p>"
            + fields + figure_html(figures.metadata_figure(analysis.fields), "fig-metadata"))
    return Section("metadata", "4. Metadata vs loss", body)


def sample_card(analysis: Analysis, index: int, heatmap: Heatmap | None, run: ModelRun | None = None,
                note: str = "") -> str:
    """One review: id, label, prediction and probabilities, loss, metadata, and its word heatmap."""
    run = run or analysis.run
    labels, samples, predictions = analysis.labels, analysis.samples, run.predictions
    probabilities = ", ".join(f"p({name}) = {predictions.probabilities[index, i]:.3f}" for i, name in enumerate(labels))
    head = (f"{html.escape(run.name)} · {html.escape(samples.ids[index])} · label {labels[samples.labels[index]]} → "
            f"predicted {labels[predictions.predicted[index]]} · {probabilities} · loss {predictions.loss[index]:.3f}")
    meta = " · ".join(f"{short} {_meta_value(samples.metadata[name][index])}" for name, short in CARD_METADATA.items())
    heat = heatmap_html(heatmap) if heatmap is not None else "<p class='note'>no heatmap</p>"
    extra = f"<div class='meta'>{note}</div>" if note else ""
    return f'<div class="sample"><div class="head">{head}</div><div class="meta">{html.escape(meta)}</div>{extra}{heat}</div>'


def _meta_value(value: object) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{value:.3f}"
    return str(value)


def samples_section(analysis: Analysis) -> Section:
    """The highest-loss errors of each kind, with heatmaps."""
    own = analysis.heatmaps.get(analysis.run.name, {})
    parts = [legend_html()]
    for group in analysis.errors:
        parts.append(f"<h3>{html.escape(group.title)} — {group.total:,} in all, the {len(group.indices)} with the "
                     f"highest loss</h3>")
        parts.extend(sample_card(analysis, int(i), own.get(analysis.samples.ids[i])) for i in group.indices)
    return Section("samples", "5. Sample analysis: highest-loss errors", "\n".join(parts))


def mislabeled_section(analysis: Analysis) -> Section:
    """Confident-learning thresholds, the confident joint and the top label issues with heatmaps."""
    issues, labels = analysis.issues, analysis.labels
    own = analysis.heatmaps.get(analysis.run.name, {})
    thresholds = ", ".join(f"t({name}) = {issues.thresholds[i]:.3f}" for i, name in enumerate(labels))
    joint = table_html(("given label \\ confident class", *labels),
                       [(name, *[f"{value:,}" for value in issues.confident_joint[i]]) for i, name in enumerate(labels)])
    flagged = len(issues.ranked)
    intro = (f"<p>Per-class thresholds (mean self-confidence): {html.escape(thresholds)}. {flagged:,} samples "
             f"({_pct(flagged / max(1, len(analysis.samples)))}) sit off the diagonal of the confident joint: the model "
             f"is confident, by the class's own standard, that their label is wrong. Ranked by the margin "
             f"p(confident class) − p(given label); the top {min(flagged, analysis.options.top)} follow.</p>")
    if analysis.options.split == "training":
        intro += ("<p class='note'>On the training split the probabilities are in-sample: the model was fitted "
                  "on these labels, which hides label issues. The validation split gives cleaner estimates.</p>")
    cards = [sample_card(analysis, int(i), own.get(analysis.samples.ids[i]),
                         note=f"confident class {labels[issues.suggested[i]]}, margin {issues.margin[i]:.3f}")
             for i in issues.ranked[:analysis.options.top]]
    return Section("mislabeled", "6. Likely mislabeled samples", intro + joint + legend_html() + "\n".join(cards))


def compare_section(analysis: Analysis) -> Section:
    """Agreement, the cue-word table and the flipped reviews with both heatmaps side by side."""
    comparison, other = analysis.comparison, analysis.other
    name_a, name_b = comparison.name_a, comparison.name_b
    kpis = _kpis([("agreement", _pct(comparison.agreement)), (f"accuracy {name_a}", _num(comparison.accuracy_a, METRIC_DIGITS)),
                  (f"accuracy {name_b}", _num(comparison.accuracy_b, METRIC_DIGITS)),
                  (f"{name_b} right, {name_a} wrong", f"{int(comparison.b_right_a_wrong.sum()):,}"),
                  (f"{name_a} right, {name_b} wrong", f"{int(comparison.a_right_b_wrong.sum()):,}")])
    cues = table_html(("cue", "reviews", f"accuracy {name_a}", f"accuracy {name_b}", f"{name_b} right, {name_a} wrong",
                       f"{name_a} right, {name_b} wrong"),
                      [(f'"{row.phrase}"', f"{row.count:,}", _num(row.accuracy_a, METRIC_DIGITS), _num(row.accuracy_b, METRIC_DIGITS),
                        f"{row.b_right_a_wrong:,}", f"{row.a_right_b_wrong:,}") for row in comparison.cues])
    heat_a = analysis.heatmaps.get(analysis.run.name, {})
    heat_b = analysis.heatmaps.get(other.name, {})
    shown = comparison.ranked_flips[:analysis.options.top]
    pairs = []
    for index in shown:
        sample_id = analysis.samples.ids[index]
        pairs.append('<div class="pair">' + sample_card(analysis, int(index), heat_a.get(sample_id)) +
                     sample_card(analysis, int(index), heat_b.get(sample_id), run=other) + "</div>")
    body = (kpis + figure_html(figures.comparison_figure(comparison), "fig-compare") + cues +
            f"<h3>Reviews one model gets right and the other wrong: the {len(shown)} where the true label's "
            "probability moved most</h3>" +
            legend_html() + "\n".join(pairs))
    return Section("compare", f"7. Model vs model: {name_a} vs {name_b}", body)


METHOD_NAMES = {"ig": "integrated gradients", "gradxinput": "gradient × input", "exact": "exact (n-gram weights)"}
DELETED_UNITS = {"word": "words", "token": "tokens"}


def phrases_section(analysis: Analysis) -> Section:
    """The n-gram model's strongest weights per class, with their training-split document counts."""
    labels = analysis.labels
    note = ("<p class='note'>The model's logits are its bias plus one weight per distinct n-gram of the review. "
            "Weight: what the n-gram adds to the logit of the class minus the mean logit of the other classes "
            "(two classes: positive minus negative logit) whenever it is in a review; the word heatmaps split it "
            "equally among the n-gram's words. Reviews: training reviews containing the n-gram, in all and per "
            "class.</p>")
    parts = [note]
    for table in analysis.phrases:
        rows = [(str(rank), phrase.ngram, f"{phrase.weight:+.3f}", f"{phrase.documents:,}",
                 *[f"{count:,}" for count in phrase.documents_per_class])
                for rank, phrase in enumerate(table.phrases, start=1)]
        parts.append(f"<h3 class='phrases'>{html.escape(table.direction.capitalize())} "
                     f"{html.escape(table.target)}: the {len(rows)} strongest n-grams</h3>")
        parts.append(table_html(("rank", "n-gram", "weight", "training reviews",
                                 *[f"reviews {name}" for name in labels]), rows, text_columns=(1,)))
    return Section("phrases", "The words and phrases that decide", "\n".join(parts))


def faithfulness_section(analysis: Analysis) -> Section:
    """The deletion test per heatmap method: are the highlighted words the ones the model uses?"""
    rows = [(METHOD_NAMES.get(row["method"], row["method"]), f"{row['n']:,}",
             f"{row['k']} {DELETED_UNITS.get(row.get('unit', 'token'), 'tokens')}",
             _num(row["mean_drop_top_k"]), _num(row["mean_drop_random"]), _num(row["margin"]),
             _pct(row["win_rate"]), f"{_pct(row['flip_rate_top_k'])} / {_pct(row['flip_rate_random'])}")
            for row in analysis.faithfulness]
    note = ("<p class='note'>Delete the k highest-scored words of each review (replace them by padding) versus k "
            "random words, and measure the drop of the predicted class's probability. Faithful heatmaps make "
            "the first drop much larger than the second. Tokens are the model's: words for dense and CNN, "
            "WordPieces for BERT, n-grams for the n-gram family, whose exact heatmap instead deletes k words, "
            "each with every n-gram containing it.</p>")
    table = table_html(("method", "reviews", "k", "drop, top-k words", "drop, random words", "margin",
                        "top-k hurts more", "prediction flips (top-k / random)"), rows)
    return Section("faithfulness", "Word heatmaps: faithfulness (deletion test)", note + table)


def timings_section(analysis: Analysis) -> Section:
    """Seconds per step, so a slow run shows where its time went."""
    rows = [(step, f"{seconds:.1f}") for step, seconds in analysis.timings.items()]
    return Section("timings", "Run time", "<p class='note'>Seconds per step, before the report was written.</p>" +
                   table_html(("step", "seconds"), rows))


def _rate_cell(model: "ModelProbe", index: int) -> str:
    rate = model.rates[index].rate
    return f"{_pct(rate.value)} [{_pct(rate.low)}, {_pct(rate.high)}]"


def probe_card(behaviour: "Behaviour", model: "ModelProbe", sample_id: str, labels: Sequence[str]) -> str:
    """One failing probe case: what it tests, what was expected, what the model did, its heatmap."""
    from imdb.probes.outcomes import POSITIVE

    case = behaviour.case(sample_id)
    p = model.positive[sample_id]
    positive = labels[POSITIVE]
    if case.kind == "minimum_functionality":
        expected = f"expected {labels[case.label]}"
    else:
        source = model.positive[case.source_id]
        wanted = {"up": "should rise", "down": "should fall"}.get(case.direction, "prediction should not flip")
        expected = f"source review {case.source_id}: p({positive}) = {source:.3f}; {wanted}"
    head = (f"{html.escape(model.name)} · {html.escape(case.capability)} ({html.escape(case.kind)}) · "
            f"{html.escape(sample_id)} · {html.escape(expected)} · p({positive}) = {p:.3f} → failed")
    heatmap = model.heatmaps.get(sample_id)
    heat = heatmap_html(heatmap) if heatmap is not None else f"<p class='note'>{html.escape(case.text)}</p>"
    return f'<div class="sample probe"><div class="head">{head}</div>{heat}</div>'


def behaviour_section(behaviour: "Behaviour", labels: Sequence[str], anchor: str = "behaviour",
                      title: str = "Behaviour: what each model understands") -> Section:
    """Pass rates per capability and model (table, bar chart), a verdict sentence per
    capability, and the failing cases with their word heatmaps."""
    models = behaviour.models
    first = models[0]
    suite = behaviour.probes.suite
    intro = (f"<p class='note'>CheckList-style probes (Ribeiro et al., ACL 2020) from {html.escape(suite.path.name)} "
             f"(seed {suite.seed}, {len(behaviour.probes):,} cases). Minimum functionality: templated reviews with a "
             f"known label. Invariance: real validation reviews with a name, a quoted title, the numbers or one "
             f"neutral word changed; the prediction must not flip. Directional: a clearly negative or positive "
             f"closing sentence appended; p({html.escape(labels[-1])}) must move that way (tolerance "
             f"{suite.directional_tolerance}). Intervals: 95 % Wilson; differences: Newcombe's hybrid score "
             f"interval.</p>")
    headers = ("capability", "kind", "cases", *[f"{model.name} pass rate [95 % CI]" for model in models])
    rows = [(row.capability, row.kind, f"{row.rate.n:,}", *[_rate_cell(model, index) for model in models])
            for index, row in enumerate(first.rates)]
    table = table_html(headers, rows, text_columns=(0, 1))
    sentences = "".join(f"<li>{html.escape(verdict.sentence)}</li>" for verdict in behaviour.verdicts)
    cards = []
    for model in models:
        shown = [sample_id for group in model.failing.values() for sample_id in group]
        if shown:
            cards.append(f"<h3>{html.escape(model.name)}: failing cases, the most confidently wrong per capability</h3>")
            cards.extend(probe_card(behaviour, model, sample_id, labels) for sample_id in shown)
    body = (intro + table + f"<ul class='verdicts'>{sentences}</ul>" +
            figure_html(figures.behaviour_figure(behaviour), f"fig-{anchor}") + legend_html() + "\n".join(cards))
    return Section(anchor, title, body)


def calibration_section(analysis: Analysis) -> Section:
    """Can the probabilities be trusted: ECE with its interval, the reliability diagram, and what
    one temperature fitted on training reviews would leave."""
    rows = []
    for name, fit in analysis.calibration.items():
        low, high = fit["ece_interval"]
        rows.append((name, _num(fit["ece"]), f"[{_num(low)}, {_num(high)}]", _num(fit["temperature"], 2),
                     _num(fit["ece_after_temperature"]), f"{fit['fit_samples']:,}"))
    table = table_html(("model", "ECE", "95 % interval (bootstrap)", "temperature", "ECE after temperature",
                        "training reviews fitted on"), rows)
    note = ("<p class='note'>Expected calibration error: the mean gap between the model's confidence and its "
            f"accuracy over {next(iter(analysis.calibration.values()))['bins']} equal-width confidence bins, weighted "
            "by bin size. On the diagonal a model is right as often as it claims; below it, overconfident. "
            "The temperature divides the logits and is fitted on training reviews only, never on the split "
            "shown: the ECE after it is what one scalar would fix. The model has seen those reviews, so it is "
            "surer of them than of new ones; a temperature below 1 that raises the ECE here says so.</p>")
    figure = figures.reliability_figure(analysis.calibration)
    return Section("calibration", "Calibration: can the probabilities be trusted?",
                   note + table + figure_html(figure, "fig-calibration"))


def unlabeled_section(analysis: Analysis) -> Section:
    """Where the unlabelled reviews sit against the labelled ones, which topics only they
    cover, how sure the model is of them, and (with a second model) where the models part ways."""
    result, options = analysis.unlabeled, analysis.options
    threshold = result.threshold
    kpis = _kpis([("unlabelled analysed", f"{len(result.ids):,} of {result.available:,}"),
                  ("far from every labelled review", _pct(result.far_share)),
                  ("labelled reviews that far", _pct(far_share(result.labeled_distances, threshold.value))),
                  ("mean confidence, labelled", _num(float(result.labeled_confidence.mean()))),
                  ("mean confidence, unlabelled", _num(float(result.unlabeled_confidence.mean())))])
    note = (f"<p class='note'>{len(result.ids):,} unlabelled reviews (aclImdb's train/unsup/, a seeded sample; "
            f"<code>--unlabeled-limit</code>) beside the {len(analysis.samples):,} labelled {options.split} reviews "
            f"analysed. Far: the cosine distance in the content space to the nearest labelled training review "
            f"exceeds {threshold.value:.3f}, the {threshold.percentile:.0f}th percentile of that distance for "
            f"{threshold.calibration_reviews:,} labelled validation reviews (against {threshold.reference_reviews:,} "
            f"training reviews). The threshold is fitted on labelled reviews only: a review of the labelled "
            f"distribution is that far {100 - threshold.percentile:.0f} % of the time, so a far share well above "
            f"that says the unlabelled reviews reach where the labels do not. On the maps, × marks a far "
            f"unlabelled review.</p>")
    maps = [(MODEL_MAP, f"{analysis.run.name}: '{options.layer}' layer"), (CONTENT_MAP, "content space (TF-IDF + SVD)")]
    figures_html = "".join(figure_html(figures.unlabeled_map(
        result.maps[space], analysis.samples, analysis.labels, result.ids, result.snippets, result.far,
        f"Labelled and unlabelled reviews: {name}, {options.projection.upper()}"), f"fig-unlabeled-{space}")
        for space, name in maps)
    body = kpis + note + figures_html + _unlabeled_clusters(result, DOMINANCE_ODDS_RATIO) + _unlabeled_confidence(
        analysis) + _unlabeled_disagreements(analysis)
    return Section("unlabeled", "Unlabelled reviews", body)


def _unlabeled_clusters(result: UnlabeledAnalysis, odds_ratio: float) -> str:
    rows = [(figures.cluster_name(row.cluster), f"{row.size:,}", f"{row.unlabeled:,}", _pct(row.unlabeled_share),
             _num(row.odds_ratio, 2), "yes" if row.dominated else "no",
             ", ".join(f"{word} ({z:.0f})" for word, z in row.words[:CLUSTER_WORDS_SHOWN]))
            for row in result.clusters]
    dominated = sum(row.dominated for row in result.clusters)
    note = (f"<p class='note'>k-means on the content vectors of both populations together. An unlabelled-dominated "
            f"cluster holds at least {odds_ratio:g}× as many unlabelled reviews per labelled one as the whole map "
            f"(odds ratio; odds rather than shares, so that the populations' sizes do not decide it): topics the "
            f"labelled data under-covers. {dominated} of {len(result.clusters)} clusters are. Words: log-odds z-scores "
            f"of the cluster against the rest.</p>")
    return "<h3>Content clusters, most unlabelled first</h3>" + note + table_html(
        ("cluster", "size", "unlabelled", "unlabelled share", "odds ratio", "unlabelled-dominated",
         "characteristic words (z)"), rows, text_columns=(0, 5, 6))


def _unlabeled_confidence(analysis: Analysis) -> str:
    result = analysis.unlabeled
    note = (f"<p class='note'>The predicted class's probability, each population as a share of itself. Mean "
            f"normalised entropy (0 certain, 1 uniform): labelled {_num(result.labeled_entropy)}, unlabelled "
            f"{_num(result.unlabeled_entropy)}. Without labels this is confidence, not accuracy: a model as sure of "
            f"the unlabelled reviews as of the labelled ones can still be wrong where they lie far from its "
            f"training data.</p>")
    figure = figures.confidence_histogram(result.labeled_confidence, result.unlabeled_confidence,
                                          1.0 / len(analysis.labels))
    return ("<h3>Confidence on labelled vs unlabelled reviews</h3>" + note +
            figure_html(figure, "fig-unlabeled-confidence"))


def _unlabeled_disagreements(analysis: Analysis) -> str:
    result = analysis.unlabeled
    if not result.disagreements:
        return ""
    names = list(result.disagreements[0].predictions)
    rows = [(row.sample_id, _num(row.distance), *[f"{label} ({p:.3f})" for label, p in row.predictions.values()],
             row.preview) for row in result.disagreements]
    return (f"<h3>Where {html.escape(names[0])} and {html.escape(names[1])} disagree most on unlabelled reviews</h3>"
            "<p class='note'>Total variation distance between the two models' probabilities (0: the same, 1: "
            "opposite certainties); each model's predicted class with its probability.</p>" +
            table_html(("id", "total variation", *[f"{name} prediction" for name in names], "review"), rows,
                       text_columns=(0, 2, 3, 4)))


def all_sections(analysis: Analysis) -> list[Section]:
    """The sections in page order; the comparison only when a second model was given."""
    sections = [summary_section(analysis), population_section(analysis), clusters_section(analysis),
                metadata_section(analysis), samples_section(analysis), mislabeled_section(analysis)]
    if analysis.phrases:
        sections.append(phrases_section(analysis))
    if analysis.calibration:
        sections.append(calibration_section(analysis))
    if analysis.comparison is not None:
        sections.append(compare_section(analysis))
    if analysis.unlabeled is not None:
        sections.append(unlabeled_section(analysis))
    if analysis.behaviour is not None:
        sections.append(behaviour_section(analysis.behaviour, POLARITY_NAMES))
    if analysis.faithfulness:
        sections.append(faithfulness_section(analysis))
    sections.append(timings_section(analysis))
    return sections
