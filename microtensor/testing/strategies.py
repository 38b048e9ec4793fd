"""Hypothesis strategies for generating valid inputs to tensor ops (needs hypothesis).

Shapes include 0-d and size-1 dims, so broadcasting is exercised; values come from
named domains that keep finite differences meaningful: away from the kinks of relu and
abs, from the poles of log and 1/x, from ties for max/min, on the probability simplex
for entropy-like ops, or symmetric positive definite for matrix ops.

Testing your own op over generated shapes takes one line:

>>> import microtensor as mt
>>> from microtensor.testing import strategies as mst
>>> test_tanh = mst.gradient_test(mt.tanh, mst.tensors(), order=2)
>>> test_tanh()  # pytest collects it by its name; here we call it
"""

from __future__ import annotations

import math
from collections.abc import Callable

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
from hypothesis import given

from ..backend import xp
from ..tensor import Tensor
from .gradcheck import check_grads

__all__ = [
    "shapes",
    "broadcastable_shapes",
    "arrays",
    "tensors",
    "simplex",
    "spd_matrices",
    "gradient_test",
    "DOMAINS",
]

# name -> (low, high, margin): values in [low, high] with |v| >= margin.
DOMAINS = {
    "real": (-3.0, 3.0, 0.0),
    "positive": (0.1, 3.0, 0.0),  # log, sqrt, x ** fractional
    "nonzero": (-3.0, 3.0, 0.1),  # 1/x, and relu/abs/leaky_relu away from the kink at 0
    "away_from_zero": (-3.0, 3.0, 0.1),  # the same, by the name of what it avoids
    "away_from_kinks": (-3.0, 3.0, 0.1),  # kinks of relu, abs, leaky_relu, elu are at 0
    "unit": (-0.9, 0.9, 0.0),  # log1p, and bounded functions
    "large": (-1e4, 1e4, 0.0),  # stability of exp-based kernels
}
SPECIAL = {
    "simplex": "rows on the probability simplex (last axis sums to 1)",
    "spd": "symmetric positive definite matrices (last two axes)",
}


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4):
    """Array shapes, 0-d included by default: (), (3,), (2, 1, 4), ..."""
    return hnp.array_shapes(
        min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    )


def broadcastable_shapes(
    num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3, max_side: int = 4
):
    """A tuple of `num_shapes` shapes that broadcast together (size-1 dims and 0-d
    shapes included), e.g. ((3, 1), (4,)) or ((), (2, 2))."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, max_side=max_side
    ).map(lambda s: s.input_shapes)


@st.composite
def _distinct(draw, shape, low, high):
    """Values at least (high - low) / 1000 apart: no near-ties to confuse max/min."""
    n = math.prod(shape)
    grid = draw(st.lists(st.integers(0, 1000), min_size=n, max_size=n, unique=True))
    values = low + (high - low) * xp.asarray(grid, dtype=xp.float64) / 1000
    return values.reshape(shape)


def _shape_strategy(shape, min_dims: int = 0):
    if shape is None:
        return shapes(min_dims=min_dims)
    return shape if isinstance(shape, st.SearchStrategy) else st.just(tuple(shape))


def _ranged(shape, low, high, margin):
    elements = st.floats(low, high, allow_nan=False, allow_infinity=False, width=64)
    if margin:
        elements = elements.filter(lambda v: abs(v) >= margin)
    return hnp.arrays(xp.float64, shape, elements=elements)


def simplex(shape=None):
    """Arrays whose last axis is a probability vector: positive entries summing to 1.

    >>> from microtensor.testing import strategies as mst
    >>> from hypothesis import given
    >>> @given(mst.simplex((2, 3)))
    ... def test_rows_sum_to_one(p):
    ...     assert abs(p.sum(-1) - 1).max() < 1e-12
    >>> test_rows_sum_to_one()
    """

    def normalise(a):
        return a / a.sum(axis=-1, keepdims=True)

    return (
        _shape_strategy(shape, min_dims=1)
        .flatmap(lambda s: _ranged(s, 0.05, 1.0, 0.0))
        .map(normalise)
    )


def spd_matrices(shape=None):
    """Symmetric positive definite matrices, (..., n, n): M Mᵀ + n I for a random M."""

    def square(s):
        s = tuple(s) if len(s) >= 2 else tuple(s) + (1,) * (2 - len(s))
        return s[:-1] + (s[-2],)

    def spd(m):
        n = m.shape[-1]
        return m @ xp.swapaxes(m, -1, -2) + n * xp.eye(n)

    return (
        _shape_strategy(shape, min_dims=2)
        .map(square)
        .flatmap(lambda s: _ranged(s, -1.0, 1.0, 0.0))
        .map(spd)
    )


def arrays(
    shape=None,
    domain: str = "real",
    dtype=xp.float64,
    distinct: bool = False,
    bounds: tuple | None = None,
):
    """numpy arrays of `shape` (a tuple or a strategy; any shape from `shapes()` if None)
    with values in a domain (see DOMAINS, plus "simplex" and "spd") or in `bounds`
    (low, high). distinct=True keeps every pair of values apart (for max/min)."""
    if domain in SPECIAL and bounds is None:
        strategy = simplex(shape) if domain == "simplex" else spd_matrices(shape)
        return strategy.map(lambda a: a.astype(dtype))
    if bounds is not None:
        low, high, margin = float(bounds[0]), float(bounds[1]), 0.0
    elif domain in DOMAINS:
        low, high, margin = DOMAINS[domain]
    else:
        raise ValueError(
            f"arrays: unknown domain {domain!r}; pick one of "
            f"{sorted(DOMAINS) + sorted(SPECIAL)}, or give bounds=(low, high)"
        )
    shape_st = _shape_strategy(shape)
    if distinct:
        values = shape_st.flatmap(lambda s: _distinct(s, low, high))
    else:
        values = shape_st.flatmap(lambda s: _ranged(s, low, high, margin))
    return values.map(lambda a: a.astype(dtype))


def tensors(
    shape=None,
    domain: str = "real",
    dtype=xp.float64,
    requires_grad: bool = True,
    distinct: bool = False,
    bounds: tuple | None = None,
):
    """Tensors built on `arrays(...)`, requiring grad by default.

    >>> from microtensor.testing import strategies as mst
    >>> from hypothesis import given
    >>> @given(mst.tensors(domain="positive"))
    ... def test_log_is_finite(x):
    ...     assert (x.log().data < float("inf")).all()
    >>> test_log_is_finite()
    """
    return arrays(shape, domain, dtype, distinct, bounds).map(
        lambda a: Tensor(a, requires_grad=requires_grad)
    )


def gradient_test(fn: Callable, *input_strategies, order: int = 1, **check_kwargs):
    """A hypothesis test that check_grads `fn` on inputs drawn from the strategies; assign
    it to a `test_` name in a test module and pytest runs it."""

    @given(st.tuples(*input_strategies))
    def test(inputs):
        check_grads(fn, *inputs, order=order, **check_kwargs)

    test.__name__ = f"test_gradient_of_{getattr(fn, '__name__', 'fn')}"
    return test
