"""`sync-job verify`, end to end: the real command, both simulators, DealPOS tampered by hand."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from sync_job.sandbox.invoices import TenantMode
from tests.e2e.conftest import SECRETS, SHOP, Sandbox, running_sandbox
from tests.factories import line, order

pytestmark = pytest.mark.e2e

LIST = "POST /api/v3/Invoice/MultipleOutlet"
TOKEN = "POST /api/v3/Token/OAuth2"


def paid_order(status: str = "AWAITING_SHIPMENT") -> dict[str, Any]:
    """An order paid a minute ago (so today's verify range holds it), one unit of a known SKU."""
    now = int(time.time())
    return order(
        status,
        lines=[line("KAOS-HITAM-M")],
        create_time=now - 120,
        paid_time=now - 60,
        update_time=now - 30,
    )


def put(sandbox: Sandbox, data: dict[str, Any], status: str | None = None) -> dict[str, Any]:
    """Store (a new version of) an order in the TikTok simulator."""
    changed = {**data, "update_time": data["update_time"] + 1}
    if status is not None:
        changed["status"] = status
    sandbox.tiktok.put_order(SHOP, changed)
    return changed


def mirrored(sandbox: Sandbox, count: int) -> list[dict[str, Any]]:
    """`count` paid orders, mirrored into DealPOS."""
    orders = [put(sandbox, paid_order()) for _ in range(count)]
    sandbox.settle()
    return orders


def number(o: dict[str, Any]) -> str:
    """The job's invoice Number of an order."""
    return f"TT-{o['id']}"


def verify(sandbox: Sandbox, *args: str, code: int) -> dict[str, Any]:
    """`verify --json ARGS`, expecting exit `code`; the parsed shop object."""
    proc = sandbox.run("verify", "--json", *args, check_codes=(code,))
    (shop,) = json.loads(proc.stdout)["shops"]
    assert shop["id"] == SHOP
    return dict(shop)


def found(shop: dict[str, Any]) -> set[tuple[str, str]]:
    """(kind, order id) of every finding."""
    return {(f["kind"], f["order_id"]) for f in shop["findings"]}


def test_an_untouched_mirror_verifies_clean_for_the_list_pages_only(sandbox: Sandbox) -> None:
    """No finding, exit 0; DealPOS calls: one token and one list page, nothing else."""
    mirrored(sandbox, 3)
    before = sandbox.dealpos.calls.snapshot()
    shop = verify(sandbox, code=0)
    assert (shop["orders"], shop["invoices"], shop["findings"]) == (3, 3, [])
    after = sandbox.dealpos.calls.snapshot()
    spent = {e: sum(o.values()) - sum(before.get(e, {}).values()) for e, o in after.items()}
    assert {e: n for e, n in spent.items() if n and "/_sandbox/" not in e} == {LIST: 1, TOKEN: 1}
    assert shop["dealpos_calls"] == 2


def test_each_way_of_tampering_is_exactly_one_finding(sandbox: Sandbox) -> None:
    """Erase, pay, reprice, type a copy, type a stranger, restore a cancelled one; and one order
    recorded but not pushed yet: exactly those findings, of those kinds."""
    erased, paid, repriced, copied, cancelled, fine = mirrored(sandbox, 6)
    put(sandbox, cancelled, "CANCELLED")
    sandbox.settle()
    dp = sandbox.dealpos
    dp.tamper({"action": "delete", "number": number(erased)})
    dp.tamper({"action": "pay", "number": number(paid)})
    dp.tamper({"action": "amount", "number": number(repriced), "amount": "60000"})
    dp.tamper({"action": "add", "reference": copied["id"], "number": "HAND-COPY"})
    dp.tamper({"action": "add", "reference": "999000000000000777", "number": "HAND-NEW"})
    dp.tamper({"action": "restore", "number": number(cancelled)})
    queued = put(sandbox, paid_order())  # `--refresh` records it; nothing pushes it
    shop = verify(sandbox, "--refresh", code=1)
    assert found(shop) == {
        ("missing", erased["id"]),
        ("state", paid["id"]),
        ("total", repriced["id"]),
        ("duplicate", copied["id"]),
        ("unexpected", "999000000000000777"),
        ("state", cancelled["id"]),
        ("pending", queued["id"]),
    }
    by_kind = {(f["kind"], f["order_id"]): f for f in shop["findings"]}
    assert by_kind[("state", paid["id"])]["expected"] == "Unsent+Unpaid"
    assert by_kind[("state", paid["id"])]["actual"] == "Unsent+Paid"
    assert by_kind[("total", repriced["id"])]["actual"] == "60000"
    assert by_kind[("duplicate", copied["id"])]["actual"] == f"{number(copied)}, HAND-COPY"
    assert fine["id"] not in {f["order_id"] for f in shop["findings"]}
    assert dp.by_reference().get(queued["id"]) is None  # verify itself never created anything


def test_repair_and_once_bring_a_tampered_mirror_back_to_clean(sandbox: Sandbox) -> None:
    """Missing and state drift go through the outbox; the next `once` fixes them; verify: 0."""
    erased, cancelled = mirrored(sandbox, 2)
    put(sandbox, cancelled, "CANCELLED")
    sandbox.settle()
    sandbox.dealpos.tamper({"action": "delete", "number": number(erased)})
    sandbox.dealpos.tamper({"action": "restore", "number": number(cancelled)})
    writes_before = _writes(sandbox)
    shop = verify(sandbox, "--repair", code=1)
    assert found(shop) == {("missing", erased["id"]), ("state", cancelled["id"])}
    assert _writes(sandbox) == writes_before  # repair itself calls nothing but the list
    assert sandbox.status()["shops"][0]["outbox"]["pending"] == 2
    sandbox.run("once")
    assert verify(sandbox, code=0)["findings"] == []
    restored = [i for i in sandbox.dealpos.by_reference()[cancelled["id"]]]
    assert [i.status for i in restored] == ["Cancelled"]


def test_repair_raises_attention_for_what_it_cannot_fix(sandbox: Sandbox) -> None:
    """Paid by hand, repriced, typed by hand: attention items; nothing planned, nothing deleted."""
    paid, repriced = mirrored(sandbox, 2)
    dp = sandbox.dealpos
    dp.tamper({"action": "pay", "number": number(paid)})
    dp.tamper({"action": "amount", "number": number(repriced), "amount": "60000"})
    dp.tamper({"action": "add", "reference": "999000000000000778", "number": "HAND-X"})
    verify(sandbox, "--repair", code=1)
    status = sandbox.status()["shops"][0]
    assert status["outbox"] == {"pending": 0, "in_flight": 0, "quarantined": 0}
    kinds = sorted(a["kind"] for a in status["attention"])
    assert kinds == ["verify_state", "verify_total", "verify_unexpected"]
    sandbox.run("once")
    typed = dp.invoice("HAND-X")
    assert typed is not None and typed.status == "Active"  # never deleted: the job did not make it


def test_status_shows_the_last_verify(sandbox: Sandbox) -> None:
    """`status` (JSON and text) carries the newest verify's result."""
    (erased,) = mirrored(sandbox, 1)
    sandbox.dealpos.tamper({"action": "delete", "number": number(erased)})
    verify(sandbox, code=1)
    last = sandbox.status()["shops"][0]["last_verify"]
    assert (last["trigger"], last["status"], last["findings"]) == ("command", "ok", {"missing": 1})
    assert (last["orders"], last["invoices"], last["dealpos_calls"]) == (1, 0, 2)
    text = sandbox.run("status").stdout
    assert "last verify: command ok" in text and "missing 1" in text


def test_text_output_has_a_summary_and_a_line_per_finding(sandbox: Sandbox) -> None:
    """The summary names the counts; each finding line names order, invoice, expected, actual."""
    _kept, erased = mirrored(sandbox, 2)
    sandbox.dealpos.tamper({"action": "delete", "number": number(erased)})
    out = sandbox.run("verify", check_codes=(1,)).stdout
    assert f"shop {SHOP}" in out and "2 orders checked, 1 invoices seen" in out
    assert "findings: missing 1" in out
    assert (
        f"missing    order {erased['id']}  invoice {number(erased)}  "
        "expected Unsent+Unpaid  actual no invoice"
    ) in out


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--from", "2026-11-30", "--to", "2026-11-01"), "--to is before --from"),
        (("--shop", "404"), "no shop with id '404'"),
        (("--from", "30-11-2026"), "expected a date as YYYY-MM-DD"),
    ],
)
def test_bad_usage_exits_2_before_any_call(
    sandbox: Sandbox, args: tuple[str, ...], words: str
) -> None:
    """A wrong range, shop or date: exit 2 with a message, no DealPOS call made."""
    proc = sandbox.run("verify", *args, check_codes=(2,))
    assert words in proc.stderr
    assert sandbox.dealpos.calls.count() == 0


