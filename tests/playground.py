"""Both simulators with the sandbox's credentials, and configs a merchant would write for them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sync_job.sandbox import defaults
from sync_job.sandbox.catalogue import CATALOGUE
from sync_job.sandbox.dealpos_sim import DealposSimulator
from sync_job.sandbox.tiktok_sim import TikTokSimulator
from tests import factories

KNOWN_SKU = CATALOGUE[0].sku


@dataclass
class Sims:
    """The two simulators of one test."""

    tiktok: TikTokSimulator
    dealpos: DealposSimulator

    def put_order(self, sku: str = KNOWN_SKU, age: int = 60, **fields: Any) -> dict[str, Any]:
        """A paid order with one line of `sku`, last updated `age` seconds ago."""
        now = int(time.time())
        order = factories.order(
            update_time=now - age,
            create_time=now - age - 600,
            paid_time=now - age - 300,
            lines=[factories.line(sku=sku, price=str(CATALOGUE[0].price))],
            **fields,
        )
        self.tiktok.put_order(defaults.TIKTOK_SHOP_ID, order)
        return order


@contextmanager
def simulators(**tiktok_options: Any) -> Iterator[Sims]:
    """Start both simulators on free ports (the sandbox's app, shop, outlet and catalogue)."""
    with defaults.tiktok_simulator(**tiktok_options) as tiktok, defaults.dealpos_simulator() as dp:
        yield Sims(tiktok, dp)


def config_text(sims: Sims, state: Path, **changes: str) -> str:
    """A complete config for the simulators; `changes` replace `section.key` values (TOML)."""
    values = {
        "tiktok.base_url": f'"{sims.tiktok.url}"',
        "tiktok.auth_url": f'"{sims.tiktok.url}"',
        "tiktok.app_key": f'"{defaults.TIKTOK_APP_KEY}"',
        "tiktok.app_secret": f'"{defaults.TIKTOK_APP_SECRET}"',
        "tiktok.access_token": f'"{defaults.TIKTOK_ACCESS_TOKEN}"',
        "tiktok.refresh_token": f'"{defaults.TIKTOK_REFRESH_TOKEN}"',
        "shop.id": f'"{defaults.TIKTOK_SHOP_ID}"',
        "shop.cipher": f'"{defaults.TIKTOK_SHOP_CIPHER}"',
        "shop.outlet": f'"{defaults.DEALPOS_OUTLET}"',
        "dealpos.base_url": f'"{sims.dealpos.url}"',
        "dealpos.client_id": f'"{defaults.DEALPOS_CLIENT_ID}"',
        "dealpos.client_secret": f'"{defaults.DEALPOS_CLIENT_SECRET}"',
        "dealpos.payment_method": f'"{defaults.DEALPOS_PAYMENT_METHOD}"',
        **changes,
    }
    sections: dict[str, list[str]] = {}
    for dotted, value in values.items():
        section, key = dotted.split(".")
        sections.setdefault(section, []).append(f"{key} = {value}")
    parts = [f'[state]\npath = "{state}"']
    parts.append("[tiktok]\n" + "\n".join(sections.pop("tiktok")))
    parts.append("[[tiktok.shops]]\n" + "\n".join(sections.pop("shop")))
    parts += [f"[{name}]\n" + "\n".join(lines) for name, lines in sections.items()]
    return "\n\n".join(parts) + "\n"
