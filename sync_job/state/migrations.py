"""The state file's schema: every migration in order, its version, and applying it.

Each change of the schema is one `@migrations()` function added at the END of the list, named
`m0NN_<what>`; the names are what existing files record as applied (`_sqlite_migrations`), so a
migration is never renamed, reordered or edited once released.
"""

from __future__ import annotations

import functools
import sqlite3
from pathlib import Path

import sqlite_utils
from sqlite_utils import Migrations

from sync_job.state import problems

migrations = Migrations("sync_job")


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    """Create the first schema."""
    db.executescript(
        """
        CREATE TABLE orders (shop_id TEXT NOT NULL, order_id TEXT NOT NULL, status TEXT NOT NULL,
            update_time INTEGER NOT NULL, content_hash TEXT NOT NULL, raw TEXT NOT NULL,
            recorded_at TEXT NOT NULL, PRIMARY KEY (shop_id, order_id));
        CREATE TABLE returns (shop_id TEXT NOT NULL, return_id TEXT NOT NULL,
            order_id TEXT NOT NULL,
            return_status TEXT NOT NULL, update_time INTEGER NOT NULL, raw TEXT NOT NULL,
            PRIMARY KEY (shop_id, return_id));
        CREATE INDEX returns_by_order ON returns (shop_id, order_id);
        CREATE TABLE ledger (shop_id TEXT NOT NULL, order_id TEXT NOT NULL, number TEXT NOT NULL,
            invoice_id TEXT, record TEXT NOT NULL, fulfillment TEXT NOT NULL, payment TEXT NOT NULL,
            lines TEXT, updated_at TEXT NOT NULL, PRIMARY KEY (shop_id, order_id));
        CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, shop_id TEXT NOT NULL,
            order_id TEXT NOT NULL, action TEXT NOT NULL, fulfillment TEXT NOT NULL,
            payment TEXT NOT NULL, state TEXT NOT NULL, in_doubt INTEGER NOT NULL DEFAULT 0,
            attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL, UNIQUE (shop_id, order_id, action));
        CREATE INDEX outbox_by_state ON outbox (shop_id, state, id);
        CREATE TABLE cursors (shop_id TEXT NOT NULL, stream TEXT NOT NULL,
            position INTEGER NOT NULL,
            updated_at TEXT NOT NULL, PRIMARY KEY (shop_id, stream));
        CREATE TABLE attention (id INTEGER PRIMARY KEY AUTOINCREMENT, shop_id TEXT NOT NULL,
            order_id TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, message TEXT NOT NULL,
            details TEXT, created_at TEXT NOT NULL, resolved_at TEXT, UNIQUE (shop_id, kind, key));
        CREATE INDEX attention_open ON attention (shop_id, resolved_at);
        CREATE TABLE runs (id TEXT PRIMARY KEY, shop_id TEXT NOT NULL, mode TEXT NOT NULL,
            started_at TEXT NOT NULL, finished_at TEXT, status TEXT NOT NULL, counts TEXT,
            error TEXT);
        CREATE INDEX runs_by_shop ON runs (shop_id, started_at);
        CREATE TABLE tokens (app_key TEXT PRIMARY KEY, access_token TEXT NOT NULL,
            access_expires_at INTEGER NOT NULL, refresh_token TEXT NOT NULL,
            refresh_expires_at INTEGER NOT NULL, updated_at TEXT NOT NULL);
        CREATE TABLE locks (shop_id TEXT PRIMARY KEY, holder TEXT NOT NULL, pid INTEGER NOT NULL,
            host TEXT NOT NULL, expires_at REAL NOT NULL);
        """
    )


@migrations()
def m002_verify_runs(db: sqlite_utils.Database) -> None:
    """Keep each shop's verify results: what was compared, what differed, what it cost."""
    db.executescript(
        """
        CREATE TABLE verify_runs (id INTEGER PRIMARY KEY AUTOINCREMENT, shop_id TEXT NOT NULL,
            trigger TEXT NOT NULL, first_day TEXT NOT NULL, last_day TEXT NOT NULL,
            started_at TEXT NOT NULL, finished_at TEXT NOT NULL, status TEXT NOT NULL,
            orders INTEGER NOT NULL, invoices INTEGER NOT NULL, findings TEXT NOT NULL,
            dealpos_calls INTEGER NOT NULL, repaired INTEGER NOT NULL DEFAULT 0, error TEXT);
        CREATE INDEX verify_runs_by_shop ON verify_runs (shop_id, trigger, id);
        """
    )


@migrations()
def m003_webhook_inbox(db: sqlite_utils.Database) -> None:
    """Add the webhook inbox (one row per TikTok notification) and the receiver's counters."""
    db.executescript(
        """
        CREATE TABLE webhook_inbox (notification_id TEXT PRIMARY KEY, shop_id TEXT NOT NULL,
            type INTEGER NOT NULL, order_id TEXT, sent_at INTEGER, received_at REAL NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0, processed_at REAL, outcome TEXT);
        CREATE INDEX webhook_inbox_pending ON webhook_inbox (shop_id, received_at)
            WHERE processed_at IS NULL;
        CREATE TABLE webhook_counts (kind TEXT PRIMARY KEY, n INTEGER NOT NULL,
            last_at REAL NOT NULL);
        """
    )


