"""Review text without its HTML residue (``<br />``, entities): one definition for all readers.

Why shared: the word tokenizer, the WordPiece encoder and the lexicon metadata must drop the
same markup, or a tag counts as a word for one of them and not for the others.
"""

from __future__ import annotations

import html
import re

HTML_TAG = re.compile(r"<[^>]*>")


def strip_tags(text: str) -> str:
    """Tags replaced by spaces (so the words around ``<br />`` stay apart)."""
    return HTML_TAG.sub(" ", text)


def plain_text(text: str) -> str:
    """Entities unescaped, tags removed, whitespace collapsed to single spaces."""
    return " ".join(strip_tags(html.unescape(text)).split())
