"""Bad input from TikTok, fuzzed: a page never crashes the job; bad orders are set aside, visibly.

Pages mix good orders with mangled ones (fields missing, null, of the wrong type, amounts that are
not numbers, unknown statuses, no line items, very long or odd strings, an id twice). Recording
never raises; every order TikTok sent either parses and is mirrored, or gets an attention item
naming what is wrong; pushing the good ones afterwards never raises either.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sync_job.domain import jsonutil
from sync_job.domain.flow import KNOWN_STATUSES, desired_state
from sync_job.domain.orders import BadOrder, Order, order_id_of, parse_order
from sync_job.engine.push import DrainControl, drain
from sync_job.engine.push_types import PushDeps
from sync_job.engine.record import content_hash, record_orders
from sync_job.engine.shop import ShopContext
from sync_job.state.store import Store
from tests.factories import BASE_TIME, SETTINGS, SETTLE_SECONDS
from tests.fakes import FakeDealpos

SHOP = "shop-fuzz"
CTX = ShopContext(SHOP, "cipher", SETTINGS, "realtime", settle_always=True)
SKUS = ("SKU-A", "SKU-B", "SKU-C")
FUZZ = settings(
    max_examples=120,
    derandomize=True,  # the same examples on every run: CI never flakes on a new one
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)

# -- strategies ---------------------------------------------------------------------------------

ORDER_IDS = st.integers(10**17, 10**19 - 1).map(str)
ODD_TEXT = st.sampled_from(
    [
        "",
        " ",
        "x" * 20_000,
        "\x00",
        "\x00dec:5",
        'quote " and \\ backslash',
        "emoji 🍜 and RTL \u202e",
        "\ud83d",  # a lone surrogate: JSON "\\ud83d" decodes to this
        "Ünïcödé " * 300,
    ]
)
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.text(max_size=30),
    ODD_TEXT,
)
BAD_AMOUNTS = st.sampled_from(
    [
        *("abc", "NaN", "-Infinity", "Infinity", "sNaN", "1e999999", "-5", "1,000", "0x10"),
        *("", " ", "9" * 400, "1E+30", "12.5.1", "١٢٣"),
    ]
)
STATUSES = st.sampled_from(sorted(KNOWN_STATUSES))
LINE_STATUSES = st.sampled_from(["AWAITING_SHIPMENT", "CANCELLED", "TO_SHIP", "", "🙃"])


@st.composite
def good_line(draw: st.DrawFn) -> dict[str, Any]:
    """One plausible line item (one unit)."""
    price = draw(st.integers(1, 5_000_000))
    return {
        "id": str(draw(st.integers(10**17, 10**18))),
        "seller_sku": draw(st.sampled_from(SKUS)),
        "product_name": draw(st.sampled_from(["Kaos", "Botol", ""])),
        "original_price": str(price),
        "sale_price": str(price),
        "seller_discount": str(draw(st.integers(0, price))),
        "platform_discount": "0",
        "display_status": draw(LINE_STATUSES),
    }


@st.composite
def good_order(draw: st.DrawFn) -> dict[str, Any]:
    """One plausible order (its lines may all be cancelled, or its status unknown to us)."""
    return {
        "id": draw(ORDER_IDS),
        "status": draw(st.one_of(STATUSES, STATUSES, st.sampled_from(["TO_SHIP", "REFUNDED"]))),
        "create_time": BASE_TIME - 600,
        "paid_time": BASE_TIME - 300,
        "update_time": BASE_TIME + draw(st.integers(0, 1000)),
        "collection_time": draw(st.sampled_from([None, BASE_TIME - 100])),
        "buyer_email": "buyer@example.com",
        "recipient_address": {"name": draw(st.sampled_from(["Budi", "B*** S***"]))},
        "payment": {"currency": "IDR", "shipping_fee": "10000"},
        "line_items": draw(st.lists(good_line(), min_size=1, max_size=4)),
    }


ORDER_FIELDS = (
    "id",
    "status",
    "create_time",
    "paid_time",
    "update_time",
    "collection_time",
    "buyer_email",
    "recipient_address",
    "payment",
    "line_items",
)
LINE_FIELDS = ("id", "seller_sku", "product_name", "original_price", "seller_discount")


@st.composite
def mangled(draw: st.DrawFn, base: dict[str, Any]) -> Any:
    """The order with one thing broken (or the whole payload replaced by junk)."""
    raw = copy.deepcopy(base)
    how = draw(st.sampled_from(["drop", "junk", "amount", "line", "lines", "text", "whole"]))
    if how == "whole":
        return draw(JUNK)
    if how in ("drop", "junk", "text"):
        key = draw(st.sampled_from(ORDER_FIELDS))
        if how == "drop":
            raw.pop(key, None)
        else:
            raw[key] = draw(ODD_TEXT if how == "text" else JUNK)
        return raw
    if how == "lines":
        raw["line_items"] = draw(st.sampled_from([[], None, {}, "x", [None], [[]], [1]]))
        return raw
    item = raw["line_items"][draw(st.integers(0, len(raw["line_items"]) - 1))]
    key = draw(st.sampled_from(LINE_FIELDS))
    if how == "amount":
        item[draw(st.sampled_from(["original_price", "seller_discount"]))] = draw(BAD_AMOUNTS)
    elif draw(st.booleans()):
        item.pop(key, None)
    else:
        item[key] = draw(st.one_of(JUNK, ODD_TEXT))
    return raw


@st.composite
def page(draw: st.DrawFn) -> list[Any]:
    """A page of 1-8 orders: good ones, mangled ones, and maybe one id twice."""
    items: list[Any] = []
    for _ in range(draw(st.integers(1, 8))):
        base = draw(good_order())
        items.append(draw(mangled(base)) if draw(st.booleans()) else base)
    good = [i for i in items if isinstance(i, dict) and isinstance(i.get("id"), str)]
    add_twin: bool = draw(st.booleans())
    if good and add_twin:
        twin = copy.deepcopy(draw(st.sampled_from(good)))
        twin["update_time"] = twin.get("update_time", 0)
        if isinstance(twin["update_time"], int) and draw(st.booleans()):
            twin["update_time"] += 1
            twin["status"] = "CANCELLED"
        items.insert(draw(st.integers(0, len(items))), twin)
    return items


# -- what must hold -----------------------------------------------------------------------------


def parsed(raw: Any) -> Order | None:
    """The order, or None when it is malformed (BadOrder is the only way parsing may fail)."""
    try:
        return parse_order(raw)
    except BadOrder:
        return None


def winners(raws: list[Any]) -> dict[str, Order]:
    """Per order id, the copy that must win: the newest update_time, the later one on a tie."""
    out: dict[str, Order] = {}
    for raw in raws:
        o = parsed(raw)
        if o is not None and (o.id not in out or o.update_time >= out[o.id].update_time):
            out[o.id] = o
    return out


def bad_keys(store: Store) -> set[str]:
    """Keys of the open 'bad_order' attention items."""
    rows = store.db.execute(
        "SELECT key, message FROM attention WHERE kind = 'bad_order' AND resolved_at IS NULL"
    ).fetchall()
    assert all("malformed order" in message for _, message in rows)
    return {key for key, _ in rows}


def wire(raws: list[Any]) -> list[Any]:
    """The page as it reaches the job: written as JSON by TikTok, parsed by jsonutil."""
    result: list[Any] = jsonutil.loads(json.dumps(raws))
    return result


def check_page(sent: list[Any]) -> None:
    """Record a page, push it, and check every order's fate."""
    raws = wire(sent)
    store = Store.memory(clock=lambda: BASE_TIME + 5000)
    dp = FakeDealpos(known_skus=set(SKUS))
    tally = record_orders(store, CTX, raws)  # must not raise
    bad = [raw for raw in raws if parsed(raw) is None]
    assert tally.bad == len(bad)
    expected_keys = {f"{order_id_of(raw)}:{content_hash(raw)}" for raw in bad}
    assert bad_keys(store) == expected_keys
    drain(PushDeps(store, dp, CTX, SETTLE_SECONDS), DrainControl(sleep=lambda s: None))  # no raise
    open_items = store.open_attention(SHOP)
    for oid, o in winners(raws).items():
        stored = store.get_order_raw(SHOP, oid)
        assert stored is not None and parse_order(stored) == o  # the newest copy was kept
        _check_mirrored(store, dp, o, {i["kind"] for i in open_items if i["order_id"] == oid})


