"""The operator page as a Flask app: per shop health, work list, quarantine, invoices and chart.

Flask (routing, forms, signed sessions) and Jinja2 (templates with autoescaping, so order data
such as a product name with `<script>` is shown as text) do the HTTP and the HTML; waitress
serves it from a bounded thread pool (service/serve.py). Reads go through a read-only connection
per request; the two buttons write through the same Store functions as `sync-job retry` and
`sync-job attention done` (Store.requeue_quarantined, state.attention.resolve_attention_ids).
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, abort, flash, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException, ServiceUnavailable
from werkzeug.wrappers import Response

from sync_job.domain.flow import KNOWN_STATUSES
from sync_job.service.config import Config, Secret, ShopConfig
from sync_job.service.web import guard, present, readmodel
from sync_job.service.web.params import ListParams, read_params
from sync_job.state.attention import resolve_attention_ids
from sync_job.state.store import Store
from sync_job.state.verify_requests import request_verify

__all__ = ["PageSettings", "create_app"]

PAGE_SIZE = 20
CHART_HOURS = 48
# Invoice counts per state are a GROUP BY over the shop's whole ledger (~100 ms at 100,000
# invoices on a busy 2-core machine): recount at most this often; the lists themselves are live.
COUNTS_TTL_SECONDS = 30.0
_SECURITY_HEADERS = {
    # No script runs on this page at all; styles come from our own static file only.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class CountsCache:
    """Per-shop invoice counts, recounted at most every `ttl` seconds (thread-safe)."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._found: dict[str, tuple[float, dict[str, int]]] = {}

    def get(self, shop_id: str, now: float, count: Callable[[], dict[str, int]]) -> dict[str, int]:
        """The cached counts while fresh, else `count()` (stored for the next `ttl` seconds)."""
        with self._lock:
            cached = self._found.get(shop_id)
        if cached is not None and now < cached[0]:
            return cached[1]
        counts = count()
        with self._lock:
            self._found[shop_id] = (now + self.ttl, counts)
        return counts


@dataclass(frozen=True)
class PageSettings:
    """What the page needs from the config (nothing secret but the admin token)."""

    state_path: Path
    shops: tuple[ShopConfig, ...]
    timezone: str
    interval_seconds: int
    rate_limit: int
    rate_window_seconds: float
    admin_token: Secret | None = None
    tenant: str = ""  # the DealPOS tenant as the shared quota log names it
    clock: Callable[[], float] = field(default=time.time, compare=False)
    counts: CountsCache = field(
        default_factory=lambda: CountsCache(COUNTS_TTL_SECONDS), compare=False
    )

    @classmethod
    def from_config(cls, config: Config) -> PageSettings:
        """Take the page's settings from the validated config."""
        return cls(
            state_path=config.state.path,
            shops=config.tiktok.shops,
            timezone=config.sync.timezone,
            interval_seconds=config.schedule.interval_seconds,
            rate_limit=config.dealpos.rate_limit,
            rate_window_seconds=config.dealpos.rate_window_seconds,
            admin_token=_usable(config.web.admin_token),
            tenant=f"{config.dealpos.base_url} {config.dealpos.client_id}",  # as App names it
        )

    @property
    def zone(self) -> ZoneInfo:
        """The shop's zone: every time on the page is shown in it."""
        return ZoneInfo(self.timezone)

    @property
    def quota_per_hour(self) -> int:
        """The DealPOS quota as calls per hour."""
        return int(self.rate_limit * 3600 / self.rate_window_seconds)


def _usable(token: Secret | None) -> Secret | None:
    """An empty token is no token: it must never unlock the buttons."""
    return token if token is not None and token.reveal() else None


