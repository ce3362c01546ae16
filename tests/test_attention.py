"""Attention items: a rejected action that later succeeds resolves its item; `sync-job attention`
lists items with ids and marks them done by id or by kind."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sync_job.engine.record import record_orders
from sync_job.engine.shop import ShopContext
from sync_job.state.attention import list_attention, resolve_attention_ids, resolve_attention_kind
from sync_job.state.store import Store
from tests.factories import BASE_TIME, SETTINGS, line, order
from tests.fakes import FakeDealpos
from tests.test_cli import invoke, write_config
from tests.test_record_push import push

CTX = ShopContext("shop1", "cipher", SETTINGS, "realtime")


def kinds_open(store: Store) -> list[str]:
    """The kinds of the shop's open items."""
    return [i["kind"] for i in store.open_attention("shop1")]


def test_rejected_item_resolves_when_the_retried_action_succeeds(tmp_path: Path) -> None:
    """Unknown SKU: quarantined + item; SKU added, `retry`, push: the item is resolved."""
    store = Store.open(tmp_path / "sync.db", clock=lambda: BASE_TIME)
    dp = FakeDealpos(known_skus={"A"})
    bad = order(lines=[line("ZZZ")])
    record_orders(store, CTX, [bad])
    push(store, dp)
    assert kinds_open(store) == ["rejected"]
    dp.known_skus = {"A", "ZZZ"}
    store.requeue_quarantined(None, bad["id"])
    push(store, dp)
    assert f"TT-{bad['id']}" in dp.invoices
    assert kinds_open(store) == []


def test_rejected_item_resolves_after_the_order_moved_on(tmp_path: Path) -> None:
    """Rejected create, the order then ships (re-planned, still quarantined); retry: resolved."""
    store = Store.open(tmp_path / "sync.db", clock=lambda: BASE_TIME)
    dp = FakeDealpos(known_skus={"A"})
    bad = order(lines=[line("ZZZ")])
    record_orders(store, CTX, [bad])
    push(store, dp)
    record_orders(store, CTX, [{**bad, "status": "IN_TRANSIT", "update_time": BASE_TIME + 60}])
    push(store, dp)
    assert kinds_open(store) == ["rejected"]  # still refused: nothing was retried
    dp.known_skus = {"A", "ZZZ"}
    store.requeue_quarantined(None, bad["id"])
    push(store, dp)
    assert dp.invoices[f"TT-{bad['id']}"]["FulfillmentStatus"] == "Sent"
    assert kinds_open(store) == []


def three_items(store: Store) -> list[int]:
    """Two returns and one unknown status; return their ids."""
    store.raise_attention("shop1", "o1", "return", "r1", "return r1 on o1")
    store.raise_attention("shop1", "o2", "return", "r2", "return r2 on o2")
    store.raise_attention("shop1", "o3", "unknown_status", "o3:X", "order o3 has status X")
    return [i["id"] for i in list_attention(store)]


def test_state_functions_resolve_by_id_and_by_kind(tmp_path: Path) -> None:
    """Unknown ids come back; by kind honours `before` (created strictly before it)."""
    clock = [float(BASE_TIME)]
    store = Store.open(tmp_path / "sync.db", clock=lambda: clock[0])
    ids = three_items(store)
    assert resolve_attention_ids(store, [ids[2], 999]) == [999]
    assert [i["kind"] for i in list_attention(store)] == ["return", "return"]
    created = datetime.fromtimestamp(BASE_TIME, UTC)
    assert resolve_attention_kind(store, "return", created) == 0  # not before: created at it
    clock[0] += 10
    assert resolve_attention_kind(store, "return") == 2
    assert list_attention(store) == []
    assert len(list_attention(store, include_resolved=True)) == 3


def test_attention_command_lists_ids_and_marks_done(tmp_path: Path) -> None:
    """`attention` lists ids; `done ID` resolves; an unknown id exits 1; --all shows resolved."""
    config = str(write_config(tmp_path))
    store = Store.open(tmp_path / "state" / "sync.db")
    ids = three_items(store)
    store.close()
    code, out, _ = invoke(["--config", config, "attention"])
    assert code == 0 and f"#{ids[0]} shop shop1 [return] return r1 on o1" in out
    code, out, _ = invoke(["--config", config, "attention", "--json"])
    assert [i["id"] for i in json.loads(out)["attention"]] == ids
    code, out, _ = invoke(["--config", config, "attention", "done", str(ids[0])])
    assert code == 0 and out.startswith("1 item(s) marked done")
    code, _, err = invoke(["--config", config, "attention", "done", str(ids[1]), "4242"])
    assert code == 1 and "4242" in err
    code, out, _ = invoke(["--config", config, "attention", "--json"])
    assert [i["id"] for i in json.loads(out)["attention"]] == [ids[2]]
    code, out, _ = invoke(["--config", config, "attention", "--all", "--json"])
    assert len(json.loads(out)["attention"]) == 3


@pytest.mark.parametrize(("before", "left"), [("2000-01-01", 3), ("2999-01-01", 1)])
def test_attention_done_by_kind_before_a_day(tmp_path: Path, before: str, left: int) -> None:
    """`done --kind return --before DAY` resolves only that kind, only items older than DAY."""
    config = str(write_config(tmp_path))
    store = Store.open(tmp_path / "state" / "sync.db")
    three_items(store)
    store.close()
    args = ["--config", config, "attention", "done", "--kind", "return", "--before", before]
    code, _, _ = invoke(args)
    assert code == 0
    code, out, _ = invoke(["--config", config, "attention", "--json"])
    assert len(json.loads(out)["attention"]) == left


def test_attention_done_needs_ids_or_a_kind(tmp_path: Path) -> None:
    """Neither ids nor --kind (or both) is a usage error."""
    config = str(write_config(tmp_path))
    assert invoke(["--config", config, "attention", "done"])[0] == 2
    assert invoke(["--config", config, "attention", "done", "1", "--kind", "return"])[0] == 2


def test_status_json_attention_entries_carry_their_id(tmp_path: Path) -> None:
    """status --json: each attention entry has the id `attention done` takes."""
    config = str(write_config(tmp_path))
    store = Store.open(tmp_path / "state" / "sync.db")
    ids = three_items(store)
    store.close()
    code, out, _ = invoke(["--config", config, "status", "--json"])
    assert code == 0
    assert [i["id"] for i in json.loads(out)["shops"][0]["attention"]] == ids


def test_attention_needs_no_secret_and_creates_no_state_file(tmp_path: Path) -> None:
    """Without any secret: listing a missing state file shows nothing and creates nothing."""
    from click.testing import CliRunner

    from sync_job.service.cli import main

    config = str(write_config(tmp_path))
    listed = CliRunner().invoke(main, ["--config", config, "attention", "--json"], env={})
    assert listed.exit_code == 0 and json.loads(listed.stdout) == {"attention": []}
    done = CliRunner().invoke(main, ["--config", config, "attention", "done", "7"], env={})
    assert done.exit_code == 1 and "7" in done.stderr
    assert not (tmp_path / "state").exists()
