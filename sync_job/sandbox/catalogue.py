"""The SKU catalogue shared by the order generator and the DealPOS simulator's variants."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Product:
    """One sellable variant: its SKU (= DealPOS variant code), names and IDR unit price."""

    sku: str
    product_name: str
    sku_name: str
    price: Decimal
    product_id: str
    sku_id: str


_ROWS = [
    ("KAOS-HITAM-M", "Kaos Polos Premium", "Hitam, M", "59000"),
    ("KAOS-HITAM-L", "Kaos Polos Premium", "Hitam, L", "59000"),
    ("KAOS-PUTIH-M", "Kaos Polos Premium", "Putih, M", "59000"),
    ("KAOS-PUTIH-XL", "Kaos Polos Premium", "Putih, XL", "64000"),
    ("KEMEJA-BATIK-L", "Kemeja Batik Pria", "Coklat, L", "185000"),
    ("KEMEJA-BATIK-XL", "Kemeja Batik Pria", "Coklat, XL", "195000"),
    ("HIJAB-SEGI4-NAVY", "Hijab Segi Empat Voal", "Navy", "45000"),
    ("HIJAB-SEGI4-MOCCA", "Hijab Segi Empat Voal", "Mocca", "45000"),
    ("CELANA-CHINO-30", "Celana Chino Slim", "Khaki, 30", "149000"),
    ("CELANA-CHINO-32", "Celana Chino Slim", "Khaki, 32", "149000"),
    ("SNEAKERS-PUTIH-41", "Sneakers Kanvas", "Putih, 41", "229000"),
    ("SNEAKERS-PUTIH-42", "Sneakers Kanvas", "Putih, 42", "229000"),
    ("SANDAL-JEPIT-40", "Sandal Jepit Karet", "Hitam, 40", "25000"),
    ("TOPI-BASEBALL-HTM", "Topi Baseball", "Hitam", "39000"),
    ("TAS-SELEMPANG-01", "Tas Selempang Kanvas", "Abu-abu", "89000"),
    ("DOMPET-KULIT-CKL", "Dompet Kulit Asli", "Coklat", "129000"),
    ("KOPI-ARABIKA-250", "Kopi Arabika Gayo", "250 g", "85000"),
    ("KOPI-ROBUSTA-250", "Kopi Robusta Lampung", "250 g", "65000"),
    ("TEH-MELATI-100", "Teh Melati Tubruk", "100 g", "18500"),
    ("SAMBAL-BAWANG-200", "Sambal Bawang", "200 ml", "27500"),
    ("KERIPIK-SINGKONG", "Keripik Singkong Balado", "250 g", "22000"),
    ("MADU-HUTAN-500", "Madu Hutan Murni", "500 ml", "135000"),
    ("SABUN-SEREH-100", "Sabun Sereh Alami", "100 g", "19900"),
    ("SERUM-WAJAH-30", "Serum Wajah Niacinamide", "30 ml", "99000"),
    ("LIPSTIK-MATTE-05", "Lipstik Matte", "Shade 05", "49500"),
    ("CASE-HP-A54", "Case HP Silikon", "Galaxy A54", "35000"),
    ("KABEL-USBC-1M", "Kabel USB-C", "1 m", "29900"),
    ("POWERBANK-10K", "Powerbank 10000 mAh", "Hitam", "175000"),
    ("EARBUDS-TWS-01", "Earbuds TWS", "Putih", "249000"),
    ("BOTOL-MINUM-1L", "Botol Minum", "1 L", "55000"),
]

CATALOGUE: tuple[Product, ...] = tuple(
    Product(
        sku=sku,
        product_name=product,
        sku_name=variant,
        price=Decimal(price),
        product_id=f"17296{n:014d}",
        sku_id=f"17301{n:014d}",
    )
    for n, (sku, product, variant, price) in enumerate(_ROWS, start=1)
)

# SKUs the generator may sell that DealPOS does not know (an unknown-variant quarantine path).
UNKNOWN_PRODUCTS: tuple[Product, ...] = (
    Product(
        "BUNDLE-PROMO-99",
        "Paket Promo Spesial",
        "Bundle",
        Decimal("99000"),
        "1729600000000000098",
        "1730100000000000098",
    ),
    Product(
        "GIFT-BOX-XMAS",
        "Gift Box Natal",
        "Box",
        Decimal("49000"),
        "1729600000000000099",
        "1730100000000000099",
    ),
)


def dealpos_variants(
    catalogue: tuple[Product, ...] = CATALOGUE,
) -> dict[str, tuple[str, Decimal]]:
    """Map each SKU to the (name, unit price) the DealPOS simulator's variant list wants."""
    return {p.sku: (f"{p.product_name} - {p.sku_name}", p.price) for p in catalogue}
