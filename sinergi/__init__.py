"""sinergi: durable case workflows that carry a victim of trafficking through assistance, across agencies."""

__version__ = "0.1.0"
