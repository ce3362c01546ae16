"""The bare reference client of the overhead figure: the same HTTP calls, nothing else.

It pages TikTok's order and return searches and creates one DealPOS invoice per paid order, with
one keep-alive `requests` session per host, like the engine. No state database, no outbox, no
retries, no pacing, no logging: whatever the engine spends beyond this is its overhead.

`--env-once` gives it the engine's sessions (sync_job.net.http.environment_session: the proxy
environment read once when the session is built rather than on every request), so that the
supporting figure compares the engine's bookkeeping alone.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import requests

from sync_job.net.http import environment_session
from sync_job.sandbox import defaults
from sync_job.tiktok.signing import sign, signed_params

_TZ = ZoneInfo("Asia/Jakarta")  # the default [sync] timezone
_SEARCHES = (
    ("/order/202309/orders/search", "orders", 100),
    ("/return_refund/202309/returns/search", "return_orders", 50),
)


def _pages(
    session: requests.Session, base: str, path: str, key: str, size: int, window: tuple[int, int]
) -> Iterator[list[dict[str, Any]]]:
    """Yield the items of each search page, following next_page_token."""
    body = json.dumps({"update_time_ge": window[0], "update_time_lt": window[1]}).encode()
    token = ""
    while True:
        params = {
            "page_size": str(size),
            "sort_field": "update_time",
            "sort_order": "ASC",
            "page_token": token,
            "app_key": defaults.TIKTOK_APP_KEY,
            "timestamp": str(int(time.time())),
            "shop_cipher": defaults.TIKTOK_SHOP_CIPHER,
        }
        params = signed_params(params)
        params["sign"] = sign(path, params, body, defaults.TIKTOK_APP_SECRET)
        headers = {
            "content-type": "application/json",
            "x-tts-access-token": defaults.TIKTOK_ACCESS_TOKEN,
        }
        answer = session.post(base + path, params=params, data=body, headers=headers).json()
        yield answer["data"][key]
        token = answer["data"].get("next_page_token") or ""
        if not token:
            return


def _invoice(order: dict[str, Any]) -> dict[str, Any]:
    """The body the engine sends for a new unsent, unpaid order, built the shortest way."""
    lines: dict[str, dict[str, Any]] = {}
    for item in order["line_items"]:
        if item["display_status"] == "CANCELLED":
            continue
        line = lines.setdefault(
            item["seller_sku"],
            {
                "Code": item["seller_sku"],
                "Quantity": 0,
                "Price": 0,
                "Discount": 0,
                "Note": item["product_name"],
            },
        )
        line["Quantity"] += 1
        line["Price"] = int(Decimal(item["original_price"]))  # IDR: whole numbers
        line["Discount"] += int(Decimal(item["seller_discount"]))
    address = order.get("recipient_address") or {}
    customer = {"Name": "TikTok Customer", "Email": order["buyer_email"]}
    if address.get("phone_number"):
        customer["Mobile"] = address["phone_number"]
    paid = datetime.fromtimestamp(order.get("paid_time") or order["create_time"], _TZ)
    return {
        "Outlet": defaults.DEALPOS_OUTLET,
        "Number": "TT-" + order["id"],
        "Date": paid.strftime("%Y-%m-%d"),
        "Tag": "TikTok",
        "ReferenceNumber": order["id"],
        "Fulfillment": "Unsent",
        "Customer": customer,
        "Variants": list(lines.values()),
        "Note": f"TikTok Shop order {order['id']}",
        "Payments": [],
    }


def reference_run(
    tiktok_url: str,
    dealpos_url: str,
    window: tuple[int, int],
    session: Callable[[], requests.Session] = requests.Session,
) -> int:
    """Read the window and create every order's invoice; return the DealPOS calls made."""
    with session() as tt, session() as dp:
        api = dealpos_url + "/api/v3"
        creds = {
            "client_id": defaults.DEALPOS_CLIENT_ID,
            "client_secret": defaults.DEALPOS_CLIENT_SECRET,
        }
        token = dp.post(api + "/Token/OAuth2", json=creds).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        calls = 1
        for path, key, size in _SEARCHES:
            for items in _pages(tt, tiktok_url, path, key, size, window):
                if key != "orders":
                    continue
                for order in items:
                    body = json.dumps(_invoice(order)).encode()
                    dp.post(api + "/Invoice", data=body, headers=auth).raise_for_status()
                    calls += 1
        return calls


def main(argv: list[str] | None = None) -> None:
    """`python -m bench.reference TIKTOK_URL DEALPOS_URL START END [--env-once]`: one run."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    hosts = args[0], args[1]
    once = "--env-once" in args[4:]
    session = (lambda: environment_session(*hosts)) if once else requests.Session
    calls = reference_run(args[0], args[1], (int(args[2]), int(args[3])), session)
    print(calls)


if __name__ == "__main__":
    main()
