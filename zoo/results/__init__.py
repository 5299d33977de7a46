"""Results: the store of measured and reported rows (`store`), leaderboards and their statistics
(`boards`, `stats`), renderers (`render`, `html`, `cells`), figures (`plot`, `budget`), generated
files (`generated`), the packaged published board (`packaged_board`), the field's reported numbers
(`field`) and their Hugging Face model-index export (`model_index`).

Import the submodules; this package imports nothing itself (the CLI reads `store.DEFAULT_STORE`
without paying for pandas).
"""
