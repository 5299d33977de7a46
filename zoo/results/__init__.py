"""Results: the store of measured and reported rows (`store`), leaderboards and their statistics
(`boards`), renderers (`render`), the CoIC-gain plot (`plot`) and published files (`publish`).

Import the submodules; this package imports nothing itself (the CLI reads `store.DEFAULT_STORE`
without paying for pandas).
"""
