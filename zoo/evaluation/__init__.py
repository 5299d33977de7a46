"""Evaluation: named metric protocols and metric metadata (`metrics`), the result-row schema
(`records`), inference whole or tiled (`inference`), per-dataset scores (`evaluate`), MACs (`complexity`).

Import the submodules; this package imports nothing itself, so the row schema stays cheap to import.
"""
