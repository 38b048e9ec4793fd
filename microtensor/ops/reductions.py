"""Reductions over `dim` (an int, a tuple, or None for all) and the softmax family.

Every function with a `dim` also takes numpy's spellings `axis=` and `keepdims=`, as
PyTorch does: through `**aliases`, which costs a plain call nothing (`x.sum()` checks one
empty dict), where a wrapping decorator would add a frame to every call."""

from __future__ import annotations

import math
from collections import namedtuple

from ..autograd import apply
from ..backend import quiet, xp
from ..tensor import Tensor
from .base import Op, _dim, _dims, _nondiff, method
from .elementwise import Cast, maximum, minimum
from .shape import reshape

__all__ = [
    "sum",
    "mean",
    "max",
    "min",
    "amax",
    "amin",
    "argmax",
    "argmin",
    "all",
    "any",
    "logsumexp",
    "softmax",
    "log_softmax",
    "prod",
    "count_nonzero",
    "aminmax",
]


def _aliased(op: str, aliases: dict, dim, keepdim=None, default=None):
    """(dim, keepdim) with `axis=` and `keepdims=` read as PyTorch reads them; keepdim=None:
    the op has no keepdim; `default`: the op's default dim. Any other keyword is the
    TypeError Python would raise."""
    for name in aliases:
        if name != "axis" and (name != "keepdims" or keepdim is None):
            raise TypeError(f"{op}() got an unexpected keyword argument {name!r}")
    if "axis" in aliases:
        if dim != default:
            raise TypeError(
                f"{op}: got both dim={dim!r} and axis={aliases['axis']!r}; "
                f"axis is another name for dim, give one"
            )
        dim = aliases["axis"]
    if "keepdims" in aliases:
        if keepdim:
            raise TypeError(f"{op}: got both keepdim and keepdims; give one")
        keepdim = aliases["keepdims"]
    return dim, keepdim


def _cast(x: Tensor, dtype) -> Tensor:
    """x in `dtype` first, for the reductions that take PyTorch's `dtype=`."""
    return x if dtype is None else apply(Cast, x, dtype=xp.dtype(dtype))


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

    def forward(a, dim, keepdim):
        return a.sum(axis=dim, keepdims=keepdim)

    def vjp(B, g, out, args, needs, dim, keepdim):
        shape = args[0].shape
        return (B.broadcast_to(_unreduce(B, g, shape, dim, keepdim), shape),)


@method
def sum(
    x: Tensor,
    dim=None,
    keepdim: bool = False,
    *,
    dtype=None,  # noqa: A001
    **aliases,
) -> Tensor:
    """The sum over `dim`; integers and bools sum as int64, and `dtype` casts first."""
    if aliases:
        dim, keepdim = _aliased("sum", aliases, dim, keepdim)
    if dtype is not None:
        x = _cast(x, dtype)
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
def mean(x: Tensor, dim=None, keepdim: bool = False, *, dtype=None, **aliases) -> Tensor:
    """The mean over `dim`, of a floating tensor or of one cast to `dtype` first."""
    if aliases:
        dim, keepdim = _aliased("mean", aliases, dim, keepdim)
    if dtype is not None:
        x = _cast(x, dtype)
    if x.dtype.kind != "f":
        raise TypeError(f"mean: needs a floating tensor, got dtype {x.dtype}")
    return apply(Mean, x, dim=_dims(dim, x.ndim, "mean"), keepdim=keepdim)


def _check_reducible(x: Tensor, dims, op: str) -> None:
    """A max or min needs an element to pick: none over a dim of size 0, or over all dims
    of an empty tensor (PyTorch raises there too). Over non-empty dims of an empty tensor
    the result is empty, as in PyTorch."""
    shape = x.shape
    if dims is None or not shape:
        if x._data.size == 0:
            raise ValueError(
                f"{op}: cannot reduce an empty tensor of shape {shape}; name "
                f"the dims to reduce over, none of size 0"
            )
        return
    for d in dims:
        if shape[d] == 0:
            raise ValueError(
                f"{op}: cannot reduce an empty tensor of shape {shape} over "
                f"dim {d}, which has size 0"
            )


