"""The training recipes, kept in `zoo.catalog.recipes` (beside the backbone cards, so `zoo info` shows them
without importing torch); re-exported here, where the trainer and older imports look for them."""

from ..catalog.recipes import (
    DEPARTURES,
    RECIPE_OPTIONS,
    SPA_PAPER,
    TINY_MILESTONES,
    Recipe,
    paper_recipe,
    recipe,
    spa_recipe,
    tiny_recipe,
)

__all__ = [
    "DEPARTURES", "RECIPE_OPTIONS", "SPA_PAPER", "TINY_MILESTONES", "Recipe", "paper_recipe", "recipe", "spa_recipe", "tiny_recipe",
]
