"""textstat's 14 readability indices at corpus speed, equal to textstat's own functions.

Why not call ``textstat.<index>(text)`` for every review: textstat 0.7.x recomputes every
per-word fact (syllables from CMUdict or Pyphen, "difficult" or not, Arabic syllables for the
Osman index) for each text, behind ``lru_cache``s of 128 entries that a corpus thrashes, so a
review costs ~10 ms and 25,000 reviews minutes. A corpus repeats its words: here each word's
facts are computed once per process, by textstat's own functions, and each text is split once.

What is textstat's and what is ours: every per-text primitive (word lists, sentence counts,
punctuation removal) and every per-word fact is textstat's function, called as textstat calls
it; ours are the memo and the 14 formulas, written in textstat 0.7.8's operation order (so the
floats are the same bits). The Osman index's Arabic counts take a shortcut only for a text with
no Arabic letter at all, where textstat's loops provably count nothing; any other text goes
through textstat's functions. ``tests/test_readability.py`` checks equality with textstat on
real reviews, and ``imdb-leap bench`` on the whole corpus it scores.
"""

from __future__ import annotations

import re
from typing import Callable

from textstat.backend.utils.constants import RE_NONCONTRACTION_APOSTROPHE

LANG = "en_US"
# textstat.difficult_words' default threshold; Dale-Chall counts every non-easy word (0);
# Gunning fog's threshold comes from textstat's language table.
DIFFICULT_WORDS_THRESHOLD = 2
DALE_CHALL_THRESHOLD = 0
# Linsear Write reads the first this many words (textstat's strict_upper default).
LINSEAR_WORDS = 100
LINSEAR_DIFFICULT_SYLLABLES = 3
# Osman: a long word has more than this many letters; syllables of a text without vowel marks.
OSMAN_LONG_WORD = 5
OSMAN_SKIPPED_MARKS = ("?", ".", "!", ",", "*")
OSMAN_SYLLABLE_OFFSET = 2
# count_sentences drops sentences of at most this many words.
SHORT_SENTENCE_WORDS = 2
_ARABIC = re.compile("[\u0600-\u06ff]")
_SENTENCE = re.compile(r"\b[^.!?]+[.!?]*", re.UNICODE)
_NONCONTRACTION_APOSTROPHE = re.compile(RE_NONCONTRACTION_APOSTROPHE)
_PUNCTUATION = re.compile(r"[^\w\s\']")


class _Memo(dict):
    """A dict that computes a missing key's value once, so ``map(memo.__getitem__, words)``
    runs in C for every word already seen."""

    def __init__(self, compute: Callable[[str], object]) -> None:
        super().__init__()
        self._compute = compute

    def __missing__(self, key: str) -> object:
        value = self[key] = self._compute(key)
        return value


