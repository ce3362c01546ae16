"""The TikTok token pair in the state database, and which configured pair seeded it.

Rules (one writer at a time, every process alike: daemon, once, backfill, connect):
- The stored pair remembers the fingerprint (`seed`) of the configured pair it came from. When the
  configured pair changes (a new pair in env or config.toml), that pair replaces the stored one;
  while it stays the same, the stored (refreshed) pair wins. `replace_pair` is the one way to
  put a pair in place, for the seeding rule and for `sync-job connect` alike.
- A refresh is one unit of work (`Store.tokens_locked`, BEGIN IMMEDIATE): read the stored
  pair, refresh only if it is still the pair this process holds, save the new pair, commit. A
  second process waits for the first, then finds the new pair instead of spending the same
  refresh token again.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import time
from collections.abc import Callable, Iterator

from sync_job.domain.model import Tokens
from sync_job.state.db import StoreBase, iso_now


def seed_of(access_token: str, refresh_token: str) -> str:
    """A fingerprint of a configured pair: a SHA-256, never the values themselves."""
    text = f"sync-job token seed\0{access_token}\0{refresh_token}"
    return hashlib.sha256(text.encode()).hexdigest()


def load_pair(conn: sqlite3.Connection, app_key: str) -> Tokens | None:
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


def replace_pair(
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
            iso_now(clock),
            seed,
        ),
    )


def save_refreshed(
    conn: sqlite3.Connection, app_key: str, tokens: Tokens, clock: Callable[[], float] = time.time
) -> None:
    """Store a refreshed pair, keeping the seed of the pair it descends from."""
    replace_pair(conn, app_key, tokens, seed=load_seed(conn, app_key), clock=clock)


def seeded_pair(
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
        return load_pair(conn, app_key) or configured
    seed = seed_of(configured.access_token, configured.refresh_token)
    stored, stored_seed = load_pair(conn, app_key), load_seed(conn, app_key)
    if stored is not None and stored_seed in (seed, None):
        if stored_seed is None:  # stored by connect, or before seeds were kept: this
            # configured pair becomes the baseline; only a later change replaces the pair
            conn.execute("UPDATE tokens SET seed = ? WHERE app_key = ?", (seed, app_key))
        return stored
    replace_pair(conn, app_key, configured, seed=seed, clock=clock)
    return configured


class TokenTable(StoreBase):
    """The tokens table as the TikTok client's TokenStore: each change one unit of work."""

    def load_tokens(self, app_key: str) -> Tokens | None:
        """The newest TikTok tokens saved for this app, if any."""
        return load_pair(self.db.conn, app_key)

    def save_tokens(self, app_key: str, pair: Tokens) -> None:
        """Persist a refreshed pair (a refresh invalidates the old refresh token).

        Inside `tokens_locked()` (the unit that read the pair it replaces) it is part of that
        unit; anywhere else it is a unit of its own.
        """
        if self._unit is None:
            with self.transaction("save tokens"):
                save_refreshed(self.db.conn, app_key, pair, self.clock)
        else:  # part of tokens_locked()'s unit: on disk when that unit exits
            save_refreshed(self.db.conn, app_key, pair, self.clock)

    def replace_tokens(self, app_key: str, pair: Tokens, *, seed: str | None) -> None:
        """Put `pair` in place of the stored one (`sync-job connect`, a new configured pair).

        `seed`: `seed_of(...)` of the configured pair it came from; None (connect): the
        pair the next run finds configured, whatever it is, becomes the baseline and does not
        replace this one; only a later change of the configured pair does.
        """
        with self.transaction("replace tokens"):
            replace_pair(self.db.conn, app_key, pair, seed=seed, clock=self.clock)

    @contextlib.contextmanager
    def tokens_locked(self) -> Iterator[None]:
        """Hold the database's write lock (BEGIN IMMEDIATE) around a token read-refresh-save."""
        with self.transaction("read, refresh and save tokens"):
            yield

    def seeded_tokens(self, app_key: str, configured: Tokens) -> Tokens:
        """The pair to start from: the stored one, or the configured one once it changed."""
        with self.transaction("seed tokens"):
            return seeded_pair(self.db.conn, app_key, configured, self.clock)
