"""`sync-job check`: the read-only preflight, one result per check, before a shop's first run.

It reads TikTok (authorized shops, one page of recent orders) and DealPOS (outlets, payment methods,
customers, variants) and writes nothing to either: no invoice, no cursor, no run. The only write is
the state DB's variant cache, so a re-run spends no DealPOS quota on codes already found.
"""

from __future__ import annotations

import difflib
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sync_job.dealpos import lookups
from sync_job.domain.errors import AuthError, InvalidTimestamp, RemoteError
from sync_job.domain.orders import BadOrder, parse_order
from sync_job.service.config import Config, ShopConfig
from sync_job.state import variants
from sync_job.state.store import Store
from sync_job.tiktok.client import TikTokClient

Status = Literal["ok", "warn", "FAIL"]
RECENT_SECONDS = 7 * 86400  # how far back `--skus` looks for recent orders


@dataclass(frozen=True)
class Check:
    """One check's outcome; `line()` is what a person reads."""

    name: str
    status: Status
    detail: str

    def line(self) -> str:
        """`ok|warn|FAIL <name>: <detail>`."""
        return f"{self.status} {self.name}: {self.detail}"

    def as_dict(self) -> dict[str, str]:
        """The check as JSON-ready data."""
        return {"name": self.name, "status": self.status, "detail": self.detail}


def ok(name: str, detail: str) -> Check:
    """A passed check."""
    return Check(name, "ok", detail)


def warn(name: str, detail: str) -> Check:
    """A check that did not fail but deserves a look."""
    return Check(name, "warn", detail)


def fail(name: str, detail: str) -> Check:
    """A failed check: the first run would go wrong because of it."""
    return Check(name, "FAIL", detail)


def close_names(wanted: str, names: Iterable[str]) -> str:
    """' (closest: "A", "B")' for the names most like `wanted`, or a list of a few when none is."""
    names = list(names)
    folded = {n.casefold(): n for n in names}
    close = difflib.get_close_matches(wanted.casefold(), list(folded), n=3, cutoff=0.5)
    if close:
        return " (closest: " + ", ".join(f'"{folded[c]}"' for c in close) + ")"
    shown = ", ".join(f'"{n}"' for n in names[:5])
    return f" (there are: {shown}{', ...' if len(names) > 5 else ''})" if names else ""


def check_state_folder(path: Path) -> Check:
    """The state DB's folder exists (or can be made) and takes a new file."""
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".check-"):
            pass
    except OSError as exc:
        return fail("state folder", f"{folder}: not writable ({exc.strerror or exc})")
    return ok("state folder", f"{folder} is writable")


