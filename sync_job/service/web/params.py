"""The page's query parameters, validated: a hostile or mistyped query string gets a 400, never
reaches SQL as anything but a bound value, and never comes back unescaped."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from flask import abort, request

from sync_job.domain.flow import KNOWN_STATUSES
from sync_job.service.web.readmodel import INVOICE_STATES

__all__ = ["ListParams", "read_params"]

MAX_PAGE = 10_000
_KIND = re.compile(r"[a-z][a-z0-9_]{0,39}")
_SEARCH = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


@dataclass(frozen=True)
class ListParams:
    """Paging and filters of the three lists on a shop's page (None: no filter)."""

    a_page: int = 1
    a_kind: str | None = None
    a_resolved: bool = False
    q_page: int = 1
    i_page: int = 1
    i_state: str | None = None
    i_status: str | None = None
    i_q: str | None = None

    def link(self, **changes: object) -> dict[str, object]:
        """Query arguments of this view with `changes` applied, defaults left out."""
        values = {**asdict(self), **changes}
        default = asdict(ListParams())
        return {
            k: (1 if v is True else v)
            for k, v in values.items()
            if v != default[k] and v is not None
        }


def _page(name: str) -> int:
    text = request.args.get(name, "1")
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE:
        abort(400, f"{name} must be a page number from 1 to {MAX_PAGE}")
    return int(text)


def _matching(name: str, pattern: re.Pattern[str], what: str) -> str | None:
    text = request.args.get(name, "").strip()
    if not text:
        return None
    if not pattern.fullmatch(text):
        abort(400, f"{name} must be {what}")
    return text


def _one_of(name: str, options: tuple[str, ...] | frozenset[str]) -> str | None:
    text = request.args.get(name, "")
    if not text:
        return None
    if text not in options:
        abort(400, f"{name} must be one of: {', '.join(sorted(options))}")
    return text


def read_params() -> ListParams:
    """Read and check every list parameter of the request; abort 400 naming a bad one."""
    resolved = request.args.get("a_resolved", "0")
    if resolved not in ("0", "1"):
        abort(400, "a_resolved must be 0 or 1")
    return ListParams(
        a_page=_page("a_page"),
        a_kind=_matching("a_kind", _KIND, "a kind such as rejected or bad_order"),
        a_resolved=resolved == "1",
        q_page=_page("q_page"),
        i_page=_page("i_page"),
        i_state=_one_of("i_state", INVOICE_STATES),
        i_status=_one_of("i_status", KNOWN_STATUSES),
        i_q=_matching("i_q", _SEARCH, "an order id or invoice number"),
    )
