"""Helpers the test files share: one way to make a leaf, one to take a gradient."""

from __future__ import annotations

import numpy as np

import microtensor as mt


def leaf(values, dtype=mt.float64) -> mt.Tensor:
    """A leaf that requires grad, float64 unless told: `leaf([1.0, 2.0])`."""
    return mt.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


def grad_of(fn, *inputs) -> list:
    """d sum(fn(inputs)) / d inputs as arrays, by one backward pass."""
    return [g.numpy(force=True) for g in mt.autograd.grad(fn(*inputs).sum(), list(inputs))]