@dataclass
class Preflight:
    """Runs every check for the chosen shops; reads both APIs, writes neither."""

    config: Config
    store: Store
    tiktok: TikTokClient
    dealpos: lookups.Reader
    shops: Sequence[ShopConfig]
    sku_orders: int = 20
    clock: Callable[[], float] = time.time
    authorized: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> TikTok's entry

    def run(self) -> list[Check]:
        """Every check, in the order a person fixes things: state, TikTok, DealPOS, SKUs."""
        checks = self.tiktok_checks()
        tiktok_ok = all(c.status != "FAIL" for c in checks)
        checks += self.dealpos_checks()
        if tiktok_ok and not any(c.name == "dealpos login" and c.status == "FAIL" for c in checks):
            for shop in self.shops:
                checks += self.sku_checks(shop)
        return checks

    # -- TikTok --------------------------------------------------------------------------------

    def tiktok_checks(self) -> list[Check]:
        """Clock, token, and each configured shop's id + cipher among the authorized shops."""
        try:
            shops = self.tiktok.fetch_authorized_shops()
        except InvalidTimestamp as exc:
            return [
                fail(
                    "clock",
                    f"TikTok refused this machine's time ({exc}); it must be within "
                    "5 minutes behind / 30 s ahead of TikTok's: turn on NTP",
                ),
                fail("tiktok token", "not checked: the clock must be fixed first"),
            ]
        except RemoteError as exc:
            return [warn("clock", "not checked"), fail("tiktok token", str(exc))]
        self.authorized = {str(s.get("id", "")): s for s in shops}
        checks = [
            ok("clock", "TikTok accepted this machine's timestamp"),
            ok("tiktok token", f"works; the app is authorized for {len(shops)} shop(s)"),
        ]
        return checks + [self.shop_check(shop) for shop in self.shops]

    def shop_check(self, shop: ShopConfig) -> Check:
        """The shop id is authorized and its cipher is the one TikTok gives."""
        name = f"shop {shop.id}"
        entry = self.authorized.get(shop.id)
        if entry is None:
            known = ", ".join(self.authorized) or "none"
            return fail(
                name,
                f"the app is not authorized for this shop (authorized: {known}); "
                "run `sync-job connect` as this shop's seller",
            )
        if str(entry.get("cipher", "")) != shop.cipher:
            return fail(
                name, f'cipher differs from TikTok\'s: use cipher = "{entry.get("cipher")}"'
            )
        return ok(name, f"authorized ({entry.get('name', '')}, {entry.get('region', '')})")

    # -- DealPOS -------------------------------------------------------------------------------

    def dealpos_checks(self) -> list[Check]:
        """Login, outlets, payment method, default customer and shipping variant."""
        try:
            outlets = lookups.list_outlets(self.dealpos)
        except RemoteError as exc:
            return [fail("dealpos login", str(exc))]
        checks = [
            ok("dealpos login", f"DealPOS issued a token to client {self.config.dealpos.client_id}")
        ]
        for outlet in dict.fromkeys(s.outlet for s in self.shops):
            checks.append(self.outlet_check(outlet, outlets))
        checks.append(self.guarded("payment method", self.payment_method_check))
        checks.append(self.guarded("default customer", self.customer_check))
        if self.config.dealpos.shipping_variant:
            checks.append(self.guarded("shipping variant", self.shipping_check))
        return checks

    def guarded(self, name: str, check: Callable[[], Check]) -> Check:
        """Run one DealPOS check; a failed call is a warning that names the error."""
        try:
            return check()
        except AuthError as exc:
            return fail(name, str(exc))
        except RemoteError as exc:
            return warn(name, f"could not check: {exc}")

    def outlet_check(self, outlet: str, outlets: list[dict[str, Any]]) -> Check:
        """The outlet exists (and is not suspended)."""
        name = f"outlet {outlet}"
        names = [str(o.get("Name", "")) for o in outlets]
        found = [o for o in outlets if o.get("Name") == outlet]
        if not found:
            return fail(name, "DealPOS has no outlet by this name" + close_names(outlet, names))
        if found[0].get("Suspended") is True:
            return warn(name, "exists but is suspended in DealPOS")
        return ok(name, "exists")

    def payment_method_check(self) -> Check:
        """dealpos.payment_method names a payment method of the tenant."""
        method = self.config.dealpos.payment_method
        names = [str(m.get("Name", "")) for m in lookups.list_payment_methods(self.dealpos)]
        if method in names:
            return ok("payment method", f'"{method}" exists')
        return fail(
            "payment method",
            f'DealPOS has no payment method "{method}"' + close_names(method, names),
        )

    def customer_check(self) -> Check:
        """dealpos.default_customer names an existing customer (DealPOS's search is loose)."""
        wanted = self.config.dealpos.default_customer
        found = [str(c.get("Name", "")) for c in lookups.find_customers(self.dealpos, wanted)]
        if wanted in found:
            return ok("default customer", f'"{wanted}" exists')
        hint = close_names(wanted, found) if found else ""
        return fail(
            "default customer",
            f'DealPOS has no customer "{wanted}"{hint}; create it or set dealpos.default_customer',
        )

    def shipping_check(self) -> Check:
        """dealpos.shipping_variant names an existing variant code."""
        code = self.config.dealpos.shipping_variant or ""
        if self.variant_name(code) is None:
            return fail("shipping variant", f'DealPOS has no variant with code "{code}"')
        return ok("shipping variant", f'"{code}" exists')

    # -- SKUs ----------------------------------------------------------------------------------

    def variant_name(self, code: str) -> str | None:
        """The variant's name from the cache (a day) or DealPOS; None when DealPOS lacks it."""
        now = self.clock()
        cached = variants.cached_variant(self.store, code, now)
        if cached is not None:
            return cached
        found = lookups.find_variant(self.dealpos, code)
        if found is None:
            return None
        name = str(found.get("Name", ""))
        variants.remember_variant(self.store, code, name, now)
        return name

    def sku_checks(self, shop: ShopConfig) -> list[Check]:
        """Each SKU of up to N recent orders maps to a DealPOS variant (one line per miss)."""
        if self.sku_orders <= 0 or shop.id not in self.authorized:
            return []
        name = f"skus {shop.id}"
        since = int(self.clock()) - RECENT_SECONDS
        try:
            orders = self.tiktok.recent_orders(shop.cipher, since, self.sku_orders)
        except RemoteError as exc:
            return [warn(name, f"could not read recent orders: {exc}")]
        skus = recent_skus(orders)
        if not skus:
            return [warn(name, "no order in the last 7 days had a SKU to check")]
        misses = [c for c in (self.sku_check(sku) for sku in skus) if c is not None]
        if not misses:
            return [
                ok(
                    name,
                    f"all {len(skus)} SKU(s) of {len(orders)} recent order(s) exist in DealPOS",
                )
            ]
        return misses

    def sku_check(self, sku: str) -> Check | None:
        """None when the SKU's variant exists; else a FAIL with a ready [sku_map] line."""
        code = self.config.sku_map.get(sku, sku)
        try:
            if self.variant_name(code) is not None:
                return None
        except RemoteError as exc:
            return warn(f"sku {sku}", f"could not check: {exc}")
        if code != sku:
            return fail(f"sku {sku}", f'[sku_map] maps it to "{code}", which DealPOS does not know')
        return fail(
            f"sku {sku}",
            f"no DealPOS variant has this code; add to [sku_map]: "
            f'"{sku}" = "..." (the DealPOS variant code)',
        )


def recent_skus(orders: Iterable[Any]) -> list[str]:
    """The distinct seller SKUs of these raw orders, in order of first appearance."""
    skus: dict[str, None] = {}
    for raw in orders:
        try:
            order = parse_order(raw)
        except BadOrder:
            continue  # the run quarantines it; the check is about SKUs
        for line in order.active_lines:
            if line.seller_sku:
                skus.setdefault(line.seller_sku)
    return list(skus)


def exit_code(checks: Sequence[Check]) -> int:
    """0 when nothing failed (warnings included), 1 when any check failed."""
    return 1 if any(c.status == "FAIL" for c in checks) else 0
