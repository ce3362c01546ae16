"""Read-only DealPOS lookups for `sync-job check`: outlets, payment methods, customers, variants.

Each is a GET that changes nothing, so a check can make them freely (within the shared quota).
"""

from __future__ import annotations

from typing import Any, Protocol

from sync_job.dealpos.classify import Endpoint
from sync_job.domain.errors import NotFound

__all__ = ["find_customers", "find_variant", "list_outlets", "list_payment_methods"]

_API = "/api/v3"


def _is_list(body: Any) -> bool:
    return isinstance(body, list) and all(isinstance(item, dict) for item in body)


def _is_variant(body: Any) -> bool:
    return isinstance(body, dict) and body.get("Code") not in (None, "")


OUTLETS = Endpoint("list_outlets", "GET", f"{_API}/Outlet", _is_list, repeatable=True)
PAYMENT_METHODS = Endpoint(
    "list_payment_methods", "GET", f"{_API}/PaymentMethod", _is_list, repeatable=True
)
CUSTOMERS = Endpoint("find_customers", "GET", f"{_API}/Customer", _is_list, repeatable=True)
VARIANT = Endpoint("find_variant", "GET", f"{_API}/Variant/Detail", _is_variant, repeatable=True)


class Reader(Protocol):
    """The one client method lookups need (DealposClient.read)."""

    def read(self, endpoint: Endpoint, params: dict[str, str] | None = None) -> Any:
        """Make one read-only call and return its parsed body."""
        ...


def list_outlets(client: Reader) -> list[dict[str, Any]]:
    """Every outlet of the tenant: `[{ID, Name, Code, Suspended}]`."""
    return list(client.read(OUTLETS))


def list_payment_methods(client: Reader) -> list[dict[str, Any]]:
    """Every payment method of the tenant: `[{ID, Name}]` (ASSUMED shape, see dealpos.md)."""
    return list(client.read(PAYMENT_METHODS))


def find_customers(client: Reader, name: str) -> list[dict[str, Any]]:
    """Customers matching `name` (DealPOS may match loosely: compare names yourself)."""
    return list(client.read(CUSTOMERS, {"Name": name}))


def find_variant(client: Reader, code: str) -> dict[str, Any] | None:
    """The variant with this code, or None when DealPOS does not know it (404)."""
    try:
        return dict(client.read(VARIANT, {"Code": code}))
    except NotFound:
        return None
