"""Deraining datasets: on-disk layouts, strict image reading and validation (never imports model code)."""
