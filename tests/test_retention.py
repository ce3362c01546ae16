"""Retention: old runs go, old finished orders keep only what the job reads again, at most once a
day, from `once` and the daemon alike; the slim copy parses to the very same order."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from sync_job.domain import jsonutil
from sync_job.domain.flow import Action
from sync_job.domain.orders import parse_order, slim_order
from sync_job.sandbox.catalogue import CATALOGUE
from sync_job.sandbox.orders import new_order, set_status
from sync_job.state.db import iso_now
from sync_job.state.retention import RetentionPolicy, apply_retention, apply_retention_if_due
from sync_job.state.store import Store
from tests.test_cli import write_config

DAY = 86400
NOW = 1_800_000_000.0


def sim_order(seed: int, status: str) -> dict[str, object]:
    """A full-size order as the TikTok simulator makes them, moved to `status`."""
    rng = random.Random(seed)
    order, recipient = new_order(rng, f"57646141303{seed:08d}", CATALOGUE, int(NOW))
    set_status(order, "AWAITING_SHIPMENT", int(NOW), recipient)
    if status != "AWAITING_SHIPMENT":
        set_status(order, status, int(NOW) + 60, recipient)
    return dict(order)


@pytest.mark.parametrize("seed", range(30))
def test_slim_copy_parses_to_the_same_order(seed: int) -> None:
    """parse_order(slim_order(raw)) == parse_order(raw), and the slim copy is smaller."""
    raw = sim_order(seed, random.Random(seed).choice(["COMPLETED", "CANCELLED", "IN_TRANSIT"]))
    slim = slim_order(raw)
    assert parse_order(slim) == parse_order(raw)
    assert len(jsonutil.dumps(slim)) < len(jsonutil.dumps(raw))


def put_run(store: Store, run_id: str, shop: str, age_days: float, status: str = "ok") -> None:
    """A finished run that started `age_days` ago."""
    started = iso_now(lambda: NOW - age_days * DAY)
    store.db.execute(
        "INSERT INTO runs (id, shop_id, mode, started_at, status) VALUES (?, ?, 'realtime', ?, ?)",
        (run_id, shop, started, status),
    )


def put_order(store: Store, seed: int, status: str, age_days: float) -> str:
    """A recorded order, recorded `age_days` ago; returns its id."""
    raw = sim_order(seed, status)
    store.clock = lambda: NOW - age_days * DAY
    store.record_order("s1", str(raw["id"]), status, int(NOW), "h", raw)
    store.clock = lambda: NOW
    return str(raw["id"])


def raw_size(store: Store, order_id: str) -> int:
    """The stored raw JSON's length."""
    return int(store.db.execute("SELECT length(raw) FROM orders WHERE order_id = ?",
                                (order_id,)).fetchone()[0])  # fmt: skip


def test_retention_deletes_old_runs_and_slims_old_finished_orders(tmp_path: Path) -> None:
    """Runs past 30 days go (each shop's newest stays); finished orders past 90 days are slim."""
    store = Store.open(tmp_path / "s.db", clock=lambda: NOW)
    put_run(store, "old1", "s1", 40)
    put_run(store, "new1", "s1", 2)
    put_run(store, "lone-old", "s2", 60)  # s2's newest run: stays for `status`
    old_done = put_order(store, 1, "COMPLETED", 100)
    old_cancelled = put_order(store, 2, "CANCELLED", 100)
    recent_done = put_order(store, 3, "COMPLETED", 10)
    old_open = put_order(store, 4, "IN_TRANSIT", 100)
    old_pending = put_order(store, 5, "COMPLETED", 100)
    store.replace_outbox("s1", old_pending, [Action("pay", "Sent", "Paid")], "pending")
    sizes = {oid: raw_size(store, oid) for oid in (old_done, recent_done, old_open, old_pending)}
    before = {oid: parse_order(store.get_order_raw("s1", oid)) for oid in (old_done, old_cancelled)}

    result = apply_retention(store, RetentionPolicy())

    runs = {r[0] for r in store.db.execute("SELECT id FROM runs").fetchall()}
    assert runs == {"new1", "lone-old"} and result.runs_deleted == 1
    assert result.orders_slimmed == 2
    assert raw_size(store, old_done) < sizes[old_done] / 2
    for oid, order in before.items():
        assert parse_order(store.get_order_raw("s1", oid)) == order
    for oid in (recent_done, old_open, old_pending):
        assert raw_size(store, oid) == sizes[oid]


def test_retention_runs_at_most_once_a_day(tmp_path: Path) -> None:
    """Due when never applied; then not again until a day has passed."""
    now = [NOW]
    store = Store.open(tmp_path / "s.db", clock=lambda: now[0])
    assert apply_retention_if_due(store, RetentionPolicy()) is not None
    now[0] += DAY - 1
    assert apply_retention_if_due(store, RetentionPolicy()) is None
    now[0] += 1
    assert apply_retention_if_due(store, RetentionPolicy()) is not None


def test_once_applies_retention(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`once` (TikTok unreachable here, so the shop fails) still applies the retention."""
    from tests.factories import never_sleep_in_commands
    from tests.test_cli import invoke

    never_sleep_in_commands(monkeypatch)
    config = write_config(tmp_path)
    text = config.read_text() + "[retention]\nruns_days = 5\n"
    config.write_text(text)
    store = Store.open(tmp_path / "state" / "sync.db")
    put_run(store, "ancient", "shop1", 400)  # a year before today, whatever today is
    store.close()
    code, _, _ = invoke(["--config", str(config), "once"])
    assert code == 1  # TikTok is unreachable in this config
    store = Store.open(tmp_path / "state" / "sync.db")
    ids = [r[0] for r in store.db.execute("SELECT id FROM runs").fetchall()]
    store.close()
    assert "ancient" not in ids and len(ids) == 1


@pytest.mark.parametrize("key", ["runs_days = 0", "raw_days = 99999", 'runs_days = "30"'])
def test_bad_retention_config_names_the_key(tmp_path: Path, key: str) -> None:
    """A bad [retention] value exits 2 naming the key."""
    from tests.test_cli import invoke

    config = write_config(tmp_path)
    config.write_text(config.read_text() + f"[retention]\n{key}\n")
    code, _, err = invoke(["--config", str(config), "once"])
    assert code == 2 and f"retention.{key.split()[0]}" in err
