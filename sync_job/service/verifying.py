"""Run verify over the configured shops (the command and the daemon's daily verify), keep each
result in the state database, and render it for a person."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import structlog

from sync_job.engine.cycle import new_run_id
from sync_job.engine.shop import ShopContext
from sync_job.engine.verify import KINDS, Finding
from sync_job.engine.verify_repair import repair, resolve_gone
from sync_job.engine.verify_shop import ShopVerify, verify_shop
from sync_job.service.app import App, shop_context
from sync_job.service.config import ShopConfig
from sync_job.state.locks import LockBusy, ShopLock
from sync_job.state.verifications import VerifyRecord, record_verify, verified_day
from sync_job.state.verify_requests import finish_verify_request, pending_verify_requests

log = structlog.get_logger(__name__)

COMMAND, DAILY, PAGE = "command", "daily", "page"  # what started a verify
DEFAULT_DAYS = 7


def local_today(tz: ZoneInfo, now: float) -> date:
    """Today's calendar date in the shop's timezone."""
    return datetime.fromtimestamp(now, tz).date()


def default_days(first: date | None, last: date | None, today: date) -> tuple[date, date]:
    """The range verify checks: `--to` defaults to today, `--from` to the 7 days ending there."""
    end = last or today
    return first or end - timedelta(days=DEFAULT_DAYS - 1), end


def verify_shops(
    app: App,
    first: date,
    last: date,
    shop_id: str | None = None,
    *,
    fix: bool = False,
    trigger: str = COMMAND,
) -> list[ShopVerify]:
    """Verify each shop (or one), repairing when asked; every result is stored."""
    return [_verify_one(app, shop, first, last, fix, trigger) for shop in app.shops(shop_id)]


def _verify_one(
    app: App, configured: ShopConfig, first: date, last: date, fix: bool, trigger: str
) -> ShopVerify:
    shop = shop_context(app.config, configured, "realtime")
    started = app.store.now()
    stats = app.dealpos.stats
    result = verify_shop(app.store, app.dealpos, shop, first, last, calls=lambda: stats.calls)
    if result.error is None:
        resolve_gone(app.store, shop.shop_id, result)
    if fix and result.error is None:
        _repair_holding_the_shop(app, shop, result)
    record_verify(app.store, _record(result, trigger, started, app.store.now()))
    log.info(
        "verify finished",
        shop_id=shop.shop_id,
        trigger=trigger,
        orders=result.orders,
        invoices=result.invoices,
        findings=result.counts(),
        dealpos_calls=result.dealpos_calls,
        error=result.error,
    )
    return result


def _repair_holding_the_shop(app: App, shop: ShopContext, result: ShopVerify) -> None:
    """Repair under the shop's lease, so no run is pushing the same orders meanwhile."""
    lock = ShopLock(app.store, shop.shop_id, f"verify:{new_run_id()}", clock=app.clock)
    try:
        lock.acquire()
    except LockBusy as exc:
        result.error = f"not repaired: {exc}"
        return
    try:
        repair(app.store, shop, result)
    finally:
        lock.release()


def _record(result: ShopVerify, trigger: str, started: str, finished: str) -> VerifyRecord:
    return VerifyRecord(
        shop_id=result.shop_id,
        trigger=trigger,
        first_day=result.first.isoformat(),
        last_day=result.last.isoformat(),
        started_at=started,
        finished_at=finished,
        status="failed" if result.error else "ok",
        orders=result.orders,
        invoices=result.invoices,
        findings=result.counts(),
        dealpos_calls=result.dealpos_calls,
        repaired=result.repaired,
        error=result.error,
    )


def run_daily_verify(app: App) -> list[ShopVerify]:
    """The daemon's light verify: yesterday, once per shop and day, no repair (when enabled)."""
    if not app.config.verify.daily:
        return []
    day = local_today(app.config.sync.tz, app.clock()) - timedelta(days=1)
    due = [s for s in app.shops(None) if not verified_day(app.store, s.id, day.isoformat(), DAILY)]
    return [_verify_one(app, shop, day, day, False, DAILY) for shop in due]


def run_requested_verifies(
    app: App, verify: Callable[..., list[ShopVerify]] | None = None
) -> list[ShopVerify]:
    """Run the verifies asked for on the operator page (same path as `sync-job verify`)."""
    run = verify or verify_shops
    done: list[ShopVerify] = []
    pending = pending_verify_requests(app.store)
    configured = {s.id for s in app.shops(None)} if pending else set()
    for shop_id, day in pending:
        if shop_id in configured:
            done += run(app, day, day, shop_id, trigger=PAGE)
        finish_verify_request(app.store, shop_id, day)
    return done


# ----- rendering -------------------------------------------------------------------------------


def render_verify(results: Sequence[ShopVerify], *, fix: bool) -> str:
    """The text form: a summary per shop, then one line per finding."""
    lines: list[str] = []
    for result in results:
        lines += _summary(result)
        lines += [_finding_line(f) for f in result.findings]
        if fix and result.error is None:
            lines.append(
                f"  repair: {result.repaired} put into the outbox (the next run pushes them), "
                f"{result.raised} raised as attention items"
            )
    return "\n".join(lines)


def _summary(result: ShopVerify) -> list[str]:
    head = (
        f"shop {result.shop_id}, {result.first} to {result.last}: {result.orders} orders checked, "
        f"{result.invoices} invoices seen, {result.dealpos_calls} DealPOS calls"
    )
    counts = result.counts()
    drift = ", ".join(f"{k} {counts[k]}" for k in KINDS if k in counts and k != "pending")
    pending = counts.get("pending", 0)
    text = f"  findings: {drift or 'none'}"
    if pending:
        text += f" (and {pending} pending: still in the outbox, not drift)"
    out = [head, text]
    if result.error:
        out.append(f"  error: {result.error}")
    return out


def _finding_line(finding: Finding) -> str:
    return (
        f"  {finding.kind:<10} order {finding.order_id or '-'}  invoice {finding.number or '-'}  "
        f"expected {finding.expected}  actual {finding.actual}"
    )