@migrations()
def m004_page_indexes(db: sqlite_utils.Database) -> None:
    """Indexes the operator page pages and counts by (recent invoices, state counts, chart)."""
    db.executescript(
        """
        CREATE INDEX IF NOT EXISTS ledger_by_updated ON ledger (shop_id, updated_at);
        CREATE INDEX IF NOT EXISTS ledger_by_state
            ON ledger (shop_id, record, fulfillment, payment);
        CREATE INDEX IF NOT EXISTS orders_by_update_time ON orders (shop_id, update_time);
        CREATE INDEX IF NOT EXISTS attention_by_kind ON attention (shop_id, kind, resolved_at);
        """
    )


@migrations()
def m005_token_seed(db: sqlite_utils.Database) -> None:
    """Remember which configured token pair seeded the stored one (see state/tokens.py)."""
    db.execute("ALTER TABLE tokens ADD COLUMN seed TEXT")


@migrations()
def m006_variant_cache(db: sqlite_utils.Database) -> None:
    """DealPOS variant codes `sync-job check` found, so a re-run spends no quota on them."""
    db.execute(
        "CREATE TABLE variant_cache (code TEXT PRIMARY KEY, name TEXT NOT NULL, "
        "checked_at REAL NOT NULL)"
    )


@migrations()
def m007_maintenance(db: sqlite_utils.Database) -> None:
    """When each periodic housekeeping task (e.g. retention) last ran (see state/retention.py)."""
    db.execute("CREATE TABLE maintenance (task TEXT PRIMARY KEY, done_at REAL NOT NULL)")


@migrations()
def m008_page_indexes_by_time(db: sqlite_utils.Database) -> None:
    """The operator page's invoice lists walk the ledger newest first, per state or not.

    Replaces m004's ledger indexes with ones that also carry the sort keys (so a page is an index
    range, never a sort), and drops the orders index: the chart reads the runs table instead.
    """
    db.executescript(
        """
        DROP INDEX IF EXISTS orders_by_update_time;
        DROP INDEX IF EXISTS ledger_by_updated;
        DROP INDEX IF EXISTS ledger_by_state;
        CREATE INDEX ledger_recent ON ledger (shop_id, updated_at, order_id);
        CREATE INDEX ledger_by_state
            ON ledger (shop_id, record, fulfillment, payment, updated_at, order_id);
        """
    )


@migrations()
def m009_shared_quota(db: sqlite_utils.Database) -> None:
    """The DealPOS calls and holds every process on this file paces by (see state/quota.py)."""
    db.executescript(
        """
        CREATE TABLE quota_calls (id INTEGER PRIMARY KEY AUTOINCREMENT, tenant TEXT NOT NULL,
            at REAL NOT NULL, done INTEGER NOT NULL DEFAULT 0);
        CREATE INDEX quota_calls_by_tenant ON quota_calls (tenant, done, at);
        CREATE TABLE quota_holds (tenant TEXT PRIMARY KEY, until REAL NOT NULL);
        """
    )


@migrations()
def m010_tenant_findings(db: sqlite_utils.Database) -> None:
    """What this DealPOS tenant was found to do: numbering, field names, delete."""
    db.execute(
        "CREATE TABLE tenant_findings (key TEXT PRIMARY KEY, value TEXT NOT NULL, "
        "source TEXT NOT NULL, updated_at TEXT NOT NULL)"
    )


@migrations()
def m011_verify_requests(db: sqlite_utils.Database) -> None:
    """Verifies a person asked for on the operator page; the daemon runs them after a cycle."""
    db.execute(
        "CREATE TABLE verify_requests (shop_id TEXT NOT NULL, day TEXT NOT NULL, "
        "requested_at REAL NOT NULL, PRIMARY KEY (shop_id, day))"
    )


@functools.cache
def _known_migrations() -> tuple[str, ...]:
    """The names of every migration this version knows, in order."""
    return tuple(m.name for m in migrations.pending(sqlite_utils.Database(memory=True)))


def schema_version() -> int:
    """This version's schema version (PRAGMA user_version): how many migrations it knows."""
    return len(_known_migrations())


def refuse_newer(db: sqlite_utils.Database, path: Path) -> int:
    """Raise StateError for a file from a newer sync-job; return its schema version."""
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    unknown = [m.name for m in migrations.applied(db) if m.name not in _known_migrations()]
    if version > schema_version():
        raise problems.newer_schema(path, f"schema version {version}", schema_version())
    if unknown:
        raise problems.newer_schema(path, f"migration {unknown[0]}", schema_version())
    return version


def migrate(db: sqlite_utils.Database, path: Path) -> None:
    """Apply pending migrations, one process at a time (two runs may open a new file at once)."""
    if not migrations.pending(db) and refuse_newer(db, path) == schema_version():
        return
    db.conn.execute("BEGIN IMMEDIATE")  # the others wait here, then find nothing pending
    try:
        refuse_newer(db, path)  # a newer sync-job may have migrated it while we waited
        migrations.apply(db)
        db.execute(f"PRAGMA user_version = {schema_version()}")
    except BaseException:
        db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")


def needs_migration(path: Path) -> bool:
    """True when the file at `path` lacks some of this version's migrations (read-only look)."""
    conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        db = sqlite_utils.Database(conn)
        return refuse_newer(db, path) != schema_version() or bool(migrations.pending(db))
    finally:
        conn.close()
