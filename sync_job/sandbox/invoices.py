"""The DealPOS simulator's invoices: records, validation and the state changes the API allows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from types import MappingProxyType
from typing import Any

Body = Mapping[str, Any]


@dataclass(frozen=True)
class TenantMode:
    """How this simulated tenant differs from the project's first reading of DealPOS.

    renumbering: creates get the tenant's own `INV/YYYY/NNNNN` Number, whatever was sent.
    documented_names: invoices read with `Payment` / `Delivery` instead of the older names.
    erase_on_delete: DELETE /Invoice erases the invoice instead of moving it to the recycle bin.
    """

    renumbering: bool = False
    documented_names: bool = False
    erase_on_delete: bool = False

    @classmethod
    def parse(cls, text: str) -> TenantMode:
        """Read `renumbering,documented,erase` (any subset; `default` or empty for none)."""
        words = {w.strip() for w in text.split(",") if w.strip() and w.strip() != "default"}
        unknown = words - set(MODE_WORDS)
        if unknown:
            raise ValueError(f"unknown DealPOS mode {sorted(unknown)}; choose from {MODE_WORDS}")
        return cls(**{MODE_WORDS[w]: True for w in words})

    def describe(self) -> str:
        """The mode as `parse` reads it."""
        return ",".join(w for w, f in MODE_WORDS.items() if getattr(self, f)) or "default"


MODE_WORDS = {
    "renumbering": "renumbering",
    "documented": "documented_names",
    "erase": "erase_on_delete",
}


class DealposError(Exception):
    """A refusal: the HTTP status and the `Message` DealPOS would answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True)
class InvoiceLine:
    """One invoice line: a variant, a quantity, a unit price and a discount amount for the line."""

    code: str
    name: str
    quantity: int
    price: Decimal
    discount: Decimal
    note: str = ""

    @property
    def total(self) -> Decimal:
        """Price × Quantity − Discount."""
        return self.price * self.quantity - self.discount


@dataclass(frozen=True)
class Payment:
    """One payment recorded on an invoice."""

    date: str
    amount: Decimal
    method: str
    note: str = ""


@dataclass(frozen=True)
class Invoice:
    """An invoice as DealPOS holds it; state changes make new records (see InvoiceBook)."""

    id: str
    number: str
    outlet: str
    reference: str
    date: str
    tag: str
    note: str
    customer: Mapping[str, Any]
    lines: tuple[InvoiceLine, ...]
    payments: tuple[Payment, ...] = ()
    fulfillment: str = "Unsent"  # Unsent | Sent | Returned
    status: str = "Active"  # Active | Cancelled (in the recycle bin)
    created: str = ""  # when DealPOS made it (ISO 8601, UTC, strictly increasing per tenant)

    @property
    def total(self) -> Decimal:
        """Σ Price × Quantity − Discount over the lines."""
        return sum((line.total for line in self.lines), Decimal(0))

    @property
    def paid(self) -> Decimal:
        """Sum of the payments."""
        return sum((p.amount for p in self.payments), Decimal(0))

    @property
    def payment_status(self) -> str:
        """Unpaid, Partial or Paid."""
        if self.paid <= 0:
            return "Unpaid"
        return "Paid" if self.paid >= self.total else "Partial"

    def detail(self, mode: TenantMode = TenantMode()) -> dict[str, Any]:
        """The invoice as `GET Invoice/Detail` answers it (field names per the tenant's mode)."""
        return {
            "ID": self.id,
            "Number": self.number,
            "ReferenceNumber": self.reference,
            "Outlet": self.outlet,
            "Date": self.date,
            "Tag": self.tag,
            "Note": self.note,
            "Customer": dict(self.customer),
            "Variants": [_line_detail(line) for line in self.lines],
            "Payments": [_payment_detail(p) for p in self.payments],
            "Total": self.total,
            "AmountPaid": self.paid,
            "Balance": max(Decimal(0), self.total - self.paid),
            **self._states(mode),
            "Created": self.created,
        }

    def row(self, mode: TenantMode = TenantMode()) -> dict[str, Any]:
        """The invoice as a row of `POST Invoice/MultipleOutlet`."""
        return {
            "ID": self.id,
            "Outlet": self.outlet,
            "Number": self.number,
            "ReferenceNumber": self.reference,
            "Date": self.date,
            "Amount": self.total,
            **self._states(mode),
            "Tag": self.tag,
            "Created": self.created,
        }

    def _states(self, mode: TenantMode) -> dict[str, str]:
        if mode.documented_names:
            return {
                "Payment": self.payment_status,
                "Delivery": self.fulfillment,
                "Status": self.status,
            }
        return {
            "PaymentStatus": self.payment_status,
            "FulfillmentStatus": self.fulfillment,
            "Status": self.status,
        }

    def summary(self) -> dict[str, Any]:
        """The invoice as the inspection endpoint shows it."""
        return {
            "id": self.id,
            "number": self.number,
            "reference": self.reference,
            "outlet": self.outlet,
            "date": self.date,
            "status": self.status,
            "payment": self.payment_status,
            "fulfillment": self.fulfillment,
            "total": self.total,
            "paid": self.paid,
            "lines": [
                {
                    "code": ln.code,
                    "quantity": ln.quantity,
                    "price": ln.price,
                    "discount": ln.discount,
                }
                for ln in self.lines
            ],
        }


