"""Fulfillment: production and purchase orders raised for shortages (R4.2)."""
