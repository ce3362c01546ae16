"""Which DealPOS refusals are the config's fault (a missing outlet, payment method, customer)."""

from __future__ import annotations

import pytest

from sync_job.dealpos.assumed import missing_config_record

NAMES = {
    "outlet": "Online Store",
    "payment_method": "TikTok Shop",
    "default_customer": "TikTok Customer",
}


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("Outlet 'Online Store' not found", "outlet"),
        ("Payment method 'TikTok Shop' not found", "payment_method"),
        ("Customer 'TikTok Customer' does not exist", "default_customer"),
        ("The outlet ONLINE STORE does not exist.", "outlet"),
        # The order's own problems, or another record's name: not the config's.
        ("Variant code 'SKU-1' not found", None),
        ("Variant code 'X' not found in outlet 'Online Store'", None),
        ("Customer 'David Kong' not found", None),
        ("Outlet 'Online Store' is locked", None),
        ("Invoice number 'TT-1' already exists in outlet 'Online Store'", None),
        (None, None),
    ],
)
def test_missing_config_record(message: str | None, kind: str | None) -> None:
    """Only a 'not found' about the configured outlet, payment method or customer counts."""
    assert missing_config_record(message, NAMES) == kind
