"""Keyset paging with opaque page tokens, the way TikTok Shop's search endpoints page."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import random
from collections.abc import Iterable, Mapping
from typing import Any

from sync_job.domain import jsonutil

# Every token starts with these bytes, so its base64 text starts with "+/": a client that does not
# percent-encode page tokens on the wire breaks on the very first one, not by luck much later.
_MAGIC = b"\xfb\xff"
_NONCE_BYTES = 7

Position = tuple[int, str]  # (sort value, id) of the last item of a page
Item = Mapping[str, Any]


class PageTokenError(ValueError):
    """The page token cannot be read or belongs to another query."""


def binding(kind: str, sort_field: str, sort_order: str, filters: Mapping[str, Any]) -> str:
    """Summarise a query, so a token is only accepted for the query that produced it."""
    digest = hashlib.sha256(jsonutil.dumps(dict(filters), sort_keys=True).encode()).hexdigest()
    return f"{kind}|{sort_field}|{sort_order}|{digest[:16]}"


def encode_token(position: Position, bound_to: str, rng: random.Random) -> str:
    """Make an opaque page token (standard base64, so it contains `+` and `/`)."""
    payload = json.dumps({"p": list(position), "b": bound_to}, separators=(",", ":"))
    raw = _MAGIC + rng.randbytes(_NONCE_BYTES) + payload.encode()
    return base64.b64encode(raw).decode("ascii")


def decode_token(token: str, bound_to: str) -> Position:
    """Read a page token back into a position; raise PageTokenError if it is not ours."""
    try:
        raw = base64.b64decode(token, validate=True)
        data = json.loads(raw[len(_MAGIC) + _NONCE_BYTES :])
        value, ident = data["p"]
        bound = data["b"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise PageTokenError("invalid page_token") from exc
    if not raw.startswith(_MAGIC) or not isinstance(value, int) or not isinstance(ident, str):
        raise PageTokenError("invalid page_token")
    if bound != bound_to:
        raise PageTokenError("page_token does not belong to this query")
    return value, ident


def _key(value: int, ident: str) -> tuple[int, int, str]:
    # Ids are digit strings of varying length: compare them as numbers, ties broken by id.
    return value, len(ident), ident


def paginate(
    items: Iterable[Item],
    *,
    sort_field: str,
    descending: bool,
    id_field: str,
    page_size: int,
    after: Position | None,
) -> tuple[list[Item], Position | None]:
    """Return one page after `after` and the position to continue from (None on the last page)."""

    def key(item: Item) -> tuple[int, int, str]:
        return _key(int(item.get(sort_field) or 0), str(item[id_field]))

    ordered = sorted(items, key=key, reverse=descending)
    if after is not None:
        edge = _key(*after)
        ordered = [i for i in ordered if (key(i) < edge if descending else key(i) > edge)]
    page = ordered[:page_size]
    if len(ordered) <= page_size:
        return page, None
    last = page[-1]
    return page, (int(last.get(sort_field) or 0), str(last[id_field]))