def test_a_bad_config_key_exits_2(sandbox: Sandbox) -> None:
    """`[verify] daily = "yes"` names the key; nothing is called."""
    sandbox.write_config(**{"verify.daily": "yes"})
    proc = sandbox.run("verify", check_codes=(2,))
    assert "verify.daily" in proc.stderr and sandbox.dealpos.calls.count() == 0


def _writes(sandbox: Sandbox) -> int:
    calls = sandbox.dealpos.calls
    return sum(
        calls.count(e)
        for e in (
            "POST /api/v3/Invoice",
            "DELETE /api/v3/Invoice",
            "POST /api/v3/OutboundLogistic",
            "POST /api/v3/Payment/Invoice/AddPaymentFull",
        )
    )


def test_verify_needs_only_the_dealpos_secret(sandbox: Sandbox) -> None:
    """Without TikTok's secrets verify still runs; without DealPOS's it exits 2 naming the key."""
    mirrored(sandbox, 1)
    base = [sys.executable, "-m", "sync_job", "--config", str(sandbox.config_path), "verify"]
    clean = {k: v for k, v in os.environ.items() if k not in SECRETS}
    dealpos_only = {**clean, "DEALPOS_CLIENT_SECRET": SECRETS["DEALPOS_CLIENT_SECRET"]}
    ok = subprocess.run(base, capture_output=True, text=True, timeout=120, env=dealpos_only)
    assert ok.returncode == 0, ok.stderr[-2000:]
    calls = sandbox.dealpos.calls.count()
    none = subprocess.run(base, capture_output=True, text=True, timeout=120, env=clean)
    assert none.returncode == 2 and "dealpos.client_secret" in none.stderr
    assert sandbox.dealpos.calls.count() == calls


@pytest.mark.parametrize("mode", ["renumbering,documented", "erase"])
def test_other_tenant_modes_verify_clean_and_repair(tmp_path: Path, mode: str) -> None:
    """A tenant that renumbers (documented field names) or erases on delete: clean after the
    mirror; an erased invoice is found missing, repaired, and clean again."""
    with running_sandbox(tmp_path, dealpos_mode=TenantMode.parse(mode)) as box:
        _kept, erased = mirrored(box, 2)
        assert verify(box, code=0)["findings"] == []
        (invoice,) = box.dealpos.by_reference()[erased["id"]]
        box.dealpos.tamper({"action": "delete", "number": invoice.number})
        assert found(verify(box, "--repair", code=1)) == {("missing", erased["id"])}
        box.run("once")
        assert verify(box, code=0)["findings"] == []