class _Extremum(Op):
    """amax/amin: the gradient is shared evenly among tied extreme elements. A NaN
    extreme equals nothing: NaN gradients over its slice (0 / 0), as in PyTorch. The
    forwards return arrays, never numpy scalars: the output saved is then the tensor's
    own array, which mt.compile needs to record it."""

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
    def forward(a, dim, keepdim):
        return xp.asarray(a.max(axis=dim, keepdims=keepdim))


@method
def amax(x: Tensor, dim=None, keepdim: bool = False, **aliases) -> Tensor:
    if aliases:
        dim, keepdim = _aliased("amax", aliases, dim, keepdim)
    dims = _dims(dim, x.ndim, "amax")
    _check_reducible(x, dims, "amax")
    return apply(Amax, x, dim=dims, keepdim=keepdim)


class Amin(_Extremum):
    def forward(a, dim, keepdim):
        return xp.asarray(a.min(axis=dim, keepdims=keepdim))


@method
def amin(x: Tensor, dim=None, keepdim: bool = False, **aliases) -> Tensor:
    if aliases:
        dim, keepdim = _aliased("amin", aliases, dim, keepdim)
    dims = _dims(dim, x.ndim, "amin")
    _check_reducible(x, dims, "amin")
    return apply(Amin, x, dim=dims, keepdim=keepdim)


MaxResult = namedtuple("MaxResult", ["values", "indices"])


def _extreme(name: str, x: Tensor, dim, keepdim: bool, aliases: dict, values, index, pair):
    """max/min: of all elements, elementwise with a tensor `dim` (torch.max(x, y)), or
    along `dim` as a (values, indices) pair."""
    if aliases:
        dim, keepdim = _aliased(name, aliases, dim, keepdim)
    if dim is None:
        return values(x)
    if isinstance(dim, Tensor):
        return pair(x, dim)
    return MaxResult(values(x, dim, keepdim), index(x, dim, keepdim))


@method
def max(x: Tensor, dim=None, keepdim: bool = False, **aliases):  # noqa: A001
    """The largest element, or with `dim` a (values, indices) pair as in PyTorch.
    Tied maxima share the gradient evenly."""
    return _extreme("max", x, dim, keepdim, aliases, amax, argmax, maximum)


@method
def min(x: Tensor, dim=None, keepdim: bool = False, **aliases):  # noqa: A001
    """The smallest element, or with `dim` a (values, indices) pair as in PyTorch."""
    return _extreme("min", x, dim, keepdim, aliases, amin, argmin, minimum)


def _no_grad_reduction(name: str, fn, one_dim: bool) -> tuple:
    """The op (no gradient) and the function of argmax/argmin (over one dim, or over all
    elements as a flat index) and all/any (over dims); keepdim keeps every reduced dim,
    all of them without a dim, as in PyTorch."""
    op = _nondiff(name, lambda a, dim, keepdim: fn(a, axis=dim, keepdims=keepdim))

    def reduce(x: Tensor, dim=None, keepdim: bool = False, **aliases) -> Tensor:
        if aliases:
            dim, keepdim = _aliased(name, aliases, dim, keepdim)
        if not one_dim:
            return apply(op, x, dim=_dims(dim, x.ndim, name), keepdim=keepdim)
        d = None if dim is None else _dim(dim, x.ndim, name)
        _check_reducible(x, None if d is None else (d,), name)
        return apply(op, x, dim=d, keepdim=keepdim)

    reduce.__name__ = reduce.__qualname__ = name
    return op, method(reduce)


ArgMax, argmax = _no_grad_reduction("argmax", xp.argmax, one_dim=True)
ArgMin, argmin = _no_grad_reduction("argmin", xp.argmin, one_dim=True)
All, all = _no_grad_reduction("all", xp.all, one_dim=False)  # noqa: A001
Any, any = _no_grad_reduction("any", xp.any, one_dim=False)  # noqa: A001


def _flip(B, a, dim: int):
    """`a` reversed along `dim`: a getitem, so its VJP is the same reversal."""
    return B.getitem(a, index=(slice(None),) * dim + (slice(None, None, -1),))


def _exclusive_cumprod(B, a, dim: int):
    """The product of the elements before each one along `dim` (1 for the first)."""
    ones = xp.ones(a.shape[:dim] + (1,) + a.shape[dim + 1 :], a.dtype)
    head = B.getitem(a, index=(slice(None),) * dim + (slice(0, a.shape[dim] - 1),))
    return B.cumprod(B.cat([ones, head], dim=dim), dim=dim)


