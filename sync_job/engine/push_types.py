"""What pushing one shop's outbox talks to (`PushDeps`) and what it did (`PushTally`)."""

from __future__ import annotations

from dataclasses import dataclass

from sync_job.domain.errors import ConfigRefused
from sync_job.engine.ports import DealposApi
from sync_job.engine.shop import ShopContext
from sync_job.state.store import Store


@dataclass(frozen=True)
class PushDeps:
    """The store, DealPOS and the shop a push works on."""

    store: Store
    dealpos: DealposApi
    shop: ShopContext
    # A create DealPOS still does not show this long after it was sent will not land any more
    # (it answers or times out well within it); before that, "absent" may mean "not yet".
    create_settle_seconds: float


@dataclass
class PushTally:
    """What a push did."""

    created: int = 0
    sent: int = 0
    paid: int = 0
    recycled: int = 0
    adopted: int = 0
    lookups: int = 0
    quarantined: int = 0
    left_pending: int = 0
    retries: int = 0
    stopped_early: bool = False
    config_refused: ConfigRefused | None = None  # the config named what DealPOS lacks
