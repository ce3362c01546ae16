"""The lifecycle generator and the shared catalogue."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

from sync_job.sandbox import (
    CATALOGUE,
    UNKNOWN_PRODUCTS,
    LifecycleGenerator,
    ManualClock,
    TikTokSimulator,
    dealpos_variants,
)

SHOP = "7495000000000000001"
FINAL_RETURN = {
    "REFUND_OR_RETURN_REQUEST_REJECT",
    "RETURN_OR_REFUND_REQUEST_CANCEL",
    "RETURN_OR_REFUND_REQUEST_COMPLETE",
}
_TIMES = {
    "AWAITING_SHIPMENT": ("paid_time",),
    "AWAITING_COLLECTION": ("paid_time", "rts_time"),
    "IN_TRANSIT": ("paid_time", "rts_time", "collection_time"),
    "DELIVERED": ("paid_time", "collection_time", "delivery_time"),
    "COMPLETED": ("paid_time", "collection_time", "delivery_time"),
    "CANCELLED": ("cancel_time",),
}


def _sim(clock: ManualClock) -> TikTokSimulator:
    return TikTokSimulator("k", "s", [(SHOP, "c")], clock=clock)


def _run(seed: int, events: int = 600) -> tuple[TikTokSimulator, LifecycleGenerator]:
    clock = ManualClock()
    sim = _sim(clock)
    gen = LifecycleGenerator(sim, SHOP, seed=seed, clock=clock, unknown_sku_share=0.05)
    for _ in range(events // 3):
        clock.advance(2.5)
        gen.advance(3)
    return sim, gen


def test_catalogue_feeds_dealpos_variants() -> None:
    """Thirty SKUs with Decimal IDR prices; the unknown SKUs are not among DealPOS's variants."""
    variants = dealpos_variants()
    assert len(CATALOGUE) == len(variants) == 30
    assert all(isinstance(price, Decimal) and price > 0 for _, price in variants.values())
    assert not {p.sku for p in UNKNOWN_PRODUCTS} & set(variants)


def test_same_seed_and_clock_give_the_same_orders() -> None:
    """The generator is deterministic for a seed and clock, and differs for another seed."""
    first, _ = _run(seed=3)
    second, _ = _run(seed=3)
    other, _ = _run(seed=4)
    assert first.orders(SHOP) == second.orders(SHOP)
    assert first.returns(SHOP) == second.returns(SHOP)
    assert first.orders(SHOP) != other.orders(SHOP)


def test_orders_look_real() -> None:
    """Ids, amounts as strings, 1–5 one-unit lines, sub_total identity, timestamps per status."""
    sim, _ = _run(seed=1)
    orders = sim.orders(SHOP)
    assert len(orders) > 100
    for order in orders:
        assert len(order["id"]) == 18 and order["id"].isdigit()
        assert 1 <= len(order["line_items"]) <= 5
        pay = order["payment"]
        assert all(isinstance(v, str) for v in pay.values())
        parts = ("original_total_product_price", "seller_discount", "platform_discount")
        original, seller, platform = (Decimal(pay[k]) for k in parts)
        assert Decimal(pay["sub_total"]) == original - seller - platform
        assert all(k in order for k in _TIMES.get(order["status"], ()))
        assert order["update_time"] >= order["create_time"]
        hidden = order["status"] in ("UNPAID", "ON_HOLD")
        assert ("recipient_address" in order) is not hidden or order["status"] == "CANCELLED"


def test_lifecycle_covers_the_interesting_paths() -> None:
    """Over a long run: cancels before and after payment, partial cancels, returns, unknown SKUs."""
    sim, gen = _run(seed=2, events=1500)
    gen.drain()
    orders = sim.orders(SHOP)
    statuses = Counter(o["status"] for o in orders)
    assert set(statuses) == {"COMPLETED", "CANCELLED"}
    cancelled = [o for o in orders if o["status"] == "CANCELLED"]
    assert any("paid_time" not in o for o in cancelled) and any("paid_time" in o for o in cancelled)
    partial = [
        o
        for o in orders
        if o["status"] != "CANCELLED"
        and any(ln["display_status"] == "CANCELLED" for ln in o["line_items"])
    ]
    assert partial
    returns = sim.returns(SHOP)
    assert returns and {r["return_status"] for r in returns} <= FINAL_RETURN | {
        "REJECT_RECEIVE_PACKAGE"
    }
    assert "REFUND_OR_RETURN_REQUEST_REJECT" in {r["return_status"] for r in returns}
    unknown = {p.sku for p in UNKNOWN_PRODUCTS}
    assert any(ln["seller_sku"] in unknown for o in orders for ln in o["line_items"])


def test_update_time_never_decreases_per_order() -> None:
    """Every change stamps update_time with the clock, never going backwards."""
    clock = ManualClock()
    sim = _sim(clock)
    gen = LifecycleGenerator(sim, SHOP, seed=5, clock=clock)
    seen: dict[str, int] = {}
    for n in range(300):
        clock.set(clock() + (3 if n % 2 else -1))  # a clock that sometimes steps back
        for event in gen.advance(1):
            assert event.update_time >= seen.get(event.order_id, 0)
            seen[event.order_id] = event.update_time
            assert sim.order(SHOP, event.order_id)["update_time"] == event.update_time  # type: ignore[index]


def test_bulk_create_shares_one_update_time() -> None:
    """bulk_create makes N paid orders with one update_time; touch moves one later."""
    clock = ManualClock()
    sim = _sim(clock)
    gen = LifecycleGenerator(sim, SHOP, seed=0, clock=clock)
    ids = gen.bulk_create(250, update_time=1_767_000_000)
    orders = sim.orders(SHOP)
    assert len(set(ids)) == 250
    assert {(o["status"], o["update_time"], o["paid_time"]) for o in orders} == {
        ("AWAITING_SHIPMENT", 1_767_000_000, 1_767_000_000)
    }
    event = gen.touch(ids[0])
    assert event.update_time == int(clock()) and sim.order(SHOP, ids[0])["buyer_message"]  # type: ignore[index]


def test_new_order_directly_in_a_later_status() -> None:
    """An order can start IN_TRANSIT with every earlier timestamp filled."""
    clock = ManualClock()
    sim = _sim(clock)
    gen = LifecycleGenerator(sim, SHOP, seed=0, clock=clock)
    order: Any = sim.order(SHOP, gen.new_order(status="IN_TRANSIT"))
    assert order["status"] == "IN_TRANSIT" and order["tracking_number"]
    assert order["paid_time"] == order["rts_time"] == order["collection_time"] == int(clock())
    assert {ln["display_status"] for ln in order["line_items"]} == {"IN_TRANSIT"}


def test_step_creates_orders_at_the_configured_rate() -> None:
    """step(now) brings about orders_per_minute arrivals per minute and moves due orders."""
    clock = ManualClock()
    sim = _sim(clock)
    gen = LifecycleGenerator(sim, SHOP, seed=9, clock=clock, orders_per_minute=30)
    events = []
    for _ in range(600):
        clock.advance(1)
        events += gen.step()
    created = [e for e in events if e.change.startswith("created")]
    assert 220 < len(created) < 380
    assert len(events) > len(created)