def _check_mirrored(store: Store, dp: FakeDealpos, o: Order, kinds: set[str]) -> None:
    """A good order is in DealPOS as desired, or set aside with an attention item saying why."""
    desired = desired_state(o.status, has_active_return=False, mode="realtime", settle_always=True)
    invoice = dp.invoices.get(f"TT-{o.id}")
    if desired is None:
        assert "unknown_status" in kinds and invoice is None
        return
    if desired.existence != "active":
        assert invoice is None
        return
    if invoice is None:
        # Refused, visibly: only an order with no line to invoice or a SKU DealPOS lacks may be.
        assert "rejected" in kinds and store.outbox_counts(SHOP)["quarantined"] >= 1
        lines = o.active_lines
        assert not (lines and all(li.seller_sku in SKUS for li in lines))
        return
    state = (invoice["FulfillmentStatus"], invoice["PaymentStatus"])
    assert state == (desired.fulfillment, desired.payment)


@FUZZ
@given(page())
@example([{"id": "576461413038785752", "status": "AWAITING_SHIPMENT"}])
@example([None, "junk", 42, [], {}])
def test_any_page_is_recorded_without_crashing_and_bad_orders_are_set_aside(
    raws: list[Any],
) -> None:
    """Recording and pushing a fuzzed page never raise; each bad order has an attention item."""
    check_page(raws)