def _line_detail(line: InvoiceLine) -> dict[str, Any]:
    return {
        "Code": line.code,
        "Name": line.name,
        "Quantity": line.quantity,
        "Price": line.price,
        "Discount": line.discount,
        "Note": line.note,
        "Total": line.total,
    }


def _payment_detail(payment: Payment) -> dict[str, Any]:
    return {
        "Date": payment.date,
        "Amount": payment.amount,
        "Method": payment.method,
        "Note": payment.note,
    }


class InvoiceBook:
    """All invoices of a tenant, keyed by ID and by (Outlet, Number); recycled ones included."""

    def __init__(
        self,
        variants: Mapping[str, tuple[str, Decimal]],
        outlets: list[str],
        payment_methods: list[str],
        new_id: Callable[[], str],
        today: Callable[[], str] = lambda: dt.date.today().isoformat(),
        mode: TenantMode = TenantMode(),
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.variants = dict(variants)
        self.outlets = list(outlets)
        self.payment_methods = list(payment_methods)
        self.customers: list[str] = ["TikTok Customer"]
        self._new_id = new_id
        self._today = today
        self.mode = mode
        self._now = now
        self._last_created = dt.datetime.min.replace(tzinfo=dt.UTC)
        self._serial = 0
        self._by_id: dict[str, Invoice] = {}
        self._by_number: dict[tuple[str, str], str] = {}

    def all(self) -> list[Invoice]:
        """Every invoice, in creation order."""
        return list(self._by_id.values())

    def get(self, outlet: str, number: str) -> Invoice | None:
        """The invoice with this Outlet + Number (recycled or not), or None."""
        found = self._by_number.get((outlet, number))
        return self._by_id[found] if found else None

    def put(self, invoice: Invoice) -> Invoice:
        """Store a changed invoice as it is (a person's edit in DealPOS, see tamper.py)."""
        return self._store(invoice)

    def erase(self, invoice: Invoice) -> None:
        """Remove an invoice for good (deleted, then emptied from the recycle bin)."""
        self._by_id.pop(invoice.id, None)
        self._by_number.pop((invoice.outlet, invoice.number), None)

    def find(self, query: Mapping[str, str]) -> Invoice:
        """Look an invoice up by `ID`, or by `Outlet` + `Number`; 404 when none."""
        if query.get("ID"):
            found = self._by_id.get(str(query["ID"]))
        elif query.get("Outlet") and query.get("Number"):
            found = self.get(query["Outlet"], query["Number"])
        else:
            raise DealposError(400, "Give either ID, or Outlet and Number")
        if found is None:
            raise DealposError(404, "Invoice not found")
        return found

    def create(self, body: Body) -> Invoice:
        """Validate and store a new invoice; payments given here count towards Paid."""
        outlet = self._outlet(body.get("Outlet"))
        number = _text(body, "Number")
        date = _date(body.get("Date"), "Date", self._today())
        lines = tuple(self._line(v) for v in _objects(body, "Variants", required=True))
        payments = tuple(self._payment(p, date) for p in _objects(body, "Payments", required=False))
        fulfillment, customer = _fulfillment(body), self._known_customer(_customer(body))
        if self.mode.renumbering:
            number = self._own_number(date)
        if (outlet, number) in self._by_number:
            raise DealposError(
                409, f"Invoice number '{number}' already exists in outlet '{outlet}'"
            )
        invoice = Invoice(
            id=self._new_id(),
            number=number,
            outlet=outlet,
            reference=_text(body, "ReferenceNumber", required=False),
            date=date,
            tag=_text(body, "Tag", required=False),
            note=_text(body, "Note", required=False),
            customer=customer,
            lines=lines,
            payments=payments,
            fulfillment=fulfillment,
            created=self._created(),
        )
        return self._store(invoice)

    def page(self, body: Body) -> list[Invoice]:
        """One page of invoices by outlet, tag and date range, oldest first (the list call)."""
        outlets, tags = _names(body, "Outlet"), _names(body, "Tag")
        start = _date(body.get("From"), "From", "0001-01-01")
        end = _date(body.get("To"), "To", "9999-12-31")
        number, size = _whole(body, "PageNumber", 1), _whole(body, "PageSize", 100)
        if size > 100:
            raise DealposError(400, "PageSize must be at most 100")
        wanted = str(body.get("Status") or "Any")
        chosen = [
            i
            for i in self._by_id.values()
            if (not outlets or i.outlet in outlets)
            and (not tags or i.tag in tags)
            and start <= i.date <= end
            and wanted in ("Any", i.status)
        ]
        return chosen[(number - 1) * size : number * size]

    def _own_number(self, date: str) -> str:
        self._serial += 1
        return f"INV/{date[:4]}/{self._serial:05d}"

    def _created(self) -> str:
        # Strictly increasing, so "the oldest" of two invoices is always well defined.
        now = max(self._now(), self._last_created + dt.timedelta(microseconds=1))
        self._last_created = now
        return now.isoformat(timespec="microseconds")

    def send(self, body: Body) -> Invoice:
        """Record the outbound logistic: Unsent → Sent."""
        fulfillment = body.get("Fulfillment")
        if not isinstance(fulfillment, dict):
            raise DealposError(400, "Fulfillment must be an object with Outlet and Date")
        self._outlet(fulfillment.get("Outlet"))
        _date(fulfillment.get("Date"), "Fulfillment.Date", self._today())
        invoice = self._active(body)
        if invoice.fulfillment != "Unsent":
            raise DealposError(400, f"Invoice '{invoice.number}' has already been sent")
        return self._store(replace(invoice, fulfillment="Sent"))

    def pay(self, body: Body) -> Invoice:
        """Add payments; an Amount of 0 pays whatever is left."""
        invoice = self._active(body)
        if invoice.payment_status == "Paid":
            raise DealposError(400, f"Invoice '{invoice.number}' is already paid")
        entries = _objects(body, "Payments", required=True)
        for entry in entries:
            payment = self._payment(entry, self._today())
            if payment.amount == 0:
                payment = replace(payment, amount=max(Decimal(0), invoice.total - invoice.paid))
            invoice = replace(invoice, payments=(*invoice.payments, payment))
        return self._store(invoice)

    def delete(self, body: Body) -> Invoice:
        """Move an invoice to the recycle bin (a sent one shows Returned), or erase it."""
        invoice = self._active(body)
        if self.mode.erase_on_delete:
            del self._by_id[invoice.id]
            del self._by_number[(invoice.outlet, invoice.number)]
            return invoice
        returned = "Returned" if invoice.fulfillment == "Sent" else invoice.fulfillment
        return self._store(replace(invoice, status="Cancelled", fulfillment=returned))

    def _store(self, invoice: Invoice) -> Invoice:
        self._by_id[invoice.id] = invoice
        self._by_number[(invoice.outlet, invoice.number)] = invoice.id
        return invoice

    def _active(self, body: Body) -> Invoice:
        if body.get("InvoiceID"):
            invoice = self.find({"ID": _text(body, "InvoiceID")})
        else:
            invoice = self.find({"Outlet": _text(body, "Outlet"), "Number": _text(body, "Number")})
        if invoice.status != "Active":
            raise DealposError(400, f"Invoice '{invoice.number}' is already in the recycle bin")
        return invoice

    def _known_customer(self, customer: Mapping[str, Any]) -> Mapping[str, Any]:
        """A customer with an Email or Mobile is matched or created; a bare name must exist."""
        name = customer.get("Name")
        contact = customer.get("Email") or customer.get("Mobile")
        if name and not contact and name not in self.customers:
            raise DealposError(400, f"Customer '{name}' not found")
        return customer

    def _outlet(self, name: Any) -> str:
        if not isinstance(name, str) or not name:
            raise DealposError(400, "Outlet is required")
        if name not in self.outlets:
            raise DealposError(400, f"Outlet '{name}' not found")
        return name

    def _line(self, raw: Body) -> InvoiceLine:
        code = _text(raw, "Code")
        if code not in self.variants:
            raise DealposError(400, f"Variant code '{code}' not found")
        name, unit_price = self.variants[code]
        quantity = raw.get("Quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise DealposError(400, f"Quantity of '{code}' must be a whole number of at least 1")
        price = _money(raw.get("Price", unit_price), f"Price of '{code}'")
        discount = _money(raw.get("Discount", 0), f"Discount of '{code}'")
        if discount > price * quantity:
            raise DealposError(400, f"Discount of '{code}' exceeds the line amount")
        return InvoiceLine(
            code, name, quantity, price, discount, _text(raw, "Note", required=False)
        )

    def _payment(self, raw: Body, default_date: str) -> Payment:
        method = _text(raw, "Method")
        if method not in self.payment_methods:
            raise DealposError(400, f"Payment method '{method}' not found")
        amount = _money(raw.get("Amount", 0), "Payment Amount")
        date = _date(raw.get("Date"), "Payment Date", default_date)
        return Payment(date, amount, method, _text(raw, "Note", required=False))


def _text(body: Body, key: str, *, required: bool = True) -> str:
    value = body.get(key)
    if value is None or value == "":
        if required:
            raise DealposError(400, f"{key} is required")
        return ""
    if not isinstance(value, str):
        raise DealposError(400, f"{key} must be a string")
    return value


def _names(body: Body, key: str) -> list[str]:
    value = body.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DealposError(400, f"{key} must be a list of names")
    return value


def _whole(body: Body, key: str, default: int) -> int:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise DealposError(400, f"{key} must be a whole number of at least 1")
    return value


def _fulfillment(body: Body) -> str:
    value = body.get("Fulfillment") or "Unsent"
    if value not in ("Unsent", "Sent"):
        raise DealposError(400, f"Fulfillment must be Unsent or Sent, not {value!r}")
    return str(value)


def _customer(body: Body) -> Mapping[str, Any]:
    value = body.get("Customer") or {}
    if not isinstance(value, dict):
        raise DealposError(400, "Customer must be an object")
    return MappingProxyType(dict(value))


def _objects(body: Body, key: str, *, required: bool) -> list[Body]:
    value = body.get(key)
    if value is None or value == []:
        if required:
            raise DealposError(400, f"{key} must list at least one item")
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise DealposError(400, f"{key} must be a list of objects")
    return value


def _money(value: Any, what: str) -> Decimal:
    # Numbers arrive as int or Decimal (never float: bodies are parsed with Decimal).
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise DealposError(400, f"{what} must be a number")
    amount = Decimal(value)
    if amount < 0:
        raise DealposError(400, f"{what} must not be negative")
    return amount


def _date(value: Any, what: str, default: str) -> str:
    if value is None or value == "":
        return default
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError(value)
        return dt.date.fromisoformat(value).isoformat()
    except ValueError as err:
        raise DealposError(400, f"{what} must be a date as YYYY-MM-DD") from err
