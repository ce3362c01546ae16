"""sync-job: mirror TikTok Shop orders into DealPOS invoices."""

__version__ = "0.1.0"
