"""Evaluation: named metric protocols (`protocols`), PSNR/SSIM (`metrics`), NIQE and the other
no-reference metrics (`noref`), the one table of metric facts (`metric_table`), the result-row schema
(`records`), inference whole or tiled (`inference`), per-dataset scores (`evaluate`), MACs (`complexity`).

Import the submodules; this package imports nothing itself, so the row schema stays cheap to import.
"""
