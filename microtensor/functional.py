"""Composites: functions built from the primitives in ops/, with no VJP of their own
(autodiff derives their gradients)."""

from __future__ import annotations

import math

from . import ops
from .ops.reductions import _aliased
from .tensor import Tensor

__all__ = ["var", "std", "var_mean", "std_mean", "stack"]


def _spread_args(op: str, dim, keepdim: bool, correction, unbiased, aliases: dict):
    """dim, keepdim and correction as PyTorch reads them: axis= and keepdims= too, and
    the older unbiased= (True: correction 1, False: 0)."""
    if aliases:
        dim, keepdim = _aliased(op, aliases, dim, keepdim)
    return dim, keepdim, correction if unbiased is None else int(unbiased)


@ops.method
def var(
    x: Tensor,
    dim=None,
    *,
    correction: int = 1,
    keepdim: bool = False,
    unbiased: bool | None = None,
    **aliases,
) -> Tensor:
    """Variance over `dim`, divided by N - correction (Bessel's correction by default,
    as torch.var)."""
    dim, keepdim, correction = _spread_args("var", dim, keepdim, correction, unbiased, aliases)
    dims = ops._dims(dim, x.ndim, "var")
    n = x._data.size if dims is None else math.prod(x.shape[d] for d in dims)
    if n - correction <= 0:
        raise ValueError(
            f"var: {n} elements with correction={correction} leave no degrees of freedom"
        )
    centred = x - ops.mean(x, dims, keepdim=True)
    return ops.sum(centred * centred, dims, keepdim) / (n - correction)


@ops.method
def std(
    x: Tensor,
    dim=None,
    *,
    correction: int = 1,
    keepdim: bool = False,
    unbiased: bool | None = None,
    **aliases,
) -> Tensor:
    """Standard deviation: sqrt of var (same `correction`). Where the values are all equal
    its gradient is 0, as PyTorch's, not sqrt's 1/0 at var = 0 (times 0: NaN)."""
    dim, keepdim, correction = _spread_args("std", dim, keepdim, correction, unbiased, aliases)
    v = var(x, dim, correction=correction, keepdim=keepdim)
    spread = v._data != 0  # NaN included: it stays NaN
    return ops.where(spread, ops.sqrt(ops.where(spread, v, 1.0)), 0.0)


def var_mean(
    x: Tensor,
    dim=None,
    *,
    correction: int = 1,
    keepdim: bool = False,
    unbiased: bool | None = None,
    **aliases,
) -> tuple:
    """(var, mean) over `dim`, as torch.var_mean."""
    dim, keepdim, correction = _spread_args("var_mean", dim, keepdim, correction, unbiased, aliases)
    return var(x, dim, correction=correction, keepdim=keepdim), ops.mean(x, dim, keepdim)


def std_mean(
    x: Tensor,
    dim=None,
    *,
    correction: int = 1,
    keepdim: bool = False,
    unbiased: bool | None = None,
    **aliases,
) -> tuple:
    """(std, mean) over `dim`, as torch.std_mean."""
    dim, keepdim, correction = _spread_args("std_mean", dim, keepdim, correction, unbiased, aliases)
    return std(x, dim, correction=correction, keepdim=keepdim), ops.mean(x, dim, keepdim)


def stack(tensors, dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new dim (cat of unsqueezed tensors)."""
    tensors = [ops._t(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: expected a non-empty list of tensors")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ValueError(
                f"stack: tensor {i} has shape {t.shape}, but tensor 0 has "
                f"shape {tensors[0].shape}; all must match"
            )
    d = ops._dim(dim, tensors[0].ndim + 1, "stack")
    return ops.cat([ops.unsqueeze(t, d) for t in tensors], d)
