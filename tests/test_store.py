"""The state database on a real SQLite file: cursors, tokens, attention, runs, locks."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from sync_job.domain.model import Tokens
from sync_job.state.db import NestedUnitError
from sync_job.state.locks import LockBusy, ShopLock
from sync_job.state.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """A fresh state database in a real file."""
    return Store.open(tmp_path / "sync.db", clock=lambda: 1_800_000_000)


def test_migrations_are_idempotent(tmp_path: Path) -> None:
    """Opening an existing database twice applies nothing twice."""
    first = Store.open(tmp_path / "a.db")
    applied = first.db.execute("SELECT COUNT(*) FROM _sqlite_migrations").fetchone()[0]
    first.close()
    store = Store.open(tmp_path / "a.db")
    rows = store.db.execute("SELECT COUNT(*), COUNT(DISTINCT name) FROM _sqlite_migrations")
    assert rows.fetchone() == (applied, applied) and applied >= 1


# What files written by released versions record as applied: a rename would re-run a migration.
RELEASED_MIGRATIONS = [
    "m001_initial",
    "m002_verify_runs",
    "m003_webhook_inbox",
    "m004_page_indexes",
    "m005_token_seed",
    "m006_variant_cache",
    "m007_maintenance",
    "m008_page_indexes_by_time",
    "m009_shared_quota",
    "m010_tenant_findings",
    "m011_verify_requests",
]


def test_released_migrations_keep_their_names_and_order(tmp_path: Path) -> None:
    """A new file records the released migrations under the same set and names, in order."""
    store = Store.open(tmp_path / "a.db")
    rows = store.db.execute(
        "SELECT migration_set, name FROM _sqlite_migrations ORDER BY rowid"
    ).fetchall()
    assert {row[0] for row in rows} == {"sync_job"}
    assert [row[1] for row in rows][: len(RELEASED_MIGRATIONS)] == RELEASED_MIGRATIONS


def test_cursor_never_moves_backwards(store: Store) -> None:
    """advance_cursor keeps the larger position."""
    assert store.get_cursor("s", "orders") is None
    store.advance_cursor("s", "orders", 200)
    store.advance_cursor("s", "orders", 100)
    assert store.get_cursor("s", "orders") == 200


def test_tokens_round_trip_in_one_row(store: Store) -> None:
    """Both tokens are saved together and loaded back."""
    tokens = Tokens("acc", 1_900_000_000, "ref", 1_950_000_000)
    store.save_tokens("app", tokens)
    assert store.load_tokens("app") == tokens
    assert store.load_tokens("other") is None


def test_attention_dedupes_and_resolves(store: Store) -> None:
    """Raising the same item twice keeps one; resolving hides it from the open list."""
    store.raise_attention("s", "o1", "return", "r1", "first")
    store.raise_attention("s", "o1", "return", "r1", "second")
    assert [i["message"] for i in store.open_attention("s")] == ["second"]
    store.resolve_attention("s", "return", "r1")
    assert store.open_attention("s") == []


def test_runs_keep_counts(store: Store) -> None:
    """A finished run keeps its status and counts for `status`."""
    store.start_run("r1", "s", "realtime")
    store.finish_run("r1", "ok", {"created": 3}, None)
    run = store.last_run("s")
    assert run is not None and run["status"] == "ok" and run["counts"] == {"created": 3}


def test_a_unit_of_work_rolls_back_everything(store: Store) -> None:
    """A failure inside a unit of work leaves no partial page behind."""
    with pytest.raises(RuntimeError), store.transaction("a page"):
        store.raise_attention("s", "o1", "k", "1", "m")
        raise RuntimeError
    assert store.open_attention("s") == []
    assert store.unit is None


def test_a_unit_is_on_disk_when_it_exits_and_not_before(tmp_path: Path) -> None:
    """Another connection sees a unit's writes exactly when its block has exited."""
    path = tmp_path / "u.db"
    store, other = Store.open(path), Store.open(path)
    with store.transaction("two writes"):
        store.raise_attention("s", "o1", "k", "1", "m")
        store.raise_attention("s", "o2", "k", "2", "m")
        assert other.open_attention("s") == []
    assert len(other.open_attention("s")) == 2


