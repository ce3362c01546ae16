"""An order-lifecycle generator: orders arrive and move through TikTok statuses, realistic odds."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sync_job.sandbox import orders as od
from sync_job.sandbox.catalogue import CATALOGUE, UNKNOWN_PRODUCTS, Product
from sync_job.sandbox.tiktok_sim import TikTokSimulator

_RETURN_DONE = {
    "REFUND_OR_RETURN_REQUEST_REJECT",
    "RETURN_OR_REFUND_REQUEST_CANCEL",
    "RETURN_OR_REFUND_REQUEST_COMPLETE",
    "REJECT_RECEIVE_PACKAGE",
}
_NEXT_STATUS = {
    "UNPAID": "AWAITING_SHIPMENT",  # or ON_HOLD first, see Odds.on_hold
    "ON_HOLD": "AWAITING_SHIPMENT",
    "AWAITING_SHIPMENT": "AWAITING_COLLECTION",
    "AWAITING_COLLECTION": "IN_TRANSIT",
    "IN_TRANSIT": "DELIVERED",
    "DELIVERED": "COMPLETED",
}
# status -> (who cancels, why), for orders cancelled at that status
_CANCELLERS = {
    "UNPAID": (("SYSTEM", "Payment timeout"), ("BUYER", "No longer needed")),
    "ON_HOLD": (("BUYER", "Changed my mind"),),
    "AWAITING_SHIPMENT": (("SELLER", "Out of stock"), ("BUYER", "Wrong address")),
    "AWAITING_COLLECTION": (("SYSTEM", "Package not collected in time"),),
}


@dataclass(frozen=True)
class Odds:
    """Probabilities of each branch of an order's life (per step at that status)."""

    start_paid: float = 0.4  # arrives already paid
    on_hold: float = 0.5  # a paid order first sits in ON_HOLD
    cancel: dict[str, float] = field(
        default_factory=lambda: {
            "UNPAID": 0.15,
            "ON_HOLD": 0.10,
            "AWAITING_SHIPMENT": 0.05,
            "AWAITING_COLLECTION": 0.02,
        }
    )
    partial_cancel: float = 0.10  # at AWAITING_SHIPMENT, orders with 2+ live lines
    repeat_sku: float = 0.3  # a further unit repeats the previous SKU
    returned: float = 0.15  # a return is requested after delivery
    return_and_refund: float = 0.6  # else a refund only
    return_rejected: float = 0.2
    return_cancelled: float = 0.1


@dataclass(frozen=True)
class Event:
    """One change the generator made, for logs and tests."""

    order_id: str
    change: str
    update_time: int


@dataclass
class _Track:
    order: od.Order
    recipient: od.Order
    due: float
    ret: od.Order | None = None
    partial_done: bool = False

    @property
    def open(self) -> bool:
        if self.ret is not None and self.ret["return_status"] not in _RETURN_DONE:
            return True
        return self.order["status"] not in ("COMPLETED", "CANCELLED")


