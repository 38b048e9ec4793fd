"""Hypothesis strategies for generating valid inputs to tensor ops (needs hypothesis).

Shapes include 0-d and size-1 dims, so broadcasting is exercised; array values come
from named domains that keep finite differences meaningful: away from the kinks of
relu/abs, from the poles of log and 1/x, and from ties for max/min.

>>> from hypothesis import given
>>> from microtensor.testing import strategies as mst
>>> @given(mst.tensors(domain="positive"))
... def test_log_is_finite(x):
...     assert (x.log().data < float("inf")).all()
>>> test_log_is_finite()
"""
from __future__ import annotations

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st

from ..backend import xp
from ..tensor import Tensor

__all__ = ["shapes", "broadcastable_shapes", "arrays", "tensors", "DOMAINS"]

# name -> (low, high, exclude-around-zero margin); values are drawn in [low, high].
DOMAINS = {
    "real": (-3.0, 3.0, 0.0),
    "positive": (0.1, 3.0, 0.0),          # log, sqrt, x ** fractional
    "nonzero": (-3.0, 3.0, 0.1),          # 1/x; relu and abs away from their kink at 0
    "unit": (-0.9, 0.9, 0.0),             # log1p, inputs of bounded functions
    "large": (-1e4, 1e4, 0.0),            # stability of exp-based kernels
}


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4):
    """Array shapes, 0-d included by default: (), (3,), (2, 1, 4), ..."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcastable_shapes(num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3,
                         max_side: int = 4):
    """A tuple of `num_shapes` shapes that broadcast together (size-1 dims and 0-d
    shapes included), e.g. ((3, 1), (4,)) or ((), (2, 2))."""
    return hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, min_dims=min_dims,
                                             max_dims=max_dims, max_side=max_side
                                             ).map(lambda s: s.input_shapes)


@st.composite
def _distinct(draw, shape, low, high):
    """Values at least (high - low) / 1000 apart: no near-ties to confuse max/min."""
    n = int(xp.prod(shape)) if shape else 1
    grid = draw(st.lists(st.integers(0, 1000), min_size=n, max_size=n, unique=True))
    values = low + (high - low) * xp.asarray(grid, dtype=xp.float64) / 1000
    return values.reshape(shape)


def arrays(shape=None, domain: str = "real", dtype=xp.float64, distinct: bool = False):
    """numpy arrays of `shape` (or any shape from `shapes()`) with values in `domain`
    (see DOMAINS). distinct=True keeps every pair of values apart (for max/min, sort)."""
    if domain not in DOMAINS:
        raise ValueError(f"arrays: unknown domain {domain!r}; pick one of {sorted(DOMAINS)}")
    low, high, margin = DOMAINS[domain]
    shape_st = shapes() if shape is None else (
        shape if isinstance(shape, st.SearchStrategy) else st.just(tuple(shape)))
    if distinct:
        return shape_st.flatmap(lambda s: _distinct(s, low, high)).map(
            lambda a: a.astype(dtype))
    elements = st.floats(low, high, allow_nan=False, allow_infinity=False, width=64)
    if margin:
        elements = elements.filter(lambda v: abs(v) >= margin)
    return shape_st.flatmap(lambda s: hnp.arrays(xp.float64, s, elements=elements)).map(
        lambda a: a.astype(dtype))


def tensors(shape=None, domain: str = "real", dtype=xp.float64, requires_grad: bool = True,
            distinct: bool = False):
    """Tensors built on `arrays(...)`, requiring grad by default."""
    return arrays(shape, domain, dtype, distinct).map(
        lambda a: Tensor(a, requires_grad=requires_grad))