def test_units_never_nest(store: Store) -> None:
    """A unit opened inside another is refused (never a silent savepoint), and nothing is kept."""
    nested = pytest.raises(NestedUnitError, match="'inner' opened inside unit 'outer'")
    with nested, store.transaction("outer"):
        store.raise_attention("s", "o1", "k", "1", "m")
        with store.transaction("inner"):
            pass
    assert store.open_attention("s") == [] and store.unit is None


def test_lock_is_exclusive_until_released_or_expired(tmp_path: Path) -> None:
    """A live lease blocks a second holder; an expired one is taken over."""
    now = [1000.0]
    a = Store.open(tmp_path / "l.db")
    b = Store.open(tmp_path / "l.db")
    first = ShopLock(a, "s", "run-a", lease_seconds=60, clock=lambda: now[0])
    second = ShopLock(b, "s", "run-b", lease_seconds=60, clock=lambda: now[0])
    first.acquire()
    with pytest.raises(LockBusy, match="run-a"):
        second.acquire()
    now[0] += 61
    second.acquire()
    with pytest.raises(LockBusy):
        first.renew()


def test_lock_of_a_dead_process_is_taken_over(store: Store) -> None:
    """A lease whose holder pid no longer exists on this host is taken over at once."""
    lock = ShopLock(store, "s", "mine", clock=lambda: 1000.0)
    store.db.execute(
        "INSERT INTO locks VALUES (?, ?, ?, ?, ?)", ("s", "ghost", 2**22 + 12345, lock.host, 9e9)
    )
    lock.acquire()
    row = store.db.execute("SELECT holder FROM locks").fetchone()
    assert row[0] == "mine"


def test_wal_side_files_are_private(tmp_path: Path) -> None:
    """The -wal and -shm files get the database file's 0600 mode."""
    store = Store.open(tmp_path / "w.db")
    store.raise_attention("s", "o", "k", "1", "m")
    for suffix in ("-wal", "-shm"):
        side = tmp_path / f"w.db{suffix}"
        assert side.exists()
        assert side.stat().st_mode & 0o077 == 0
    assert isinstance(store.db.conn, sqlite3.Connection)


def test_a_killed_run_is_marked_when_the_next_run_starts(store: Store) -> None:
    """A run left 'running' by a killed process shows as killed once the next run holds the shop."""
    store.start_run("r1", "s", "realtime")  # never finished: SIGKILL
    store.start_run("r2", "s", "realtime")
    statuses = dict(store.db.execute("SELECT id, status FROM runs").fetchall())
    assert statuses == {"r1": "killed", "r2": "running"}


CONFIGURED = Tokens("cfg-access-1111", 0, "cfg-refresh-2222", 0)
REFRESHED = Tokens("new-access-3333", 1_800_600_000, "new-refresh-4444", 1_900_000_000)


def test_stored_pair_wins_while_the_configured_pair_is_the_same(store: Store) -> None:
    """The configured pair seeds the store once; refreshed pairs then win over it."""
    assert store.seeded_tokens("app", CONFIGURED) == CONFIGURED
    store.save_tokens("app", REFRESHED)
    assert store.seeded_tokens("app", CONFIGURED) == REFRESHED


def test_a_changed_configured_pair_replaces_the_stored_one(store: Store) -> None:
    """A new configured pair (a re-authorization) replaces the stored one."""
    store.seeded_tokens("app", CONFIGURED)
    store.save_tokens("app", REFRESHED)
    new = Tokens("cfg-access-5555", 0, "cfg-refresh-6666", 0)
    assert store.seeded_tokens("app", new) == new
    assert store.load_tokens("app") == new


