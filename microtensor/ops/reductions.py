"""Reductions over `dim` (an int, a tuple, or None for all) and the softmax family."""
from __future__ import annotations

import math
from collections import namedtuple

from ..autograd import apply
from ..backend import quiet, xp
from ..tensor import Tensor
from .base import Op, _dim, _dims, _nondiff, method
from .shape import reshape

__all__ = ["sum", "mean", "max", "min", "amax", "amin", "argmax", "argmin", "all", "any",
           "logsumexp", "softmax", "log_softmax"]


def _unreduce(B, g, shape, dim, keepdim):
    """Put back the reduced axes of `g` as size-1 dims, ready to broadcast to `shape`."""
    if keepdim or dim is None:  # a 0-d or all-ones-shaped g broadcasts as it is
        return g
    dims = range(len(shape)) if dim is None else dim
    kept = list(shape)
    for d in dims:
        kept[d] = 1
    return B.reshape(g, shape=tuple(kept))


class Sum(Op):
    b_name = "sum"
    def forward(a, dim, keepdim): return a.sum(axis=dim, keepdims=keepdim)

    def vjp(B, g, out, args, needs, dim, keepdim):
        shape = args[0].shape
        return (B.broadcast_to(_unreduce(B, g, shape, dim, keepdim), shape),)


