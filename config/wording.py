"""Small helpers that keep messages grammatical."""

from __future__ import annotations


def either(options: list[str]) -> str:
    """`a`, `a or b`, `a, b or c`."""
    return options[0] if len(options) == 1 else ", ".join(options[:-1]) + " or " + options[-1]


def plural(count: int, word: str, words: str = "") -> str:
    """`1 node`, `3 nodes`; `words` for an irregular plural."""
    return f"{count} {word}" if count == 1 else f"{count} {words or word + 's'}"