class ReadabilityScorer:
    """The indices of ``imdb.runtime.text_scoring.READABILITY_FUNCTIONS`` for many texts.

    One instance per process; its memos grow to the corpus vocabulary (~100k words for IMDB)."""

    def __init__(self) -> None:
        from textstat.backend import counts, selections, transformations, validations
        from textstat.backend.utils._get_cmudict import get_cmudict
        from textstat.backend.utils._get_lang_cfg import get_lang_cfg
        from textstat.backend.utils._get_lang_easy_words import get_lang_easy_words
        from textstat.backend.utils._get_pyphen import get_pyphen

        self.counts = counts
        self.list_words = selections.list_words
        self.remove_punctuation = remove_punctuation = _unwrapped(transformations.remove_punctuation)
        self._is_difficult_word = _unwrapped(validations.is_difficult_word)
        self._count_syllables = _unwrapped(counts.count_syllables)
        self._cmudict = get_cmudict(LANG)
        self._pyphen = get_pyphen(LANG)
        self._easy_words = get_lang_easy_words(LANG)
        self.cfg = lambda key: get_lang_cfg(LANG, key)
        # is_difficult_word's thresholds: Dale-Chall, difficult words, Gunning fog.
        self._thresholds = (DALE_CHALL_THRESHOLD, DIFFICULT_WORDS_THRESHOLD,
                            int(get_lang_cfg(LANG, "syllable_threshold")))
        # Keyed by a word as ``list_words(text, lowercase=True)`` lists it.
        self.listed_syllables = _Memo(self._syllables_of_listed)
        # ``count_syllables(word)`` on one listed word, as Linsear Write calls it.
        self.word_syllables = _Memo(self._syllables_of_word)
        # ``is_difficult_word`` at each threshold: the first memo fills the other two.
        self.dale_chall_difficult = _Memo(self._classify)
        self.difficult: dict[str, bool] = {}
        self.fog_difficult: dict[str, bool] = {}
        self.linsear_token = _Memo(lambda token: remove_punctuation(token, rm_apostrophe=False))

    def scores(self, text: str) -> dict[str, float]:
        """textstat's value of each index for ``text`` (the plain text textstat would be given)."""
        facts = _TextFacts(self, text)
        return {name: formula(facts) for name, formula in _FORMULAS.items()}

    def _syllables_of_listed(self, word: str) -> int:
        """The body of textstat's per-word loop in ``count_syllables``."""
        try:
            return sum(1 for phone in self._cmudict[word][0] if phone[-1].isdigit())
        except (TypeError, IndexError, KeyError):
            return len(self._pyphen.positions(word)) + 1

    def _syllables_of_word(self, word: str) -> int:
        """``count_syllables(word)``: textstat re-lists the word (punctuation removal, lower case,
        split). For an ASCII word already listed that yields its lower case alone, so the memo of
        listed words answers; any other word goes through textstat's function."""
        if word.isascii():
            return self.listed_syllables[word.lower()]
        return self._count_syllables(word, LANG)

    def _classify(self, word: str) -> bool:
        """``is_difficult_word(word, threshold)`` at the three thresholds, all memoised at once:
        an easy-list word never is; another one is when it has at least ``threshold`` syllables."""
        if word.isascii():
            lower = word.lower()
            easy = lower in self._easy_words
            syllables = 0 if easy else self.listed_syllables[lower]
            flags = [not easy and syllables >= threshold for threshold in self._thresholds]
        else:
            flags = [self._is_difficult_word(word, threshold, LANG) for threshold in self._thresholds]
        dale_chall, self.difficult[word], self.fog_difficult[word] = flags
        return dale_chall

    def linsear_write(self, facts: _TextFacts) -> float:
        """``metrics.linsear_write_formula(text, lang, strict_lower=False, strict_upper=True)``."""
        text_list = facts.tokens
        if len(text_list) > LINSEAR_WORDS:
            words, i_text = self._first_words(text_list)
        else:
            words, i_text = self.list_words(facts.text, rm_punctuation=True), len(text_list)
        syllables = list(map(self.word_syllables.__getitem__, words))
        difficult_word = sum(1 for n_syll in syllables if n_syll >= LINSEAR_DIFFICULT_SYLLABLES)
        easy_word = sum(1 for n_syll in syllables if 0 < n_syll < LINSEAR_DIFFICULT_SYLLABLES)
        try:
            number = float((easy_word * 1 + difficult_word * 3) / self.count_sentences(" ".join(text_list[:i_text])))
        except ZeroDivisionError:
            return 0.0
        if number <= 20:
            number -= 2
        return number / 2

    def _first_words(self, tokens: list[str]) -> tuple[list[str], int]:
        """Linsear Write's first ``LINSEAR_WORDS`` non-empty words, and how many tokens they took:
        each chunk asks for exactly the words still missing, so no token is read past the last."""
        words: list[str] = []
        taken = 0
        while taken < len(tokens) and len(words) < LINSEAR_WORDS:
            chunk = tokens[taken:taken + LINSEAR_WORDS - len(words)]
            words.extend(filter(None, map(self.linsear_token.__getitem__, chunk)))
            taken += len(chunk)
        return words, taken

    def osman_counts(self, facts: _TextFacts) -> tuple[int, int, int, int]:
        """(complex Arabic words, long words, Arabic syllables, faseeh words) as textstat counts them."""
        text = facts.text
        if _ARABIC.search(text):
            counts = self.counts
            return (counts.count_complex_arabic_words(text), counts.count_arabic_long_words(text),
                    counts.count_arabic_syllables(text), counts.count_faseeh(text))
        # No Arabic letter: no tashkeel (so no complex word, nothing stripped before the long-word
        # count, no short or long vowel), no stress mark, no faseeh letter.
        # textstat then counts a text's syllables as its characters less whitespace, "?.!,*" and
        # two: here the whitespace-free length less those marks' occurrences.
        long_words = sum(1 for word in facts.apostrophe_free_words if len(word) > OSMAN_LONG_WORD)
        syllables = facts.char_count - sum(map(text.count, OSMAN_SKIPPED_MARKS)) - OSMAN_SYLLABLE_OFFSET
        return 0, long_words, syllables, 0

    def count_sentences(self, text: str) -> int:
        """``counts.count_sentences``: sentences less those of at most two words (at least 1)."""
        if len(text) == 0:
            return 0
        sentences = _SENTENCE.findall(text)
        ignore_count = sum(1 for sentence in sentences if self._sentence_words(sentence) <= SHORT_SENTENCE_WORDS)
        return max(1, len(sentences) - ignore_count)

    def _sentence_words(self, sentence: str) -> int:
        """``counts.count_words(sentence)``, with textstat's two punctuation patterns compiled once."""
        return len(_PUNCTUATION.sub("", _NONCONTRACTION_APOSTROPHE.sub("", sentence)).split())


