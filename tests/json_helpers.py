"""Walking a parsed JSON value: the one tree walk the committed-result checks share."""

from __future__ import annotations

from typing import Any, Iterator


def json_leaves(value: Any) -> Iterator[Any]:
    """Every scalar of a JSON value (strings, numbers, booleans, nulls), however deep, in order."""
    if isinstance(value, dict):
        for item in value.values():
            yield from json_leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from json_leaves(item)
    else:
        yield value
