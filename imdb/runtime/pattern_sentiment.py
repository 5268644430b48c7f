"""TextBlob's sentiment (the pattern lexicon, ``textblob.en.sentiment``) at corpus speed, its values.

Why: TextBlob's polarity and subjectivity are half of a review's text scores, and 75,000 reviews
(the training archive and the unlabelled ones) must be scored in a minute on 2 cores. Two costs
of TextBlob's own object do not depend on the review:

* its lexicon is a ``lazydict``: each ``word in lexicon`` and ``lexicon[word]`` of the scoring
  loop (a dozen a word) goes through a Python method that first checks whether the lexicon is
  loaded (the ``in`` operator looks its method up on the class, so the lexicon's own rebinding
  after loading never takes effect);
* its tokenizer (``textblob._text.find_tokens``) splits every whitespace-separated token from
  its punctuation in a Python loop, although a corpus repeats the same tokens over and over.

``PatternSentiment`` is a copy of the loaded lexicon (same entries, negations, modifiers) under a
subclass whose lookups are dict's own, and its tokenizer is ``find_tokens`` line for line with
that per-token split memoised. TextBlob's own objects are left as they are; the tests compare
the two on real reviews and on the cases the corpus lacks (contractions, abbreviations,
ellipses, emoticons, sarcasm marks, paragraph breaks).
"""

from __future__ import annotations

import functools
import re
from typing import Any

# The dict methods a loaded lexicon answers with directly (``lazydict`` wraps each of them).
_DICT_LOOKUPS = ("__contains__", "__getitem__", "__iter__", "__len__", "get", "items", "keys", "values")
# Distinct tokens whose split is remembered per process (a corpus of 75,000 reviews has ~400,000).
TOKEN_MEMO = 1 << 20
# Sentence-final tokens and what may trail them, as find_tokens has them.
_SENTENCE_ENDS = ("...", ".", "!", "?")
_SENTENCE_TRAIL = ("'", '"', "”", "’", "...", ".", "!", "?", ")")
_QUOTES = ("'", '"')
_UNICODE_QUOTES = (("“", " “ "), ("”", " ” "), ("‘", " ‘ "), ("’", " ’ "), ("'", " ' "), ('"', ' " '))
_LINEBREAK = re.compile(r"\n{2,}")
_WHITESPACE = re.compile(r"\s+")


class _Tokenizer:
    """``textblob._text.find_tokens`` with its default arguments, the per-token split memoised."""

    def __init__(self) -> None:
        from textblob import _text

        self._text = _text
        self._punctuation = tuple(_text.PUNCTUATION.replace(".", ""))
        self._trailing = self._punctuation + (".",)
        self._replace = _text.replacements
        self.split_token = functools.lru_cache(maxsize=TOKEN_MEMO)(self._split_token)

    def _split_token(self, t: str) -> tuple[str, ...]:
        """Leading punctuation, the token, trailing punctuation (a period kept on an abbreviation)."""
        text, punctuation, replace = self._text, self._punctuation, self._replace
        tokens: list[str] = []
        tail: list[str] = []
        while t.startswith(punctuation) and t not in replace:
            tokens.append(t[0])
            t = t[1:]
        while t.endswith(self._trailing) and t not in replace:
            if t.endswith(punctuation):
                tail.append(t[-1])
                t = t[:-1]
            if t.endswith("..."):
                tail.append("...")
                t = t[:-3].rstrip(".")
            if t.endswith("."):
                if t in text.ABBREVIATIONS or text.RE_ABBR1.match(t) is not None \
                        or text.RE_ABBR2.match(t) is not None or text.RE_ABBR3.match(t) is not None:
                    break
                tail.append(t[-1])
                t = t[:-1]
        if t != "":
            tokens.append(t)
        tokens.extend(reversed(tail))
        return tuple(tokens)

    def __call__(self, string: str, **_: Any) -> list[str]:
        """The sentences of ``string``, each a space-separated string of tokens."""
        text = self._text
        string = str(string)
        for contraction, spaced in self._replace.items():
            string = string.replace(contraction, spaced)
        for quote, spaced in _UNICODE_QUOTES:
            string = string.replace(quote, spaced)
        string = string.replace("\r\n", "\n")
        string = _LINEBREAK.sub(f" {text.EOS} ", string)
        string = _WHITESPACE.sub(" ", string)
        tokens: list[str] = []
        for token in text.TOKEN.findall(string + " "):
            if token:
                tokens.extend(self.split_token(token))
        return [text.RE_EMOTICONS.sub(lambda m: m.group(1).replace(" ", "") + m.group(2),
                                      text.RE_SARCASM.sub("(!)", sentence))
                for sentence in self._sentences(tokens)]

    @staticmethod
    def _sentences(tokens: list[str]) -> list[str]:
        """find_tokens's sentence split: a period, ellipsis, ! or ? (and what trails it) ends one."""
        from textblob._text import EOS

        sentences: list[list[str]] = [[]]
        i = j = 0
        while j < len(tokens):
            if tokens[j] in _SENTENCE_ENDS or tokens[j] == EOS:
                while j < len(tokens) and (tokens[j] in _SENTENCE_TRAIL or tokens[j] == EOS):
                    if tokens[j] in _QUOTES and sentences[-1].count(tokens[j]) % 2 == 0:
                        break
                    j += 1
                sentences[-1].extend(t for t in tokens[i:j] if t != EOS)
                sentences.append([])
                i = j
            j += 1
        sentences[-1].extend(tokens[i:j])
        return [" ".join(sentence) for sentence in sentences if sentence]


@functools.cache
def pattern_sentiment() -> Any:
    """The loaded copy of ``textblob.en.sentiment``: ``pattern_sentiment()(text)`` returns the
    same ``(polarity, subjectivity)`` score (with its ``assessments``) as TextBlob's."""
    from textblob.en import sentiment

    len(sentiment)  # loads the lexicon
    loaded = type(f"Loaded{type(sentiment).__name__}", (type(sentiment),),
                  {name: getattr(dict, name) for name in _DICT_LOOKUPS})
    copy = dict.__new__(loaded)
    copy.__dict__.update(sentiment.__dict__)
    dict.update(copy, dict.items(sentiment))
    copy.tokenizer = _Tokenizer()
    return copy
