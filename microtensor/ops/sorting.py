"""Sorting and selection along one dim: sort, argsort, topk, kthvalue, median, and unique
(no gradient). Each picks elements by indices (Pick), so a value's gradient goes back to
the element it came from (Unpick, Pick's transpose). Sorts are stable: ties keep their
order (descending too), and NaN sorts as the largest, as in PyTorch."""

from __future__ import annotations

from collections import namedtuple

from ..autograd import apply
from ..backend import xp
from ..tensor import Tensor
from .base import Op, _dim, _nondiff, method
from .reductions import _aliased, _Extremum, mean

__all__ = ["sort", "argsort", "topk", "kthvalue", "median", "unique"]

# named as torch.return_types.<op> (the repr, __name__), not as the variable: mypy asks that
SortResult = namedtuple("sort", ["values", "indices"])  # type: ignore[name-match]
TopkResult = namedtuple("topk", ["values", "indices"])  # type: ignore[name-match]
KthvalueResult = namedtuple("kthvalue", ["values", "indices"])  # type: ignore[name-match]
MedianResult = namedtuple("median", ["values", "indices"])  # type: ignore[name-match]


def _along(index, dim: int) -> tuple:
    """`index` (ints along `dim`) as a numpy index of the elements it names."""
    grid = list(xp.indices(index.shape, sparse=True))
    grid[dim] = index
    return tuple(grid)


class Pick(Op):
    """The elements of `a` at `index` along `dim` (take_along_axis): the values of sort,
    topk, kthvalue, median, cummax and cummin."""

    b_name = "pick"
    saves = (1,)

    def forward(a, index, dim):
        return xp.take_along_axis(a, index, axis=dim)

    def vjp(B, g, out, args, needs, dim):
        a, index = args
        return B.unpick(g, index=B.value(index), shape=a.shape, dim=dim), None


class Unpick(Op):
    """zeros(shape) with `values` added at `index` along `dim`, repeated indices adding up
    (cummax names one element many times): Pick's transpose."""

    b_name = "unpick"

    def forward(values, index, shape, dim):
        out = xp.zeros(shape, values.dtype)
        xp.add.at(out, _along(index, dim), values)
        return out

    def vjp(B, g, out, args, needs, index, shape, dim):
        return (B.pick(g, index, dim=dim),)


def _argsort(a, dim: int, descending: bool):
    """Stable: a descending sort is the ascending one of `a` reversed, read backwards."""
    if not descending:
        return xp.argsort(a, axis=dim, kind="stable")
    backwards = xp.flip(xp.argsort(xp.flip(a, dim), axis=dim, kind="stable"), dim)
    return a.shape[dim] - 1 - backwards


Argsort = _nondiff("argsort", _argsort)


def _lift(name: str, x: Tensor, dim, aliases: dict, default=None) -> tuple:
    """x, a 0-d tensor as one element, and the dim to work along (axis= read as dim)."""
    if aliases:
        dim, _ = _aliased(name, aliases, dim, default=default)
    d = _dim(dim, x.ndim, name)
    return (x, d) if x.ndim else (x.reshape(1), 0)


def _drop(t: Tensor, x: Tensor) -> Tensor:
    """`t` back to 0-d where `x` was 0-d (see _lift)."""
    return t if x.ndim else t.reshape(())


@method
def argsort(
    x: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False, **aliases
) -> Tensor:
    """The indices that sort `x` along `dim` (always stable)."""
    flat, d = _lift("argsort", x, dim, aliases, default=-1)
    return _drop(apply(Argsort, flat, dim=d, descending=descending), x)


@method
def sort(
    x: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False, **aliases
) -> SortResult:
    """(values, indices) of `x` sorted along `dim` (always stable)."""
    flat, d = _lift("sort", x, dim, aliases, default=-1)
    indices = apply(Argsort, flat, dim=d, descending=descending)
    return SortResult(_drop(apply(Pick, flat, indices, dim=d), x), _drop(indices, x))


def _narrow(indices: Tensor, dim: int, start: int, stop: int) -> Tensor:
    return indices[(slice(None),) * dim + (slice(start, stop),)]


