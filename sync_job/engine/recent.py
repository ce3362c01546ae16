"""Orders parsed while recording this run, kept for the same run's push.

The pusher builds bodies from the recorded snapshot. Right after recording a page it would read
back and parse the very orders it just parsed; this bounded map hands it those objects instead.
Only orders whose copy was written to the snapshot go in, so an entry is always the recorded copy.
Kept, being a plain bounded dict: without it the engine spends ~1.5 ms CPU per order, not ~1.1.
"""

from __future__ import annotations

from sync_job.domain.orders import Order

# 10,000 parsed orders added ~28 MB to a backfill's peak RSS (docs/benchmarks.md, memory), and
# are more than a normal run changes. Beyond the limit (a long backfill) the oldest entries make
# room and the pusher reads those from the database.
LIMIT = 10_000


class RecentOrders:
    """A bounded map of order id → the parsed copy this run recorded."""

    def __init__(self, limit: int = LIMIT) -> None:
        self._limit = limit
        self._orders: dict[str, Order] = {}

    def remember(self, order: Order) -> None:
        """Keep the copy just recorded (replacing an older one), dropping the oldest if full."""
        self._orders.pop(order.id, None)
        if self._limit <= 0:
            return
        if len(self._orders) >= self._limit:
            del self._orders[next(iter(self._orders))]
        self._orders[order.id] = order

    def get(self, order_id: str) -> Order | None:
        """The recorded copy parsed in this run, or None (read it from the snapshot)."""
        return self._orders.get(order_id)

    def __len__(self) -> int:
        return len(self._orders)