def test_a_pair_stored_before_seeds_were_kept_is_not_thrown_away(store: Store) -> None:
    """Upgrading: a stored pair without a seed was refreshed from the configured one; keep it."""
    store.save_tokens("app", REFRESHED)  # written as an older version would: no seed
    assert store.seeded_tokens("app", CONFIGURED) == REFRESHED
    store.save_tokens("app", Tokens("x-access-7777", 1, "x-refresh-8888", 1))
    assert store.seeded_tokens("app", CONFIGURED).access_token == "x-access-7777"


def test_replace_tokens_keeps_the_configured_pair_from_undoing_it(store: Store) -> None:
    """`connect` replaces the pair, seeded by the pair configured now: the next run keeps it."""
    from sync_job.state.tokens import seed_of

    store.seeded_tokens("app", CONFIGURED)
    store.replace_tokens("app", REFRESHED, seed=seed_of("cfg-access-1111", "cfg-refresh-2222"))
    assert store.seeded_tokens("app", CONFIGURED) == REFRESHED


def test_the_seed_is_not_the_token_values(store: Store) -> None:
    """Only a fingerprint of the configured pair is stored beside it, never its values."""
    store.seeded_tokens("app", CONFIGURED)
    store.save_tokens("app", REFRESHED)
    (seed,) = store.db.execute("SELECT seed FROM tokens").fetchone()
    assert len(seed) == 64 and "cfg" not in seed


def test_a_connected_pair_survives_whatever_pair_is_configured_next(store: Store) -> None:
    """`connect` stores its pair without a seed: the next run's configured pair (even one from
    other env than the shell that ran connect) becomes the baseline; only a change replaces."""
    store.seeded_tokens("app", CONFIGURED)
    store.replace_tokens("app", REFRESHED, seed=None)  # what `sync-job connect` does
    daemon_env = Tokens("old-access-9999", 0, "old-refresh-0000", 0)  # stale pair in the unit
    assert store.seeded_tokens("app", daemon_env) == REFRESHED
    assert store.seeded_tokens("app", daemon_env) == REFRESHED
    assert store.seeded_tokens("app", CONFIGURED) == CONFIGURED  # a real change still replaces


def test_a_transaction_that_reads_first_still_writes_after_another_connection_commits(
    tmp_path: Path,
) -> None:
    """A unit of work takes the write lock up front: another connection's commit in between (the
    webhook receiver's) cannot make its later write fail with "database is locked"."""
    store = Store.open(tmp_path / "a.db")
    other = sqlite3.connect(str(tmp_path / "a.db"), timeout=0, isolation_level=None)
    with store.transaction("a read, then a write"):
        store.get_cursor("s", "orders")  # a read first
        with pytest.raises(sqlite3.OperationalError):  # the other writer waits (here: gives up)
            other.execute("INSERT INTO cursors VALUES ('x', 'orders', 1, 'now')")
        store.advance_cursor("s", "orders", 100)  # the write after the read goes through
    assert store.get_cursor("s", "orders") == 100
    other.execute("INSERT INTO cursors VALUES ('x', 'orders', 1, 'now')")  # free again
    other.close()
    store.close()


def test_opening_the_state_again_keeps_the_first_connections_locks(tmp_path: Path) -> None:
    """A second Store.open in one process (the webhook receiver's own connection) must not drop
    the first connection's locks: else another process, closing its connection, deletes the WAL
    under it and its later commits are lost ("disk I/O error" for everybody else)."""
    path = tmp_path / "state.db"
    first = Store.open(path)
    first.advance_cursor("s", "orders", 1)
    second = Store.open(path)
    reader = (
        f"import sqlite3; c = sqlite3.connect({str(path)!r}); "
        "c.execute('SELECT COUNT(*) FROM cursors').fetchone(); c.close()"
    )
    subprocess.run([sys.executable, "-c", reader], check=True, timeout=60)
    first.advance_cursor("s", "orders", 2)
    fresh = sqlite3.connect(str(path))
    try:
        assert fresh.execute("SELECT position FROM cursors").fetchone() == (2,)
    finally:
        fresh.close()
        second.close()
        first.close()