def create_app(settings: PageSettings) -> Flask:
    """Build the operator page app for these settings."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secrets.token_bytes(32),  # sessions last as long as the process
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        MAX_CONTENT_LENGTH=16 * 1024,  # the forms are a few fields
        MAX_FORM_MEMORY_SIZE=16 * 1024,
    )
    app.jinja_env.autoescape = True  # also for templates not named .html
    _filters(app, settings)
    _routes(app, settings)
    return app


def _filters(app: Flask, settings: PageSettings) -> None:
    zone = settings.zone
    app.add_template_filter(present.money, "money")
    app.add_template_filter(lambda v: present.local_time(v, zone, settings.clock()), "local")
    app.add_template_filter(lambda v: present.age(v, settings.clock()), "age")
    app.add_template_filter(lambda n: f"{int(n or 0):,}".replace(",", "."), "count")
    app.add_template_filter(present.duration, "duration")

    @app.context_processor
    def _common() -> dict[str, Any]:
        return {
            "csrf_token": guard.csrf_token,
            "admin": guard.is_admin(settings.admin_token),
            "can_sign_in": guard.is_configured(settings.admin_token),
            "shops": settings.shops,
            "timezone": settings.timezone,
        }

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.update(_SECURITY_HEADERS)
        return response

    @app.errorhandler(HTTPException)
    def _error(exc: HTTPException) -> tuple[str, int]:
        return render_template("error.html", error=exc), exc.code or 500

    @app.errorhandler(sqlite3.OperationalError)
    def _busy(exc: sqlite3.OperationalError) -> tuple[str, int]:
        # e.g. the first run switching a new file to WAL: say so instead of a bare 500
        error = ServiceUnavailable("The state database is busy (being set up?); reload shortly.")
        return render_template("error.html", error=error), 503


@contextmanager
def _reading(settings: PageSettings) -> Iterator[sqlite3.Connection | None]:
    conn = readmodel.connect_readonly(settings.state_path)
    try:
        yield conn
    finally:
        if conn is not None:
            conn.close()


def _shop(settings: PageSettings, shop_id: str) -> ShopConfig:
    for shop in settings.shops:
        if shop.id == shop_id:
            return shop
    abort(404, "no such shop in the configuration")


def _routes(app: Flask, settings: PageSettings) -> None:
    """Register every route: the pages, the buttons and signing in and out."""
    _page_routes(app, settings)
    _button_routes(app, settings)
    _sign_in_routes(app, settings)


def _page_routes(app: Flask, settings: PageSettings) -> None:
    """The pages a person reads: every shop's summary and one shop's page."""

    @app.get("/")
    def index() -> Any:
        if len(settings.shops) == 1:
            return redirect(url_for("shop_page", shop_id=settings.shops[0].id))
        with _reading(settings) as conn:
            summaries = [_summary(conn, s.id) for s in settings.shops]
        return render_template("index.html", summaries=summaries)

    @app.get("/shop/<shop_id>")
    def shop_page(shop_id: str) -> Any:
        shop = _shop(settings, shop_id)
        params = read_params()
        with _reading(settings) as conn:
            view = _shop_view(conn, settings, shop.id, params) if conn is not None else None
        return render_template(
            "shop.html", shop=shop, view=view, p=params, statuses=sorted(KNOWN_STATUSES)
        )


def _button_routes(app: Flask, settings: PageSettings) -> None:
    """The buttons: each writes the same rows as its CLI command (the outbox, attention, verify)."""

    @app.post("/shop/<shop_id>/retry")
    def retry(shop_id: str) -> Any:
        shop = _shop(settings, shop_id)
        guard.check_post(settings.admin_token)
        order_id = _form_text("order_id")
        with _writing(settings) as store:
            count = store.requeue_quarantined(shop.id, order_id)
        flash(f"Order {order_id}: {count} action(s) back in the queue for the next run.")
        return _back(shop.id)

    @app.post("/shop/<shop_id>/done")
    def done(shop_id: str) -> Any:
        shop = _shop(settings, shop_id)
        guard.check_post(settings.admin_token)
        item = _form_text("id")
        if not item.isdigit():
            abort(400, "id must be a number")
        with _reading(settings) as conn:
            owner = None if conn is None else readmodel.attention_shop(conn, int(item))
        if owner != shop.id:  # another shop's item is not this page's to resolve
            flash(f"Item {item} was not found.")
            return _back(shop.id)
        with _writing(settings) as store:
            unknown = resolve_attention_ids(store, [int(item)])
        flash(f"Item {item} was not found." if unknown else f"Item {item} marked done.")
        return _back(shop.id)

    @app.post("/shop/<shop_id>/verify")
    def verify(shop_id: str) -> Any:
        shop = _shop(settings, shop_id)
        guard.check_post(settings.admin_token)
        now = settings.clock()
        day = datetime.fromtimestamp(now, settings.zone).date() - timedelta(days=1)
        with _writing(settings) as store:
            request_verify(store, shop.id, day, now)
        flash(f"Verify of {day.isoformat()} asked for: the daemon runs it after its next cycle.")
        return _back(shop.id)


def _sign_in_routes(app: Flask, settings: PageSettings) -> None:
    """Signing in with the admin token and out again."""

    @app.post("/sign-in")
    def sign_in() -> Any:
        if not guard.sign_in(settings.admin_token, request.form.get("token", "")):
            flash("That is not the admin token.")
        return redirect(_safe_next(), 303)

    @app.post("/sign-out")
    def sign_out() -> Any:
        guard.check_post(settings.admin_token)
        guard.sign_out()
        return redirect(url_for("index"), 303)


def _form_text(name: str) -> str:
    value = request.form.get(name, "").strip()
    if not value or len(value) > 64:
        abort(400, f"{name} is missing or too long")
    return value


def _back(shop_id: str) -> Response:
    return redirect(url_for("shop_page", shop_id=shop_id), 303)


def _safe_next() -> str:
    """Back to the page the form was on: only a path on this site, never another host."""
    target = request.form.get("next", "")
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("index")


@contextmanager
def _writing(settings: PageSettings) -> Iterator[Store]:
    store = Store.open(settings.state_path)
    try:
        yield store
    finally:
        store.close()


def _summary(conn: sqlite3.Connection | None, shop_id: str) -> dict[str, Any]:
    if conn is None:
        return {"id": shop_id, "run": None, "attention": 0, "quarantined": 0}
    return {
        "id": shop_id,
        "run": readmodel.last_run(conn, shop_id),
        "attention": sum(readmodel.attention_counts(conn, shop_id).values()),
        "quarantined": readmodel.quarantined_count(conn, shop_id),
    }


def _shop_view(
    conn: sqlite3.Connection, settings: PageSettings, shop_id: str, p: ListParams
) -> dict[str, Any]:
    now = settings.clock()
    return {
        "health": _health(conn, settings, shop_id, now),
        "attention_counts": readmodel.attention_counts(conn, shop_id),
        "attention": readmodel.attention(
            conn, shop_id, kind=p.a_kind, resolved=p.a_resolved, page=p.a_page, size=PAGE_SIZE
        ),
        "quarantined_count": readmodel.quarantined_count(conn, shop_id),
        "quarantined": readmodel.quarantined(conn, shop_id, page=p.q_page, size=PAGE_SIZE),
        "invoice_counts": settings.counts.get(
            shop_id, now, lambda: readmodel.invoice_counts(conn, shop_id)
        ),
        "invoices": readmodel.invoices(
            conn,
            shop_id,
            state=p.i_state,
            status=p.i_status,
            search=p.i_q,
            page=p.i_page,
            size=PAGE_SIZE,
        ),
        "chart": _chart(conn, settings, shop_id, now),
    }


def _health(
    conn: sqlite3.Connection, settings: PageSettings, shop_id: str, now: float
) -> dict[str, Any]:
    run = readmodel.last_run(conn, shop_id)
    next_run = None
    if run is not None:
        started = present.parse_time(run["started_at"])
        next_run = None if started is None else started.timestamp() + settings.interval_seconds
    return {
        "run": run,
        "next_run": next_run,
        "interval": settings.interval_seconds,
        "overdue": next_run is not None and now > next_run + 2 * settings.interval_seconds,
        "cursors": readmodel.cursors(conn, shop_id),
        "quota": readmodel.quota_used(conn, settings.tenant, now, settings.rate_window_seconds),
        "limit": settings.rate_limit,
        "window": settings.rate_window_seconds,
        "webhook": readmodel.last_webhook(conn, shop_id),
        "verify": readmodel.last_verify(conn, shop_id),
        "verify_requested": readmodel.verify_requested(conn, shop_id),
        "not_available": readmodel.NOT_AVAILABLE,
    }


def _chart(
    conn: sqlite3.Connection, settings: PageSettings, shop_id: str, now: float
) -> present.Chart:
    first_hour = int(now) // 3600 - CHART_HOURS + 1
    calls, orders = readmodel.activity_per_hour(conn, shop_id, first_hour * 3600)
    return present.build_chart(
        first_hour, CHART_HOURS, calls, orders, settings.quota_per_hour, settings.zone
    )