class LifecycleGenerator:
    """Creates orders in a TikTok simulator shop and moves them forward; seedable."""

    def __init__(  # noqa: PLR0913  # the generator's knobs, each with a default
        self,
        tiktok_sim: TikTokSimulator,
        shop_id: str,
        *,
        seed: int = 0,
        catalogue: tuple[Product, ...] = CATALOGUE,
        unknown_sku_share: float = 0.02,
        unknown_products: tuple[Product, ...] = UNKNOWN_PRODUCTS,
        clock: Callable[[], float] = time.time,
        orders_per_minute: float = 6.0,
        step_seconds: tuple[float, float] = (5.0, 20.0),
        odds: Odds | None = None,
    ) -> None:
        self.sim, self.shop_id = tiktok_sim, shop_id
        self.catalogue, self.unknown_products = catalogue, unknown_products
        self.unknown_sku_share = unknown_sku_share
        self.clock = clock
        self.orders_per_minute = orders_per_minute
        self.step_seconds = step_seconds
        self.odds = odds or Odds()
        self._rng = random.Random(seed)
        self._tracks: dict[str, _Track] = {}
        self._ids: set[str] = set()
        self._last_stamp = 0
        self._next_arrival: float | None = None

    # ----- public API ------------------------------------------------------------------------

    def new_order(self, *, status: str | None = None, update_time: int | None = None) -> str:
        """Create one order (UNPAID or paid at random, or directly at `status`); return its id."""
        now = update_time if update_time is not None else self._stamp()
        order_id = self._new_id("57", 18)
        order, recipient = od.new_order(self._rng, order_id, self._pick_products(), now)
        track = _Track(order, recipient, due=self._due(now))
        self._tracks[order_id] = track
        if status is None and self._rng.random() < self.odds.start_paid:
            status = "ON_HOLD" if self._rng.random() < self.odds.on_hold else "AWAITING_SHIPMENT"
        if status not in (None, "UNPAID"):
            self._jump(track, status, now)
        self._put(track)
        return order_id

    def bulk_create(
        self, n: int, *, status: str = "AWAITING_SHIPMENT", update_time: int | None = None
    ) -> list[str]:
        """Create `n` orders at `status` that all share one update_time (for tie tests)."""
        stamp = update_time if update_time is not None else self._stamp()
        return [self.new_order(status=status, update_time=stamp) for _ in range(n)]

    def advance(self, n_events: int = 1) -> list[Event]:
        """Make `n_events` changes: new orders, or one step for a random open order."""
        events = []
        for _ in range(n_events):
            open_ids = self.open_orders()
            if not open_ids or self._rng.random() < 0.25:
                order_id = self.new_order()
                events.append(self._created(order_id))
            else:
                events.append(self.move(self._rng.choice(open_ids)))
        return events

    def step(self, now: float | None = None) -> list[Event]:
        """Time-driven: create orders due by `now` (at `orders_per_minute`), move due orders.

        `now` only schedules; the changes themselves are stamped with the generator's clock.
        """
        now = self.clock() if now is None else now
        events = []
        if self._next_arrival is None:
            self._next_arrival = now
        while self.orders_per_minute > 0 and self._next_arrival <= now:
            events.append(self._created(self.new_order()))
            self._next_arrival += self._rng.expovariate(self.orders_per_minute / 60)
        due = sorted((t.due, oid) for oid, t in self._tracks.items() if t.open and t.due <= now)
        events.extend(self.move(oid) for _, oid in due)
        return events

    def move(self, order_id: str) -> Event:
        """Move one order (or its open return) one step forward."""
        track = self._tracks[order_id]
        if not track.open:
            raise ValueError(f"order {order_id} is already final")
        change = self._move(track)
        track.due = self._due(self.clock())
        self._put(track)
        return Event(order_id, change, int(track.order["update_time"]))

    def touch(self, order_id: str, message: str = "Please pack carefully") -> Event:
        """Change an order without changing its status (bumps update_time)."""
        track = self._tracks[order_id]
        track.order["buyer_message"] = message
        track.order["update_time"] = self._stamp()
        self._put(track)
        return Event(order_id, "buyer message changed", int(track.order["update_time"]))

    def drain(self, max_events: int = 100_000) -> list[Event]:
        """Move every open order until all are final (COMPLETED or CANCELLED, returns closed)."""
        events: list[Event] = []
        while len(events) < max_events:
            open_ids = self.open_orders()
            if not open_ids:
                break
            events.extend(self.move(oid) for oid in open_ids)
        return events

    def open_orders(self) -> list[str]:
        """Ids of orders that can still change, oldest first."""
        return [oid for oid, t in self._tracks.items() if t.open]

    def order_ids(self) -> list[str]:
        """Ids of every order this generator made, oldest first."""
        return list(self._tracks)

    # ----- internals -------------------------------------------------------------------------

    def _stamp(self) -> int:
        """Now in whole seconds, never earlier than any stamp handed out before."""
        self._last_stamp = max(int(self.clock()), self._last_stamp)
        return self._last_stamp

    def _due(self, now: float) -> float:
        low, high = self.step_seconds
        return now + self._rng.uniform(low, high)

    def _new_id(self, prefix: str, length: int) -> str:
        while True:
            candidate = od.digits(self._rng, prefix, length)
            if candidate not in self._ids:
                self._ids.add(candidate)
                return candidate

    def _pick_products(self) -> list[Product]:
        products = [self._rng.choice(self.catalogue)]
        for _ in range(self._rng.randint(1, 5) - 1):
            repeat = self._rng.random() < self.odds.repeat_sku
            products.append(products[-1] if repeat else self._rng.choice(self.catalogue))
        if self.unknown_products and self._rng.random() < self.unknown_sku_share:
            products[self._rng.randrange(len(products))] = self._rng.choice(self.unknown_products)
        return products

    def _put(self, track: _Track) -> None:
        self.sim.put_order(self.shop_id, track.order)
        if track.ret is not None:
            self.sim.put_return(self.shop_id, track.ret)

    def _created(self, order_id: str) -> Event:
        order = self._tracks[order_id].order
        change = f"created {order['status']} with {len(order['line_items'])} item(s)"
        return Event(order_id, change, int(order["update_time"]))

    def _jump(self, track: _Track, status: str, now: int) -> None:
        """Take a new order straight to `status`, filling every timestamp on the way with `now`."""
        if status == "CANCELLED":
            od.cancel(track.order, now, "SYSTEM", "Payment timeout", track.recipient)
            return
        if status not in od.STATUSES:
            raise ValueError(f"cannot create an order directly at {status!r}")
        path = od.STATUSES[1 : od.STATUSES.index(status) + 1]
        for step in path:
            if step != "ON_HOLD" or step == status:
                self._set(track, step, now)

    def _set(self, track: _Track, status: str, now: int) -> None:
        od.set_status(track.order, status, now, track.recipient)
        if status == "AWAITING_COLLECTION":
            od.ship(track.order, self._rng)

    def _move(self, track: _Track) -> str:
        if track.ret is not None and track.ret["return_status"] not in _RETURN_DONE:
            return self._move_return(track)
        status = track.order["status"]
        roll = self._rng.random()
        if roll < self.odds.cancel.get(status, 0.0):
            return self._cancel(track)
        if status == "AWAITING_SHIPMENT" and self._may_cancel_line(track):
            return self._cancel_line(track)
        if status == "DELIVERED" and track.ret is None and self._rng.random() < self.odds.returned:
            return self._open_return(track)
        target = _NEXT_STATUS[status]
        if status == "UNPAID" and self._rng.random() < self.odds.on_hold:
            target = "ON_HOLD"
        self._set(track, target, self._stamp())
        return f"-> {target}"

    def _cancel(self, track: _Track) -> str:
        initiator, reason = self._rng.choice(_CANCELLERS[track.order["status"]])
        od.cancel(track.order, self._stamp(), initiator, reason, track.recipient)
        return f"-> CANCELLED by {initiator}"

    def _may_cancel_line(self, track: _Track) -> bool:
        live = [ln for ln in track.order["line_items"] if ln["display_status"] != "CANCELLED"]
        if track.partial_done or len(live) < 2:
            return False
        track.partial_done = True  # one chance per order, taken or not
        return self._rng.random() < self.odds.partial_cancel

    def _cancel_line(self, track: _Track) -> str:
        lines = track.order["line_items"]
        live = [i for i, ln in enumerate(lines) if ln["display_status"] != "CANCELLED"]
        index = self._rng.choice(live)
        line_id = od.cancel_line(track.order, index, self._stamp())
        return f"line {line_id} ({lines[index]['seller_sku']}) cancelled"

    def _open_return(self, track: _Track) -> str:
        odds = self.odds
        kind = "RETURN_AND_REFUND" if self._rng.random() < odds.return_and_refund else "REFUND"
        ret_id = self._new_id("40", 18)
        track.ret = od.new_return(self._rng, track.order, ret_id, kind, self._stamp())
        return f"{kind} {ret_id} requested"

    def _move_return(self, track: _Track) -> str:
        ret: dict[str, Any] = track.ret or {}
        ret["return_status"] = self._next_return_status(ret)
        ret["update_time"] = self._stamp()
        return f"return {ret['return_id']} -> {ret['return_status']}"

    def _next_return_status(self, ret: od.Order) -> str:
        status, roll = ret["return_status"], self._rng.random()
        odds = self.odds
        if status == "RETURN_OR_REFUND_REQUEST_PENDING":
            if roll < odds.return_rejected:
                return "REFUND_OR_RETURN_REQUEST_REJECT"
            if roll < odds.return_rejected + odds.return_cancelled:
                return "RETURN_OR_REFUND_REQUEST_CANCEL"
            if ret["return_type"] == "REFUND":
                return "RETURN_OR_REFUND_REQUEST_SUCCESS"
            return "AWAITING_BUYER_SHIP"
        if status == "AWAITING_BUYER_SHIP":
            cancelled = roll < odds.return_cancelled
            return "RETURN_OR_REFUND_REQUEST_CANCEL" if cancelled else "BUYER_SHIPPED_ITEM"
        if status == "BUYER_SHIPPED_ITEM":
            return "RETURN_OR_REFUND_REQUEST_SUCCESS"
        return "RETURN_OR_REFUND_REQUEST_COMPLETE"
