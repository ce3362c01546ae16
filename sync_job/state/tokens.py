"""The TikTok token pair in the state database, and which configured pair seeded it.

Rules (one writer at a time, every process alike: daemon, once, backfill, connect):
- The stored pair remembers the fingerprint (`seed`) of the configured pair it came from. When the
  configured pair changes (a new pair in env or config.toml), that pair replaces the stored one;
  while it stays the same, the stored (refreshed) pair wins. `replace_tokens` is the one way to
  put a pair in place, for the seeding rule and for `sync-job connect` alike.
- A refresh is one unit of work (`Store.tokens_locked`, BEGIN IMMEDIATE): read the stored
  pair, refresh only if it is still the pair this process holds, save the new pair, commit. A
  second process waits for the first, then finds the new pair instead of spending the same
  refresh token again.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sync_job.domain.model import Tokens


def seed_of(access_token: str, refresh_token: str) -> str:
    """A fingerprint of a configured pair: a SHA-256, never the values themselves."""
    text = f"sync-job token seed\0{access_token}\0{refresh_token}"
    return hashlib.sha256(text.encode()).hexdigest()


def _now(clock: Callable[[], float]) -> str:
    return datetime.fromtimestamp(clock(), UTC).isoformat(timespec="seconds")


def load_tokens(conn: sqlite3.Connection, app_key: str) -> Tokens | None:
    """The stored pair of this app, if any."""
    row = conn.execute(
        "SELECT access_token, access_expires_at, refresh_token, refresh_expires_at "
        "FROM tokens WHERE app_key = ?",
        (app_key,),
    ).fetchone()
    return None if row is None else Tokens(row[0], row[1], row[2], row[3])


def load_seed(conn: sqlite3.Connection, app_key: str) -> str | None:
    """The fingerprint of the configured pair the stored pair came from (None: unknown)."""
    row = conn.execute("SELECT seed FROM tokens WHERE app_key = ?", (app_key,)).fetchone()
    return None if row is None else row[0]


def replace_tokens(
    conn: sqlite3.Connection,
    app_key: str,
    tokens: Tokens,
    *,
    seed: str | None,
    clock: Callable[[], float] = time.time,
) -> None:
    """Put `tokens` in place of any stored pair; `seed`: the configured pair's fingerprint."""
    conn.execute(
        "INSERT OR REPLACE INTO tokens (app_key, access_token, access_expires_at, refresh_token, "
        "refresh_expires_at, updated_at, seed) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            app_key,
            tokens.access_token,
            tokens.access_expires_at,
            tokens.refresh_token,
            tokens.refresh_expires_at,
            _now(clock),
            seed,
        ),
    )


def save_refreshed(
    conn: sqlite3.Connection, app_key: str, tokens: Tokens, clock: Callable[[], float] = time.time
) -> None:
    """Store a refreshed pair, keeping the seed of the pair it descends from."""
    replace_tokens(conn, app_key, tokens, seed=load_seed(conn, app_key), clock=clock)


def seeded_tokens(
    conn: sqlite3.Connection,
    app_key: str,
    configured: Tokens,
    clock: Callable[[], float] = time.time,
) -> Tokens:
    """The pair to use: the stored one, unless the configured pair changed since it seeded it.

    Runs inside the caller's unit of work (`Store.seeded_tokens`): read and replace together.
    """
    if not configured.access_token and not configured.refresh_token:
        # No pair configured (`sync-job connect` stored one): nothing can replace the stored pair.
        return load_tokens(conn, app_key) or configured
    seed = seed_of(configured.access_token, configured.refresh_token)
    stored, stored_seed = load_tokens(conn, app_key), load_seed(conn, app_key)
    if stored is not None and stored_seed in (seed, None):
        if stored_seed is None:  # stored by connect, or before seeds were kept: this
            # configured pair becomes the baseline; only a later change replaces the pair
            conn.execute("UPDATE tokens SET seed = ? WHERE app_key = ?", (seed, app_key))
        return stored
    replace_tokens(conn, app_key, configured, seed=seed, clock=clock)
    return configured
