"""Behavioural probes: the suite (templates, vocabulary, seeds), the perturbations of real
validation reviews, the intervals, the platform state, and ``imdb-leap probe`` on the trained
word models and on a tiny BERT."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

import leap_test
from imdb.contract.config import REPO_ROOT, Config, load_config
from imdb.contract.names import TEST, TRAINING, VALIDATION
from imdb.data import Corpus
from imdb.probes import (DIRECTIONAL, INVARIANCE, MINIMUM_FUNCTIONALITY, PROBE_PREFIX, ProbeCase, build_probe_set,
                         load_suite)
from imdb.probes.cases import minimum_functionality_cases
from imdb.probes.outcomes import case_passes, outcomes, rates
from imdb.probes.perturb import SCORE_MAX
from imdb.probes.stats import difference_interval, wilson
from imdb.probes.suite import SUITE_FILE, SuiteError
from imdb.runtime import components
from imdb.runtime.pipeline import Pipeline
from imdb.text.words import WordVocabulary, words
from imdb.tools.cli.main import main as cli_main
from imdb.tools.probes.run import compare_sentence, run_probes, target_for
from imdb.tools.report import browser

BERT_VOCAB = REPO_ROOT.parent / "shared" / "models" / "all-MiniLM-L6-v2" / "vocab.txt"
MIN_CASES = 300
MIN_CAPABILITIES = 6
TOLERANCE = 1e-4
TINY_BERT_LEN = 32
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# Keras converts its variables with np.array(..., copy=False), which NumPy 2 flags on every
# save and load; the warning is Keras's, not ours.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")


@pytest.fixture(scope="module")
def suite():
    return load_suite()


@pytest.fixture(scope="module")
def pipeline(imdb_data_uri: str, data_root: Path) -> Pipeline:
    return Pipeline(load_config(environ={}, model="dense", data=imdb_data_uri, data_root=data_root))


# ---------------------------------------------------------------- the suite


def test_suite_has_enough_cases_over_enough_capabilities(suite) -> None:
    cases = minimum_functionality_cases(suite)
    capabilities = {case.capability for case in cases}
    assert len(cases) >= MIN_CASES and len(capabilities) >= MIN_CAPABILITIES
    assert {"plain", "negation", "negated_negative", "contrast", "intensifier", "downtoner", "comparison"} <= capabilities
    for capability in capabilities:
        labels = {case.label for case in cases if case.capability == capability}
        members = [case for case in cases if case.capability == capability]
        assert len(members) == suite.cases_per_capability, capability
        assert len({case.text for case in members}) == len(members), f"{capability} repeats a case"
        assert labels <= {0, 1}
    assert all(case.kind == MINIMUM_FUNCTIONALITY and case.sample_id.startswith(PROBE_PREFIX) for case in cases)


def test_generation_is_reproducible_from_the_seed(suite, tmp_path: Path) -> None:
    again = minimum_functionality_cases(load_suite())
    assert [(c.sample_id, c.text) for c in again] == [(c.sample_id, c.text) for c in minimum_functionality_cases(suite)]
    raw = yaml.safe_load(SUITE_FILE.read_text(encoding="utf-8"))
    raw["seed"] = suite.seed + 1
    other_file = tmp_path / "suite.yaml"
    other_file.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    other = minimum_functionality_cases(load_suite(other_file))
    assert [c.sample_id for c in other] == [c.sample_id for c in again], "ids name positions, not texts"
    assert [c.text for c in other] != [c.text for c in again], "another seed draws other fillings"
    assert load_suite(other_file).fingerprint != suite.fingerprint


def test_a_bad_label_is_an_error_naming_the_file(tmp_path: Path) -> None:
    raw = yaml.safe_load(SUITE_FILE.read_text(encoding="utf-8"))
    raw["minimum_functionality"]["plain"]["templates"][0]["label"] = "neutral"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    with pytest.raises(SuiteError, match=rf"{re.escape(str(path))}.*'neutral'"):
        minimum_functionality_cases(load_suite(path))


def _suite_words(suite) -> set[str]:
    texts = [re.sub(r"\{\w+\}", " ", template.text) for capability in suite.capabilities
             for template in capability.templates]
    texts += [value for values in suite.fillers.values() for value in values]
    texts += [sentence for test in suite.directional for sentence in test.lists["sentences"]]
    return {word for text in texts for word in words(text)}


@pytest.mark.parametrize("vocabulary", ["word_vocab.txt", "scores.word_vocab.txt"])
def test_every_template_word_is_in_both_vocabularies(suite, vocabulary: str) -> None:
    """Whole words for the word models, stated scores kept whole or not (no [UNK]) and whole WordPieces for BERT (no split)."""
    word_vocabulary = WordVocabulary.load(REPO_ROOT / "imdb" / "assets" / vocabulary)
    bert_vocabulary = set(BERT_VOCAB.read_text(encoding="utf-8").split("\n"))
    found = _suite_words(suite)
    assert len(found) > 100
    assert sorted(w for w in found if word_vocabulary.id_of(w) == word_vocabulary.id_of("[UNK]")) == []
    assert sorted(found - bert_vocabulary) == []
    assert all(word_vocabulary.oov_count(words(case.text)) == 0 for case in minimum_functionality_cases(suite))


# ---------------------------------------------------------------- perturbations of real reviews


def test_probe_ids_are_stable_and_never_review_ids(pipeline: Pipeline, imdb_corpus: Corpus) -> None:
    probes = pipeline.probes
    review_ids = set(imdb_corpus)
    assert not any(sample_id.startswith(PROBE_PREFIX) for sample_id in review_ids)
    assert not set(probes.ids) & review_ids and len(set(probes.ids)) == len(probes)
    rebuilt = build_probe_set(load_suite(), [imdb_corpus[i] for i in imdb_corpus.ids(VALIDATION)])
    assert [(c.sample_id, c.text) for c in rebuilt] == [(c.sample_id, c.text) for c in probes]
    validation = set(imdb_corpus.ids(VALIDATION))
    for case in probes:
        if case.kind != MINIMUM_FUNCTIONALITY:
            assert case.source_id in validation and case.sample_id.endswith(case.source_id)
            assert case.label == imdb_corpus[case.source_id].label
            assert len(imdb_corpus[case.source_id].text.split()) <= probes.suite.max_words


def _changed(source: str, text: str) -> list[tuple[str, str]]:
    return [(a, b) for a, b in zip(source.split(), text.split()) if a != b]


def test_invariance_cases_change_only_what_they_claim(pipeline: Pipeline, imdb_corpus: Corpus, suite) -> None:
    tests = {test.name: test for test in suite.invariance}
    counts: dict[str, int] = {}
    for case in pipeline.probes:
        if case.kind != INVARIANCE:
            continue
        counts[case.capability] = counts.get(case.capability, 0) + 1
        source = imdb_corpus[case.source_id].text
        assert case.text != source
        if case.capability == "names":
            replaced = [name for name in tests["names"].lists["replacements"] if name in case.text]
            assert replaced and any(re.search(rf"\b{first}\s+[A-Z][a-z]+", source)
                                    for first in tests["names"].lists["first_names"])
        elif case.capability == "titles":
            assert any(f'"{title}"' in case.text for title in tests["titles"].lists["replacements"])
        elif case.capability == "numbers":
            for before, after in _changed(source, case.text):
                old, new = re.findall(r"\d+", before), re.findall(r"\d+", after)
                assert old and len(old) == len(new)
                for a, b in zip(old, new):
                    assert a == b or (int(a) > SCORE_MAX and int(b) > SCORE_MAX and len(a) == len(b))
            assert re.findall(r"\b\d+/10\b", source) == re.findall(r"\b\d+/10\b", case.text), "scores untouched"
        elif case.capability == "typos":
            (before, after), = _changed(source, case.text)
            assert sorted(before) == sorted(after) and before != after
            assert any(word in before.lower() for word in tests["typos"].lists["words"])
    assert set(counts) == set(tests) and all(count > 0 for count in counts.values())
    assert counts["typos"] == suite.reviews_per_test


def test_directional_cases_append_one_closing_sentence(pipeline: Pipeline, imdb_corpus: Corpus, suite) -> None:
    tests = {test.name: test for test in suite.directional}
    directional = [case for case in pipeline.probes if case.kind == DIRECTIONAL]
    assert {case.capability for case in directional} == set(tests)
    for case in directional:
        source = imdb_corpus[case.source_id].text.rstrip()
        assert case.text.startswith(source)
        assert case.text[len(source):].strip() in tests[case.capability].lists["sentences"]
        assert case.direction == tests[case.capability].direction
    assert sum(case.label for case in directional) == len(directional) // 2, "label-balanced"


# ---------------------------------------------------------------- intervals and outcomes


def test_wilson_interval_matches_published_values() -> None:
    """Newcombe (1998), table I: 0/10 -> [0, 0.2775]; 81/263 -> [0.2553, 0.3662]."""
    zero = wilson(0, 10)
    assert zero.value == 0 and zero.low == pytest.approx(0.0, abs=TOLERANCE)
    assert zero.high == pytest.approx(0.2775, abs=TOLERANCE)
    rate = wilson(81, 263)
    assert (rate.low, rate.high) == pytest.approx((0.2553, 0.3662), abs=TOLERANCE)
    assert np.isnan(wilson(0, 0).value)


def test_difference_interval_matches_newcombe() -> None:
    """Newcombe (1998), table II, example (a): 56/70 - 48/80 = 0.2, 95 % CI [0.0524, 0.3339]."""
    diff, low, high = difference_interval(wilson(56, 70), wilson(48, 80))
    assert diff == pytest.approx(0.2)
    assert (low, high) == pytest.approx((0.0524, 0.3339), abs=TOLERANCE)


def test_comparison_sentence_says_beats_only_outside_the_interval() -> None:
    from imdb.probes.outcomes import CapabilityRate

    weak = CapabilityRate("negation", MINIMUM_FUNCTIONALITY, wilson(10, 50))
    strong = CapabilityRate("negation", MINIMUM_FUNCTIONALITY, wilson(40, 50))
    close = CapabilityRate("negation", MINIMUM_FUNCTIONALITY, wilson(12, 50))
    beats = compare_sentence(weak, strong, "dense", "bert")
    assert beats.outcome == "bert beats dense" and beats.low > 0 and "+60.0 points" in beats.sentence
    assert compare_sentence(strong, weak, "bert", "dense").outcome == "bert beats dense"
    unclear = compare_sentence(weak, close, "dense", "cnn")
    assert unclear.outcome == "no clear difference" and unclear.low < 0 < unclear.high
    assert "includes 0" in unclear.sentence


def _case(kind: str, label: int = 1, direction: str = "same") -> ProbeCase:
    return ProbeCase(sample_id=f"{PROBE_PREFIX}{kind}/x/0", text="t", label=label, capability="x", kind=kind,
                     template="x/0", source_id="train/pos/1_9", direction=direction)


@pytest.mark.parametrize(("case", "positive", "source", "expected"), [
    (_case(MINIMUM_FUNCTIONALITY, 1), 0.8, None, True),
    (_case(MINIMUM_FUNCTIONALITY, 0), 0.8, None, False),
    (_case(INVARIANCE), 0.6, 0.9, True),
    (_case(INVARIANCE), 0.4, 0.9, False),
    (_case(DIRECTIONAL, direction="down"), 0.5, 0.9, True),
    (_case(DIRECTIONAL, direction="down"), 0.905, 0.9, True),
    (_case(DIRECTIONAL, direction="down"), 0.95, 0.9, False),
    (_case(DIRECTIONAL, direction="up"), 0.2, 0.6, False),
])
def test_pass_rules(case: ProbeCase, positive: float, source: float | None, expected: bool) -> None:
    assert case_passes(case, positive, source, tolerance=0.01) is expected


def test_rates_per_capability_count_passes() -> None:
    cases = [_case(MINIMUM_FUNCTIONALITY, label) for label in (1, 1, 0, 0)]
    passed = outcomes(cases, {case.sample_id: p for case, p in zip(cases, (0.9, 0.9, 0.9, 0.1))}, 0.01)
    (row,) = rates(cases, passed)
    assert (row.rate.passed, row.rate.n) == (2, 4)


# ---------------------------------------------------------------- the platform state


def test_probe_state_is_test_without_an_official_test_split_else_additional() -> None:
    from code_loader.contract.enums import DataStateType

    assert components.probe_state((TRAINING, VALIDATION)) == DataStateType.test
    assert components.probe_state((TRAINING, VALIDATION, TEST)) == DataStateType.additional


def test_probe_samples_have_every_metadata_and_encoder(pipeline: Pipeline) -> None:
    responses = components.preprocess_responses(pipeline)
    probe_response = responses[-1]
    assert probe_response.data["split"] == components.PROBES and probe_response.sample_ids == pipeline.probes.ids
    for sample_id in probe_response.sample_ids:
        meta = pipeline.metadata(sample_id)
        values = {**components.text_metadata(meta), **components.lexicon_metadata(meta),
                  **components.review_metadata(meta), **components.probe_metadata(pipeline.probe_case(sample_id))}
        for name, value in values.items():
            assert isinstance(value, (bool, int, float, str)), (sample_id, name, value)
            assert not isinstance(value, float) or np.isfinite(value), (sample_id, name)
        assert pipeline.model_input(sample_id, "input_tokens").shape == (pipeline.config.sequence_length,)
        assert pipeline.ground_truth(sample_id).sum() == 1.0
    review = responses[0].sample_ids[0]
    assert components.probe_metadata(pipeline.probe_case(review)) == components.NOT_A_PROBE


def test_check_dataset_accepts_probes_beside_an_official_test_split(official_tarball: Path, tmp_path: Path) -> None:
    """With the official test reviews in ``test``, code-loader takes the probes as ``additional``,
    beside the unlabelled reviews in ``unlabeled``."""
    verdict = leap_test.run_leap_check(REPO_ROOT, leap_test.check_env(official_tarball, tmp_path / "cache"))
    leap_test.assert_valid(verdict)
    assert verdict["lengths"]["test"] > 0 and verdict["lengths"]["additional"] > 0
    assert verdict["lengths"]["unlabeled"] > 0
    assert {"probe_capability", "probe_kind"} <= set(verdict["metadata"])


# ---------------------------------------------------------------- probing trained models


@pytest.fixture(scope="module")
def probe_run(imdb_data_uri: str, data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("probes")
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        code = cli_main(["probe", "--model", "dense", "--compare", "cnn", "--data", imdb_data_uri,
                         "--data-root", str(data_root), "--out", str(out), "--failing", "1", "--no-progress"])
    assert code == 0
    return json.loads(stdout.getvalue().strip().splitlines()[-1]), out


def test_probe_command_prints_pass_rates_per_capability_and_model(probe_run: tuple[dict, Path]) -> None:
    result, out = probe_run
    numbers = json.loads((out / "probes.json").read_text(encoding="utf-8"))
    assert result["models"] == ["dense", "cnn"] and result["cases"] == numbers["suite"]["cases"]
    assert len(result["pass_rates"]) >= MIN_CAPABILITIES + len(load_suite().invariance)
    for capability, per_model in result["pass_rates"].items():
        assert set(per_model) == {"dense", "cnn"}
        for model, rate in per_model.items():
            row = numbers["models"][model][capability]
            assert rate == pytest.approx(row["passed"] / row["n"], abs=TOLERANCE)
            assert row["ci"][0] <= rate <= row["ci"][1]
    assert numbers["models"]["dense"]["intensifier"]["pass_rate"] > 0.5, "the dense model reads plain sentiment"
    for model, templates in numbers["templates"].items():
        assert len(templates) > len(numbers["models"][model]), "several templates per capability"
        for capability, row in numbers["models"][model].items():
            owned = [t for name, t in templates.items() if capability in name.split("/")]
            assert sum(t["n"] for t in owned) == row["n"] and sum(t["passed"] for t in owned) == row["passed"]


def test_probe_report_renders_with_verdicts_and_heatmaps(probe_run: tuple[dict, Path]) -> None:
    result, out = probe_run
    page = (out / "index.html").read_text(encoding="utf-8").replace("&#x27;", "'")
    numbers = json.loads((out / "probes.json").read_text(encoding="utf-8"))
    assert '<section id="behaviour">' in page
    for verdict in numbers["verdicts"]:
        assert verdict["sentence"] in page
        assert verdict["ci"][0] <= verdict["difference"] <= verdict["ci"][1]
    failing = sum(len(ids) for model in numbers["failing"].values() for ids in model.values())
    assert failing > 0 and page.count('<div class="sample probe">') == failing
    assert page.count('class="hw"') > failing
    assert (out / "behaviour.png").read_bytes()[:len(PNG_MAGIC)] == PNG_MAGIC
    rendered = browser.render(out / "index.html")
    assert rendered.errors == [] and rendered.figures == rendered.drawn_figures == 1


def test_probes_run_on_a_tiny_bert(imdb_data_uri: str, data_root: Path, tmp_path: Path) -> None:
    """The BERT path: WordPiece inputs, the transformer's logits, heatmaps merged into words."""
    import keras

    from imdb.models.bert import build_classifier

    config: Config = load_config(environ={}, model="bert", data=imdb_data_uri, data_root=data_root,
                                 model_dir=tmp_path, **{"bert.checkpoint": str(BERT_VOCAB.parent),
                                                        "bert.max_len": TINY_BERT_LEN})
    keras.utils.set_random_seed(config.seed)
    build_classifier(config).save(tmp_path / "bert.keras")
    behaviour = run_probes([target_for(config)], failing_shown=1, steps=2, progress=False)
    (model,) = behaviour.models
    assert [row.capability for row in model.rates] == behaviour.probes.capabilities
    assert all(0.0 <= p <= 1.0 for p in model.positive.values())
    assert len(model.passed) == len(behaviour.probes)
    shown = [sample_id for ids in model.failing.values() for sample_id in ids]
    assert shown and set(shown) == set(model.heatmaps)
    heatmap = model.heatmaps[shown[0]]
    assert not any(word.startswith("##") or word in ("[CLS]", "[SEP]") for word in heatmap.words)
    assert all(sentence.sentence.startswith("bert passes") for sentence in behaviour.verdicts)