class Prod(Op):
    """The product over one dim or of all elements. Its gradient, the product of the
    other elements, is out / x where x holds no zero; else, as in PyTorch, the products
    before and after each element (exclusive cumprods both ways), exact at zeros to
    every order. An array, as _Extremum's."""

    saves = (0,)
    save_output = True

    def forward(a, dim, keepdim):
        return xp.asarray(a.prod(axis=dim, keepdims=keepdim))

    def vjp(B, g, out, args, needs, dim, keepdim):
        a = args[0]
        dims = None if dim is None else (dim,)
        g = _unreduce(B, g, a.shape, dims, keepdim)
        if not (B.value(a) == 0).any():
            return (g * _unreduce(B, out, a.shape, dims, keepdim) / a,)
        flat, d = (a, dim) if dim is not None else (B.reshape(a, shape=(-1,)), 0)
        others = _exclusive_cumprod(B, flat, d) * _flip(
            B, _exclusive_cumprod(B, _flip(B, flat, d), d), d
        )
        return (g * B.reshape(others, shape=a.shape),)


@method
def prod(
    x: Tensor, dim: int | None = None, keepdim: bool = False, *, dtype=None, **aliases
) -> Tensor:
    """The product of all elements, or over one dim (an int, as in PyTorch); integers
    and bools multiply as int64."""
    if aliases:
        dim, keepdim = _aliased("prod", aliases, dim, keepdim)
    x = _cast(x, dtype)
    d = None if dim is None else _dim(dim, x.ndim, "prod")
    return apply(Prod, x, dim=None if x.ndim == 0 else d, keepdim=keepdim)


CountNonzero = _nondiff(
    "count_nonzero", lambda a, dim: xp.asarray(xp.count_nonzero(a, axis=dim), dtype=xp.int64)
)


@method
def count_nonzero(x: Tensor, dim=None, **aliases) -> Tensor:
    """How many elements are not zero, over `dim` (an int, a tuple, or None for all)."""
    if aliases:
        dim, _ = _aliased("count_nonzero", aliases, dim)
    return apply(CountNonzero, x, dim=_dims(dim, x.ndim, "count_nonzero"))


# named as torch.return_types.<op> (the repr, __name__), not as the variable: mypy asks that
AminmaxResult = namedtuple("aminmax", ["min", "max"])  # type: ignore[name-match]


@method
def aminmax(
    x: Tensor, *, dim: int | None = None, keepdim: bool = False, **aliases
) -> AminmaxResult:
    """(min, max) over one dim or all elements: amin and amax, ties sharing the gradient."""
    if aliases:
        dim, keepdim = _aliased("aminmax", aliases, dim, keepdim)
    if dim is not None:
        dim = _dim(dim, x.ndim, "aminmax")
    return AminmaxResult(amin(x, dim, keepdim), amax(x, dim, keepdim))


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
def logsumexp(x: Tensor, dim=None, keepdim: bool = False, **aliases) -> Tensor:
    """log(sum(exp(x))) over `dim` (None: all dims), without overflow for any input size."""
    if aliases:
        dim, keepdim = _aliased("logsumexp", aliases, dim, keepdim)
    dims = _dims(dim, x.ndim, "logsumexp")
    return apply(LogSumExp, x, dim=tuple(range(x.ndim)) if dims is None else dims, keepdim=keepdim)


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
def softmax(x: Tensor, dim: int | None = None, **aliases) -> Tensor:
    """exp(x) / sum(exp(x)) along `dim`, shifted by the max so it never overflows."""
    if aliases:
        dim, _ = _aliased("softmax", aliases, dim)
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
def log_softmax(x: Tensor, dim: int | None = None, **aliases) -> Tensor:
    """x - logsumexp(x) along `dim`: stable, and exact where softmax underflows."""
    if aliases:
        dim, _ = _aliased("log_softmax", aliases, dim)
    d = _dim(dim, x.ndim, "log_softmax")
    if x.ndim == 0:
        return reshape(apply(LogSoftmax, reshape(x, 1), dim=0))
    return apply(LogSoftmax, x, dim=d)
