"""Inventory: the product catalogue, stock per SKU and warehouse, reservations per order (R4.1)."""
