"""Mask secrets in text, in every form a secret takes on its way out.

A secret is rarely printed as itself only: a URL carries it percent-encoded (`+` `/` `=` become
`%2B` `%2F` `%3D`), an exception message carries its `repr` (quotes and backslashes escaped), a JSON
body carries it JSON-escaped. Masking only the raw value misses all of these, so each secret is
expanded once into all its forms, and every form is masked.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable
from typing import Final
from urllib.parse import quote, quote_plus

__all__ = ["MASK", "Redactor", "scrub", "secret_forms"]

MASK: Final = "***"
_PERCENT: Final = re.compile(r"%[0-9A-F]{2}")


def _lower_hex(text: str) -> str:
    """The same percent-encoding with lower-case hex digits (also valid, some servers echo it)."""
    return _PERCENT.sub(lambda m: m.group(0).lower(), text)


def secret_forms(secret: str) -> frozenset[str]:
    """Every spelling of `secret` a log line, URL, error or JSON body may carry."""
    escaped_json = json.dumps(secret)[1:-1]
    percent = {quote(secret, safe=""), quote(secret), quote_plus(secret)}
    forms = {
        secret,
        repr(secret)[1:-1],  # a str's repr: quotes, backslashes and control characters escaped
        secret.encode("unicode_escape").decode("ascii"),
        escaped_json,
        json.dumps(secret, ensure_ascii=False)[1:-1],
        escaped_json.replace("/", "\\/"),  # JSON may also escape the solidus
        *percent,
        *(_lower_hex(p) for p in percent),
    }
    forms.discard("")
    return frozenset(forms)


def _longest_first(forms: Iterable[str]) -> tuple[str, ...]:
    """Longest first, so a form that contains another one is masked whole."""
    return tuple(sorted(set(forms), key=len, reverse=True))


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Replace every form of every (non-empty) secret inside `text` with MASK."""
    forms = _longest_first(f for s in secrets if s for f in secret_forms(s))
    return _replace_all(text, forms)


def _replace_all(text: str, forms: tuple[str, ...]) -> str:
    for form in forms:
        if form in text:
            text = text.replace(form, MASK)
    return text


class Redactor:
    """A growing set of secrets, masked in every form; safe to share between threads."""

    def __init__(self, *, min_length: int = 1) -> None:
        self._min_length = min_length
        self._lock = threading.Lock()
        self._secrets: frozenset[str] = frozenset()
        # Replaced, never mutated, so scrub() reads it without the lock.
        self._forms: tuple[str, ...] = ()

    def add(self, secret: str) -> None:
        """Mask this secret (in all its forms) from now on; too-short values are ignored."""
        if len(secret) < self._min_length or secret in self._secrets:
            return
        with self._lock:
            self._secrets |= {secret}
            self._forms = _longest_first((*self._forms, *secret_forms(secret)))

    def scrub(self, text: str) -> str:
        """`text` with every form of every added secret replaced by MASK."""
        return _replace_all(text, self._forms)