def _unwrapped(function: Callable) -> Callable:
    """The function behind textstat's 128-entry ``lru_cache`` (our memo replaces it)."""
    return getattr(function, "__wrapped__", function)


class _TextFacts:
    """The per-text counts the 14 formulas share, each computed once.

    Two identities keep this to one pass of each of textstat's punctuation removals: removing
    every whitespace character from ``t`` leaves ``"".join(t.split())`` (the same Unicode
    whitespace), and
    ``list_words`` is punctuation removal, then lower-casing, then ``split``."""

    def __init__(self, scorer: ReadabilityScorer, text: str) -> None:
        self.scorer, self.text = scorer, text
        remove_punctuation = scorer.remove_punctuation
        self.tokens = text.split()
        stripped = remove_punctuation(text, rm_apostrophe=False)
        words = stripped.split()
        self.apostrophe_free_words = remove_punctuation(text, rm_apostrophe=True).split()
        self.word_count = len(words)
        self.raw_word_count = len(self.tokens)
        self.sentence_count = scorer.count_sentences(text)
        self.syllable_count = sum(map(scorer.listed_syllables.__getitem__, stripped.lower().split()))
        self.char_count = sum(map(len, self.tokens))
        self.letter_count = sum(map(len, self.apostrophe_free_words))
        # The Dale-Chall memo goes first: it fills the other two for every word it meets.
        self.dale_chall_difficult = sum(map(scorer.dale_chall_difficult.__getitem__, words))
        self.fog_difficult = sum(map(scorer.fog_difficult.__getitem__, words))
        self.distinct_difficult = sum(map(scorer.difficult.__getitem__, set(words)))

    def words_per_sentence(self) -> float:
        return _ratio(self.word_count, self.sentence_count)

    def sentences_per_word(self) -> float:
        return _ratio(self.sentence_count, self.word_count)

    def syllables_per_word(self) -> float:
        return _ratio(self.syllable_count, self.word_count)

    def letters_per_word(self) -> float:
        return _ratio(self.letter_count, self.word_count)

    def chars_per_word(self) -> float:
        return _ratio(self.char_count, self.raw_word_count)


def _ratio(numerator: int, denominator: int) -> float:
    """textstat's per-word and per-sentence rates: 0.0 when the denominator is 0."""
    try:
        return numerator / denominator
    except ZeroDivisionError:
        return 0.0


def _automated_readability_index(f: _TextFacts) -> float:
    a, b = f.chars_per_word(), f.words_per_sentence()
    if a == 0 or b == 0:
        return 0.0
    return 4.71 * a + 0.5 * b - 21.43


def _coleman_liau_index(f: _TextFacts) -> float:
    letters, sentences = f.letters_per_word() * 100, f.sentences_per_word() * 100
    if letters == 0 or sentences == 0:
        return 0.0
    return 0.058 * letters - 0.296 * sentences - 15.8


