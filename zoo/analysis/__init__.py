"""The CoIC paper's analyses as functions: embeddings, rain vs detail, modulation temperature, cost.

Each analysis takes a run (or model folder), returns pandas DataFrames and writes a PNG and CSVs;
none of them prints (the `zoo analyze` commands do); their long loops report to an optional
`progress` (`zoo._progress.ProgressLike`). Import the submodules directly: this package
imports nothing heavy (matplotlib, scikit-learn and umap-learn load inside the functions that use them).
"""
