"""Local TikTok Shop and DealPOS simulators, an order-lifecycle generator and fault injection.

In a test::

    clock = ManualClock()
    tiktok = TikTokSimulator("key", "secret", [("shop-1", "cipher-1")], clock=clock)
    dealpos = DealposSimulator("id", "secret", variants=dealpos_variants())
    with tiktok, dealpos:                      # both listen on 127.0.0.1, any free port
        gen = LifecycleGenerator(tiktok, "shop-1", seed=1, clock=clock)
        gen.advance(50)                        # or gen.step() on a timer, gen.drain() to finish
        ...  # point the client at tiktok.url and dealpos.url + "/api/v3/"
"""

from sync_job.sandbox.catalogue import CATALOGUE, UNKNOWN_PRODUCTS, Product, dealpos_variants
from sync_job.sandbox.clock import ManualClock
from sync_job.sandbox.dealpos_sim import DealposSimulator
from sync_job.sandbox.faults import Fault, FaultConfig
from sync_job.sandbox.generator import Event, LifecycleGenerator, Odds
from sync_job.sandbox.invoices import Invoice, InvoiceLine, Payment
from sync_job.sandbox.tiktok_sim import TikTokSimulator

__all__ = [
    "CATALOGUE",
    "UNKNOWN_PRODUCTS",
    "DealposSimulator",
    "Event",
    "Fault",
    "FaultConfig",
    "Invoice",
    "InvoiceLine",
    "LifecycleGenerator",
    "ManualClock",
    "Odds",
    "Payment",
    "Product",
    "TikTokSimulator",
    "dealpos_variants",
]