@method
def sum(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    return apply(Sum, x, dim=_dims(dim, x.ndim, "sum"), keepdim=keepdim)


class Mean(Op):
    def forward(a, dim, keepdim):
        # sum / n: the same pairwise summation as ndarray.mean without its Python wrapper
        n = a.size if dim is None else math.prod(a.shape[d] for d in dim)
        total = a.sum(axis=dim, keepdims=keepdim)
        return xp.true_divide(total, n) if n else total + xp.nan  # of nothing: NaN, as PyTorch

    def vjp(B, g, out, args, needs, dim, keepdim):
        shape = args[0].shape
        n = math.prod(shape) if dim is None else math.prod(shape[d] for d in dim)
        if not n:  # an empty input has an empty gradient (and g / 0 would warn)
            return (B.zeros(shape, args[0].dtype),)
        return (B.broadcast_to(_unreduce(B, g, shape, dim, keepdim) / n, shape),)


@method
def mean(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    if x.dtype.kind != "f":
        raise TypeError(f"mean: needs a floating tensor, got dtype {x.dtype}")
    return apply(Mean, x, dim=_dims(dim, x.ndim, "mean"), keepdim=keepdim)


def _check_reducible(x: Tensor, dims, op: str) -> None:
    """A max or min needs an element to pick: none over a dim of size 0, or over all dims
    of an empty tensor (PyTorch raises there too). Over non-empty dims of an empty tensor
    the result is empty, as in PyTorch."""
    shape = x.shape
    if dims is None or not shape:
        if x.data.size == 0:
            raise ValueError(f"{op}: cannot reduce an empty tensor of shape {shape}; name "
                             f"the dims to reduce over, none of size 0")
        return
    for d in dims:
        if shape[d] == 0:
            raise ValueError(f"{op}: cannot reduce an empty tensor of shape {shape} over "
                             f"dim {d}, which has size 0")


class _Extremum(Op):
    """amax/amin: the gradient is shared evenly among tied extreme elements. A NaN
    extreme equals nothing: NaN gradients over its slice (0 / 0), as in PyTorch."""

    saves = (0,)
    save_output = True

    @quiet
    def vjp(B, g, out, args, needs, dim, keepdim):
        a = args[0]
        out_k = _unreduce(B, out, a.shape, dim, keepdim)
        hit = a == out_k
        count = B.cast(B.sum(hit, dim=dim, keepdim=True), g.dtype)
        return (_unreduce(B, g, a.shape, dim, keepdim) * hit / count,)


class Amax(_Extremum):
    def forward(a, dim, keepdim): return a.max(axis=dim, keepdims=keepdim)


@method
def amax(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    dims = _dims(dim, x.ndim, "amax")
    _check_reducible(x, dims, "amax")
    return apply(Amax, x, dim=dims, keepdim=keepdim)


class Amin(_Extremum):
    def forward(a, dim, keepdim): return a.min(axis=dim, keepdims=keepdim)


@method
def amin(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    dims = _dims(dim, x.ndim, "amin")
    _check_reducible(x, dims, "amin")
    return apply(Amin, x, dim=dims, keepdim=keepdim)


MaxResult = namedtuple("MaxResult", ["values", "indices"])


@method
def max(x: Tensor, dim: int | None = None, keepdim: bool = False):  # noqa: A001
    """The largest element, or with `dim` a (values, indices) pair as in PyTorch.
    Tied maxima share the gradient evenly."""
    if dim is None:
        return amax(x)
    return MaxResult(amax(x, dim, keepdim), argmax(x, dim, keepdim))


@method
def min(x: Tensor, dim: int | None = None, keepdim: bool = False):  # noqa: A001
    """The smallest element, or with `dim` a (values, indices) pair as in PyTorch."""
    if dim is None:
        return amin(x)
    return MaxResult(amin(x, dim, keepdim), argmin(x, dim, keepdim))


ArgMax = _nondiff("argmax", lambda a, dim, keepdim: xp.argmax(a, axis=dim, keepdims=keepdim))


@method
def argmax(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    d = None if dim is None else _dim(dim, x.ndim, "argmax")
    _check_reducible(x, None if d is None else (d,), "argmax")
    return apply(ArgMax, x, dim=d, keepdim=keepdim and d is not None)


ArgMin = _nondiff("argmin", lambda a, dim, keepdim: xp.argmin(a, axis=dim, keepdims=keepdim))


@method
def argmin(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    d = None if dim is None else _dim(dim, x.ndim, "argmin")
    _check_reducible(x, None if d is None else (d,), "argmin")
    return apply(ArgMin, x, dim=d, keepdim=keepdim and d is not None)


All = _nondiff("all", lambda a, dim, keepdim: xp.all(a, axis=dim, keepdims=keepdim))


@method
def all(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    return apply(All, x, dim=_dims(dim, x.ndim, "all"), keepdim=keepdim)


Any = _nondiff("any", lambda a, dim, keepdim: xp.any(a, axis=dim, keepdims=keepdim))


@method
def any(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    return apply(Any, x, dim=_dims(dim, x.ndim, "any"), keepdim=keepdim)


class LogSumExp(Op):
    """log(sum(exp(a))) over `dim`; -inf over an empty dim (the log of an empty sum),
    as in PyTorch."""

    saves = (0,)

    @quiet
    def forward(a, dim, keepdim):
        m = a.max(axis=dim, keepdims=True, initial=-math.inf)
        m = xp.where(xp.isfinite(m), m, 0)
        out = xp.log(xp.exp(a - m).sum(axis=dim, keepdims=True)) + m
        return out if keepdim else out.reshape([n for i, n in enumerate(a.shape) if i not in dim])

    @quiet
    def vjp(B, g, out, args, needs, dim, keepdim):
        # softmax(a), shifted by a constant max rather than by `out`: at |a| ~ 1e4 in
        # float32, out = m + log(s) has lost the digits that exp(a - out) would need.
        a = args[0]
        m = B.value(a).max(axis=dim, keepdims=True, initial=-math.inf)
        e = B.exp(a - xp.where(xp.isfinite(m), m, 0))
        return (_unreduce(B, g, a.shape, dim, keepdim) * e / B.sum(e, dim=dim, keepdim=True),)


@method
def logsumexp(x: Tensor, dim, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) over `dim`, without overflow for any input size."""
    dims = _dims(dim, x.ndim, "logsumexp")
    return apply(LogSumExp, x, dim=tuple(range(x.ndim)) if dims is None else dims,
                 keepdim=keepdim)


class Softmax(Op):
    """exp(a) / sum(exp(a)) along `dim`, shifted by the max; an empty dim gives an empty
    result and +inf gives NaN, silently, as in PyTorch."""

    save_output = True

    @quiet
    def forward(a, dim):
        e = xp.exp(a - a.max(axis=dim, keepdims=True, initial=-math.inf))
        e /= e.sum(axis=dim, keepdims=True)
        return e

    def vjp(B, g, out, args, needs, dim):
        return (out * (g - B.sum(g * out, dim=(dim,), keepdim=True)),)


@method
def softmax(x: Tensor, dim: int) -> Tensor:
    """exp(x) / sum(exp(x)) along `dim`, shifted by the max so it never overflows."""
    d = _dim(dim, x.ndim, "softmax")
    if x.ndim == 0:  # as PyTorch: a 0-d tensor is a softmax over one element
        return reshape(apply(Softmax, reshape(x, 1), dim=0))
    return apply(Softmax, x, dim=d)


class LogSoftmax(Op):
    name = "log_softmax"
    save_output = True

    @quiet
    def forward(a, dim):
        shifted = a - a.max(axis=dim, keepdims=True, initial=-math.inf)
        shifted -= xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))
        return shifted

    def vjp(B, g, out, args, needs, dim):
        return (g - B.exp(out) * B.sum(g, dim=(dim,), keepdim=True),)


@method
def log_softmax(x: Tensor, dim: int) -> Tensor:
    """x - logsumexp(x) along `dim`: stable, and exact where softmax underflows."""
    d = _dim(dim, x.ndim, "log_softmax")
    if x.ndim == 0:
        return reshape(apply(LogSoftmax, reshape(x, 1), dim=0))
    return apply(LogSoftmax, x, dim=d)