def _base(order_id: str = "576461413038785752", **fields: Any) -> dict[str, Any]:
    """A good AWAITING_SHIPMENT order with one SKU-A line, fields overridden."""
    raw: dict[str, Any] = {
        "id": order_id,
        "status": "AWAITING_SHIPMENT",
        "create_time": BASE_TIME - 600,
        "paid_time": BASE_TIME - 300,
        "update_time": BASE_TIME,
        "line_items": [
            {"id": "1", "seller_sku": "SKU-A", "original_price": "1000", "display_status": "X"}
        ],
    }
    raw.update(fields)
    return raw


@pytest.mark.parametrize(
    "bad",
    [
        _base(update_time=2**70),  # past SQLite's INTEGER
        _base(paid_time=10**15),  # no calendar date that far out
        _base(update_time=-5),
        _base(buyer_email="\ud83d"),  # lone surrogate
        _base(line_items=[{"seller_sku": "SKU-A", "original_price": "1e999999"}]),
        _base(line_items=[{"seller_sku": "SKU-A", "original_price": "9" * 400}]),
        _base(id="\x00dec:5"),
        _base(buyer_email='a"\x00dec:5"b'),
    ],
    ids=[
        "huge-update-time",
        "far-future-paid-time",
        "negative-time",
        "lone-surrogate",
        "huge-exponent",
        "huge-amount",
        "marker-id",
        "marker-in-text",
    ],
)
def test_edge_values_never_crash_recording_or_pushing(bad: dict[str, Any]) -> None:
    """Values at the edges of what SQLite, datetime, Decimal and JSON take are handled."""
    good = _base("576461413038785753")
    check_page([bad, good])


def test_good_orders_of_a_page_go_through_beside_bad_ones() -> None:
    """Three bad orders around two good ones: the good two are invoiced, the bad three listed."""
    store = Store.memory(clock=lambda: BASE_TIME)
    dp = FakeDealpos()
    good = [_base("576461413038785760"), _base("576461413038785761", status="IN_TRANSIT")]
    raws: list[Any] = [
        _base("576461413038785762", line_items=[]),
        good[0],
        _base("576461413038785763", update_time="soon"),
        good[1],
        _base("576461413038785764", line_items=[{"seller_sku": "A", "original_price": "x"}]),
    ]
    tally = record_orders(store, CTX, raws)
    drain(PushDeps(store, dp, CTX, SETTLE_SECONDS), DrainControl(sleep=lambda s: None))
    assert tally.bad == 3
    assert sorted(dp.invoices) == [f"TT-{g['id']}" for g in good]
    items = store.open_attention(SHOP)
    assert sorted(i["order_id"] for i in items) == [
        "576461413038785762",
        "576461413038785763",
        "576461413038785764",
    ]
    messages = " | ".join(i["message"] for i in items)
    for reason in ("no line items", "update_time", "original_price"):
        assert reason in messages