@method
def topk(
    x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True, **aliases
) -> TopkResult:
    """(values, indices) of the k largest (smallest) elements along `dim`, in order
    (sorted=False allows any order: this one)."""
    flat, d = _lift("topk", x, dim, aliases, default=-1)
    n = flat.shape[d]
    if not 0 <= k <= n:
        raise ValueError(
            f"topk: k={k} is out of range for dim {dim} of size {n} (shape "
            f"{x.shape}); expected 0 to {n}"
        )
    indices = _narrow(apply(Argsort, flat, dim=d, descending=largest), d, 0, k)
    return TopkResult(_drop(apply(Pick, flat, indices, dim=d), x), _drop(indices, x))


def _selected(result, x: Tensor, flat: Tensor, d: int, indices: Tensor, keepdim: bool):
    """(values, indices) of the one element `indices` names along d (kept as size 1)."""
    values = apply(Pick, flat, indices, dim=d)
    if not keepdim:
        values, indices = values.squeeze(d), indices.squeeze(d)
    return result(_drop(values, x), _drop(indices, x))


@method
def kthvalue(x: Tensor, k: int, dim: int = -1, keepdim: bool = False, **aliases) -> KthvalueResult:
    """(values, indices) of the k-th smallest element along `dim` (k counts from 1)."""
    if aliases:
        dim, keepdim = _aliased("kthvalue", aliases, dim, keepdim, default=-1)
    flat, d = _lift("kthvalue", x, dim, {})
    n = flat.shape[d]
    if not 1 <= k <= n:
        raise ValueError(
            f"kthvalue: k={k} is out of range for dim {dim} of size {n} "
            f"(shape {x.shape}); expected 1 to {n}"
        )
    indices = _narrow(apply(Argsort, flat, dim=d, descending=False), d, k - 1, k)
    return _selected(KthvalueResult, x, flat, d, indices, keepdim)


def _median_index(a, dim: int):
    """The index of the lower median along `dim` (kept as size 1); of the first NaN
    where a slice holds one (the median is NaN then, as in PyTorch)."""
    order = xp.argsort(a, axis=dim, kind="stable")
    index = xp.take(order, [(a.shape[dim] - 1) // 2], axis=dim)
    nan = xp.isnan(a)
    if nan.any():
        index = xp.where(
            nan.any(axis=dim, keepdims=True), xp.argmax(nan, axis=dim, keepdims=True), index
        )
    return index


MedianIndex = _nondiff("median_index", _median_index)


class Median(_Extremum):
    """The lower median of all elements; as PyTorch's median without a dim, elements tied
    with it share its gradient evenly (along a dim, the one its index names gets it)."""

    def forward(a, dim, keepdim):
        flat = a.reshape(-1)
        return flat[_median_index(flat, 0)].reshape(())


@method
def median(x: Tensor, dim: int | None = None, keepdim: bool = False, **aliases):
    """The lower median of all elements (a 0-d tensor), or along `dim` a (values, indices)
    pair; a NaN is the median of its slice, as in PyTorch."""
    if aliases:
        dim, keepdim = _aliased("median", aliases, dim, keepdim)
    if dim is None:
        if not x._data.size:
            return mean(x)  # NaN, as PyTorch's median of nothing
        return apply(Median, x, dim=None, keepdim=False)
    flat, d = _lift("median", x, dim, {})
    if not flat.shape[d]:
        raise ValueError(f"median: dim {dim} of shape {x.shape} has size 0: no median")
    indices = apply(MedianIndex, flat, dim=d)
    return _selected(MedianResult, x, flat, d, indices, keepdim)


class Unique(Op):
    """np.unique with its inverse and counts (NaNs kept apart, as in PyTorch)."""

    multi = True
    differentiable = False

    def forward(a, dim):
        values, inverse, counts = xp.unique(
            a, return_inverse=True, return_counts=True, axis=dim, equal_nan=False
        )
        return values, inverse.astype(xp.int64), counts.astype(xp.int64)


@method
def unique(
    x: Tensor,
    sorted: bool = True,
    return_inverse: bool = False,
    return_counts: bool = False,
    dim: int | None = None,
    **aliases,
):
    """The distinct elements (slices along `dim`), sorted (sorted=False allows any order:
    this one, as PyTorch on CPU); with return_inverse, where each element went, with
    return_counts, how often each occurs. No gradient."""
    if aliases:
        dim, _ = _aliased("unique", aliases, dim)
    d = None if dim is None else _dim(dim, x.ndim, "unique")
    values, inverse, counts = apply(Unique, x, dim=d)
    extra = (inverse,) * return_inverse + (counts,) * return_counts
    return (values,) + extra if extra else values
