"""The one random generator every random op draws from, so a seed fixes a run."""
from __future__ import annotations

from .backend import xp

__all__ = ["manual_seed", "default_generator"]

_gen = {"rng": xp.random.default_rng(0)}


def manual_seed(seed: int):
    """Reseed the generator that rand, randn, init and dropout draw from; returns it."""
    _gen["rng"] = xp.random.default_rng(seed)
    return _gen["rng"]


def default_generator():
    """The current numpy Generator (replaced by each manual_seed call)."""
    return _gen["rng"]