def _crawford(f: _TextFacts) -> float:
    sentences, syllables = 100 * f.sentences_per_word(), 100 * f.syllables_per_word()
    if sentences == 0 or syllables == 0:
        return 0.0
    return -0.205 * sentences + 0.049 * syllables - 3.407


def _dale_chall_readability_score(f: _TextFacts) -> float:
    try:
        per_difficult_words = 100 * f.dale_chall_difficult / f.word_count
    except ZeroDivisionError:
        return 0.0
    score = 0.1579 * per_difficult_words + 0.0496 * f.words_per_sentence()
    if per_difficult_words > 5:
        score += 3.6365
    return score


def _difficult_words(f: _TextFacts) -> float:
    return f.distinct_difficult


def _fernandez_huerta(f: _TextFacts) -> float:
    sentence_length, syllables = f.words_per_sentence(), f.syllables_per_word()
    if sentence_length == 0 or syllables == 0:
        return 0.0
    return 206.84 - 60 * syllables - 1.02 * sentence_length


def _flesch_kincaid_grade(f: _TextFacts) -> float:
    sentence_length, syllables = f.words_per_sentence(), f.syllables_per_word()
    if sentence_length == 0 or syllables == 0:
        return 0.0
    return 0.39 * sentence_length + 11.8 * syllables - 15.59


def _flesch_reading_ease(f: _TextFacts) -> float:
    sentence_length, syllables = f.words_per_sentence(), f.syllables_per_word()
    if sentence_length == 0 or syllables == 0:
        return 0.0
    cfg = f.scorer.cfg
    return cfg("fre_base") - cfg("fre_sentence_length") * sentence_length - cfg("fre_syll_per_word") * syllables


def _gulpease_index(f: _TextFacts) -> float:
    spw, cpw = f.sentences_per_word(), f.chars_per_word()
    if spw == 0 or cpw == 0:
        return 0.0
    return 300 * spw - 10 * cpw + 89


def _gunning_fog(f: _TextFacts) -> float:
    try:
        per_diff_words = 100 * f.fog_difficult / f.word_count
    except ZeroDivisionError:
        return 0.0
    return 0.4 * (f.words_per_sentence() + per_diff_words)


def _gutierrez_polini(f: _TextFacts) -> float:
    lpw, wps = f.letters_per_word(), f.words_per_sentence()
    if lpw == 0 or wps == 0:
        return 0.0
    return 95.2 - 9.7 * lpw - 0.35 * wps


def _linsear_write_formula(f: _TextFacts) -> float:
    return f.scorer.linsear_write(f)


def _osman(f: _TextFacts) -> float:
    complex_words, long_words, syllables, faseeh = f.scorer.osman_counts(f)
    try:
        complex_word_rate = complex_words / f.word_count
        long_word_rate = long_words / f.word_count
        syllables_per_word = syllables / f.word_count
        faseeh_per_word = faseeh / f.word_count
    except ZeroDivisionError:
        return 0.0
    return 200.791 - 1.015 * f.words_per_sentence() - 24.181 * (
        complex_word_rate + syllables_per_word + faseeh_per_word + long_word_rate)


def _szigriszt_pazos(f: _TextFacts) -> float:
    try:
        return f.scorer.cfg("fre_base") - 62.3 * (f.syllable_count / f.word_count) - f.word_count / f.sentence_count
    except ZeroDivisionError:
        return 0.0


_FORMULAS: dict[str, Callable[[_TextFacts], float]] = {
    "automated_readability_index": _automated_readability_index,
    "coleman_liau_index": _coleman_liau_index,
    "crawford": _crawford,
    "dale_chall_readability_score": _dale_chall_readability_score,
    "difficult_words": _difficult_words,
    "fernandez_huerta": _fernandez_huerta,
    "flesch_kincaid_grade": _flesch_kincaid_grade,
    "flesch_reading_ease": _flesch_reading_ease,
    "gulpease_index": _gulpease_index,
    "gunning_fog": _gunning_fog,
    "gutierrez_polini": _gutierrez_polini,
    "linsear_write_formula": _linsear_write_formula,
    "osman": _osman,
    "szigriszt_pazos": _szigriszt_pazos,
}