def test_one_id_twice_in_a_page_keeps_the_newer_copy() -> None:
    """The same order twice in one page: one invoice, in the newer copy's state."""
    store = Store.memory(clock=lambda: BASE_TIME)
    dp = FakeDealpos()
    older = _base(status="AWAITING_SHIPMENT")
    newer = {**older, "status": "IN_TRANSIT", "update_time": BASE_TIME + 5}
    record_orders(store, CTX, [newer, older])
    drain(PushDeps(store, dp, CTX, SETTLE_SECONDS), DrainControl(sleep=lambda s: None))
    assert dp.calls == ["create"]
    assert dp.invoices[f"TT-{older['id']}"]["FulfillmentStatus"] == "Sent"


def test_stored_raw_round_trips_exactly() -> None:
    """What is stored parses back to the same order, odd strings and exact money included."""
    raw = _base(buyer_email='x"\x00dec:5"y\\', note="\x00dec:7")
    raw["line_items"][0]["original_price"] = Decimal("1000.10")
    store = Store.memory(clock=lambda: BASE_TIME)
    record_orders(store, CTX, [raw])
    assert store.get_order_raw(SHOP, raw["id"]) == raw
    assert jsonutil.loads(jsonutil.dumps(raw)) == raw


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('"\\ud83d x"', "\ufffd x"),  # a high surrogate alone
        ('"x \\udE00"', "x \ufffd"),  # a low one alone
        ('"\\ud83d\\ude00"', "😀"),  # a pair is one character: kept
        (b'"\xed\xa0\x80"', "\ufffd"),  # raw CESU bytes of a surrogate
        ('"caf\\u00e9 \\\\ud83d"', "caf\u00e9 \\ud83d"),  # an escaped backslash, not an escape
    ],
)
def test_lone_surrogates_from_the_wire_become_replacement_characters(
    text: str | bytes, value: str
) -> None:
    """Parsed text never holds a lone surrogate, so it can always be stored and sent as UTF-8."""
    parsed_value = jsonutil.loads(text)
    assert parsed_value == value
    parsed_value.encode("utf-8")


@FUZZ
@given(st.recursive(JUNK | st.decimals(allow_nan=False, places=3), lambda inner: (
    st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
)))  # fmt: skip
def test_any_value_survives_a_json_round_trip(value: Any) -> None:
    """dumps then loads gives the value back: odd strings stay strings, Decimals stay exact."""
    if isinstance(value, float) or "nan" in repr(value).lower():
        return  # NaN is not equal to itself; floats come back as Decimals by design
    back = jsonutil.loads(jsonutil.dumps(value))
    assert back == _cleaned(value)


def _cleaned(value: Any) -> Any:
    """What loads gives for a value: floats as Decimals, lone surrogates replaced."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in value)
    if isinstance(value, dict):
        return {_cleaned(k): _cleaned(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_cleaned(v) for v in value]
    return value


def test_a_newer_copy_with_an_unknown_status_drops_the_unsent_plan() -> None:
    """Paid, then (before any push) an unknown status: no call at all, an attention item."""
    store = Store.memory(clock=lambda: BASE_TIME)
    dp = FakeDealpos()
    paid = _base()
    record_orders(store, CTX, [paid])
    assert store.outbox_counts(SHOP)["pending"] == 1
    record_orders(store, CTX, [{**paid, "status": "TO_SHIP", "update_time": BASE_TIME + 1}])
    drain(PushDeps(store, dp, CTX, SETTLE_SECONDS), DrainControl(sleep=lambda s: None))
    assert dp.calls == []
    assert [i["kind"] for i in store.open_attention(SHOP)] == ["unknown_status"]
