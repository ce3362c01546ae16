"""Single flight per shop: a lease row in the state database.

A daemon, a cron run and a backfill may share one state file; only the holder of a shop's lease
pushes that shop's outbox. A lease is taken over only when its holder is gone: on this host, when
its process no longer exists (so a crashed run never blocks the next one); a live process here
keeps its lease even past expiry, because a long retry wait must not let a second run push the
same actions. A holder on another host, or in this very process, is gone once its lease expired.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable

from sync_job.domain.errors import SyncError
from sync_job.state.store import Store

LEASE_SECONDS = 120.0
# A live pid on this host whose lease expired this long ago is taken to be a reused pid (the real
# holder crashed long ago): longer than any single action's retries can take.
STALE_SECONDS = 3600.0


class LockBusy(SyncError):
    """Another live run holds this shop's lease."""


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


class ShopLock:
    """A renewable lease on one shop."""

    def __init__(
        self,
        store: Store,
        shop_id: str,
        holder: str,
        *,
        lease_seconds: float = LEASE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.shop_id = shop_id
        self.holder = holder
        self.lease_seconds = lease_seconds
        self.clock = clock
        self.pid = os.getpid()
        self.host = socket.gethostname()

    def _holder_gone(self, row: tuple[str, int, str, float]) -> bool:
        _holder, pid, host, expires_at = row
        now = self.clock()
        if host != self.host or pid == self.pid:
            return expires_at <= now
        return not _process_alive(pid) or expires_at + STALE_SECONDS <= now

    def acquire(self) -> None:
        """Take the lease, or raise LockBusy naming its live holder."""
        db = self.store.db
        # One unit: competing acquirers (other processes) queue on its write lock.
        with self.store.transaction("take shop lease"):
            row = db.execute(
                "SELECT holder, pid, host, expires_at FROM locks WHERE shop_id = ?", (self.shop_id,)
            ).fetchone()
            if row is not None and row[0] != self.holder and not self._holder_gone(row):
                raise LockBusy(f"shop {self.shop_id} is being synced by {row[0]} (pid {row[1]})")
            db.execute(
                "INSERT OR REPLACE INTO locks VALUES (?, ?, ?, ?, ?)",
                (self.shop_id, self.holder, self.pid, self.host, self.clock() + self.lease_seconds),
            )

    def renew(self) -> None:
        """Extend the lease; raise LockBusy if it was taken over meanwhile."""
        cursor = self.store.db.execute(
            "UPDATE locks SET expires_at = ? WHERE shop_id = ? AND holder = ?",
            (self.clock() + self.lease_seconds, self.shop_id, self.holder),
        )
        if cursor.rowcount != 1:
            raise LockBusy(f"lost the lease on shop {self.shop_id}")

    def release(self) -> None:
        """Give the lease back."""
        self.store.db.execute(
            "DELETE FROM locks WHERE shop_id = ? AND holder = ?", (self.shop_id, self.holder)
        )
