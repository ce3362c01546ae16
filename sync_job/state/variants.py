"""The variant_cache table: DealPOS variant codes `sync-job check` found, remembered for a day.

Only found codes are kept: a code DealPOS did not know is asked again on the next check, so a
variant the merchant just created shows up at once.
"""

from __future__ import annotations

from sync_job.state.store import Store

VARIANT_CACHE_SECONDS = 86400.0


def cached_variant(store: Store, code: str, now: float) -> str | None:
    """The name of a variant found within the last day, or None (unknown or too old)."""
    row = store.db.execute(
        "SELECT name FROM variant_cache WHERE code = ? AND checked_at > ?",
        (code, now - VARIANT_CACHE_SECONDS),
    ).fetchone()
    return None if row is None else str(row[0])


def remember_variant(store: Store, code: str, name: str, now: float) -> None:
    """Remember that DealPOS knows this variant code."""
    with store.transaction("remember a variant"):
        store.db.execute(
            "INSERT OR REPLACE INTO variant_cache (code, name, checked_at) VALUES (?, ?, ?)",
            (code, name, now),
        )
