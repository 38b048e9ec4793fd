"""Gather and scatter along a dim, and the index_* ops: each picks or writes the elements
of x that an index tensor names along `dim`.

They share their primitives. Every op here turns its index into a numpy index `coords`
with x[coords] of the source's (or the output's) shape: gather and take_along_dim are
GetItem at it (their VJP scatter-adds), scatter, index_copy and index_fill are SetItem at
it, and scatter_add, scatter_reduce and index_add are ScatterReduce at it. The in-place
forms (`scatter_`, ...) are the same op applied in place. As in PyTorch, an index along
`dim` runs from 0 to size - 1 (negatives are an error but in take_along_dim and
index_fill), and the source and x have one dtype.
"""

from __future__ import annotations

from ..autograd import apply, apply_inplace
from ..backend import ndarray, quiet, xp
from ..tensor import Tensor
from .base import Op, _dim, method
from .indexing import GetItem, SetItem, check_bounds, index_array

__all__ = [
    "gather",
    "scatter",
    "scatter_add",
    "scatter_reduce",
    "index_select",
    "index_add",
    "index_copy",
    "index_fill",
    "take_along_dim",
]

_UFUNCS = {
    "sum": xp.add,
    "mean": xp.add,
    "prod": xp.multiply,
    "amax": xp.maximum,
    "amin": xp.minimum,
}


def _sum_at(shape: tuple, coords, values, dtype=xp.intp) -> ndarray:
    """Zeros of `shape` with `values` added at coords: with values 1, how many source
    elements land on each element (constants of the VJPs, never differentiated)."""
    out = xp.zeros(shape, dtype)
    xp.add.at(out, coords, values)
    return out


def _identity(reduce: str, dtype):
    """The value a reduction starts from where x's own element is left out."""
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind == "f":
        low, high = -xp.inf, xp.inf
    elif dtype.kind == "b":
        low, high = False, True
    else:
        low, high = xp.iinfo(dtype).min, xp.iinfo(dtype).max
    return low if reduce == "amax" else high


class ScatterReduce(Op):
    """x with the source's elements combined into x[coords] (positions may repeat) by
    `reduce`: sum, prod, mean, amax or amin, x's own element included when include_self.
    Gradients as PyTorch's (FunctionsManual's scatter_reduce_backward): mean divides
    by the count; amax/amin share g evenly among the elements equal to the result,
    counting x's own element even when include_self=False (whose gradient is then 0,
    so a tie with it takes a share away: PyTorch's rule, kept); prod's gradient is the
    product of the others, exact where one source element is 0."""

    b_name = "scatter_reduce"

    name = "scatter_reduce"
    saves = (0, 1)
    save_output = True

    def forward(a, src, coords, reduce, include_self):
        out = a.copy()
        hits = _sum_at(a.shape, coords, 1) if reduce == "mean" or not include_self else None
        if not include_self:
            out[hits > 0] = _identity(reduce, a.dtype)
        _UFUNCS[reduce].at(out, coords, src)
        if reduce == "mean":
            count = xp.maximum(hits + include_self, 1)
            out = out // count if out.dtype.kind in "iu" else (out / count).astype(a.dtype)
        return out

    @quiet
    def vjp(B, g, out, args, needs, coords, reduce, include_self):
        a, src = args
        if reduce == "sum":
            ga, gs = g, B.getitem(g, index=coords)
        elif reduce == "mean":
            count = xp.maximum(_sum_at(a.shape, coords, 1) + include_self, 1).astype(g.dtype)
            ga = g / count
            gs = B.getitem(ga, index=coords)
        elif reduce == "prod":
            ga, gs = _prod_vjp(B, g, out, a, src, coords, include_self, needs)
        else:  # amax, amin
            result = B.value(out)
            own = B.value(a) == result
            picked = B.value(src) == result[coords]
            count = own + _sum_at(a.shape, coords, picked)
            share = g / count.astype(g.dtype)
            ga, gs = share * own, B.getitem(share, index=coords) * picked
        if not include_self and ga is not None:
            ga = ga * (_sum_at(a.shape, coords, 1) == 0)
        return (ga if needs[0] else None, gs if needs[1] else None)


def _prod_vjp(B, g, out, a, src, coords, include_self, needs) -> tuple:
    """prod's gradients: the product of the others, for x's element (the product of the
    sources, which never holds x's element) and for each source element (out / src, or
    for the one zero source element of a position, the product with it taken as 1)."""
    ones = xp.ones(a.shape, a.dtype)
    ga = (
        g * B.scatter_reduce(ones, src, coords=coords, reduce="prod", include_self=True)
        if needs[0]
        else None
    )
    if not needs[1]:
        return ga, None
    zero = B.value(src) == 0
    single = zero & (_sum_at(a.shape, coords, zero)[coords] == 1)
    gs = B.getitem(g * out, index=coords) / B.where(zero, 1, src)
    if single.any():
        others = B.scatter_reduce(
            a, B.where(single, 1, src), coords=coords, reduce="prod", include_self=include_self
        )
        gs = B.where(single, B.getitem(g * others, index=coords), gs)
    return ga, gs


# ---------------------------------------------------------------- gather and scatter
def _coords(index: ndarray, dim: int, sizes: tuple) -> tuple:
    """The numpy index that picks, for each entry of `index`, the element it names along
    `dim`, its other coordinates its own (aranges of `sizes`, which broadcast)."""
    n = index.ndim
    return tuple(
        index if d == dim else xp.arange(k).reshape((k,) + (1,) * (n - 1 - d))
        for d, k in enumerate(sizes)
    )


def _gather_coords(x: Tensor, dim: int, index, op: str, src=None) -> tuple:
    """(dim, coords) for gather and the scatter family, after PyTorch's checks: index
    has x's dims, no larger than x's (and the source's) outside `dim`, entries in range."""
    idx = index_array(index, op)
    d = _dim(dim, x.ndim, op)
    if idx.ndim != x.ndim:
        raise ValueError(
            f"{op}: index of shape {idx.shape} must have as many dims as the "
            f"tensor of shape {x.shape}"
        )
    for i, (k, n) in enumerate(zip(idx.shape, x.shape)):
        if i != d and k > n or src is not None and k > src.shape[i]:
            more = "" if src is None else f" and the source's {src.shape}"
            raise ValueError(
                f"{op}: index of shape {idx.shape} is larger than the tensor's "
                f"shape {x.shape}{more} along dim {i}"
            )
    check_bounds(idx, x.shape, d, op)
    return d, _coords(idx, d, idx.shape)


@method
def gather(x: Tensor, dim: int, index, *, sparse_grad: bool = False) -> Tensor:
    """`out[i][j] = x[i][index[i][j]]` for dim 1 (and so on), in index's shape."""
    if sparse_grad:
        raise NotImplementedError(
            "gather: sparse_grad=True is not supported (microtensor has no sparse tensors)"
        )
    idx = index_array(index, "gather")
    if 0 in (x.ndim, idx.ndim) and max(x.ndim, idx.ndim) <= 1:  # 0-d as 1-D, as PyTorch
        return gather(x.reshape(-1), dim, idx.reshape(-1)).reshape(idx.shape)
    return apply(GetItem, x, index=_gather_coords(x, dim, idx, "gather")[1])


def _same_dtype(x: Tensor, source: Tensor, op: str) -> None:
    if source.dtype != x.dtype:
        raise TypeError(
            f"{op}: the source has dtype {source.dtype} and the tensor "
            f"{x.dtype}; PyTorch requires one dtype (convert one with .to)"
        )


def _source(x: Tensor, src, idx_shape, op: str):
    """The source cut to the index's shape (a tensor), or a number as it is."""
    if not isinstance(src, Tensor):
        return src
    _same_dtype(x, src, op)
    if src.shape == idx_shape:
        return src
    return apply(GetItem, src, index=tuple(slice(0, k) for k in idx_shape))


def _scatter(run, op: str, x: Tensor, dim: int, index, src, value, reduce):
    if (src is None) == (value is None):
        raise TypeError(
            f"{op}: give the source as src (a tensor or a number) or value, not both or neither"
        )
    src = value if src is None else src
    if x.ndim == 0:
        raise ValueError(f"{op}: the tensor is 0-d; scatter into x.reshape(1)")
    src_t = src if isinstance(src, Tensor) else None
    if src_t is not None and src_t.ndim != x.ndim:
        raise ValueError(
            f"{op}: src of shape {src_t.shape} must have as many dims as the "
            f"tensor of shape {x.shape} (or be a number)"
        )
    _, coords = _gather_coords(x, dim, index, op, src_t)
    idx_shape = xp.broadcast_shapes(*(c.shape for c in coords))
    src = _source(x, src, idx_shape, op)
    if reduce is None:
        return run(SetItem, x, src, index=coords)
    if reduce not in ("add", "multiply"):
        raise ValueError(
            f"{op}: reduce must be 'add' or 'multiply', got {reduce!r} "
            f"(scatter_reduce has sum, prod, mean, amax and amin)"
        )
    if not isinstance(src, Tensor):
        src = xp.full(idx_shape, src, x.dtype)
    return run(
        ScatterReduce,
        x,
        src,
        coords=coords,
        reduce="sum" if reduce == "add" else "prod",
        include_self=True,
    )


@method
def scatter(x: Tensor, dim: int, index, src=None, *, value=None, reduce=None) -> Tensor:
    """A copy of x with src's elements written where index says along `dim`:
    `out[i][index[i][j]] = src[i][j]` for dim 1 (src may be a number, or value=). With
    reduce='add' or 'multiply' they are combined with x's instead (torch.scatter's
    deprecated form; PyTorch has no gradient there, this one has)."""
    return _scatter(apply, "scatter", x, dim, index, src, value, reduce)


@method
def scatter_(x: Tensor, dim: int, index, src=None, *, value=None, reduce=None) -> Tensor:
    return _scatter(apply_inplace, "scatter_", x, dim, index, src, value, reduce)


_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def _scatter_reduce(run, op: str, x: Tensor, dim: int, index, src, reduce: str, include_self: bool):
    if reduce not in _REDUCTIONS:
        raise ValueError(f"{op}: reduce must be one of {', '.join(_REDUCTIONS)}; got {reduce!r}")
    if not isinstance(src, Tensor) or src.ndim != x.ndim or x.ndim == 0:
        raise ValueError(
            f"{op}: src must be a tensor with the dims of the tensor of shape "
            f"{x.shape} (1-D at least), got {getattr(src, 'shape', src)!r}"
        )
    _, coords = _gather_coords(x, dim, index, op, src)
    src = _source(x, src, xp.broadcast_shapes(*(c.shape for c in coords)), op)
    return run(ScatterReduce, x, src, coords=coords, reduce=reduce, include_self=bool(include_self))


@method
def scatter_add(x: Tensor, dim: int, index, src: Tensor) -> Tensor:
    """x with src's elements added where index says along `dim` (repeats accumulate)."""
    return _scatter_reduce(apply, "scatter_add", x, dim, index, src, "sum", True)


@method
def scatter_add_(x: Tensor, dim: int, index, src: Tensor) -> Tensor:
    return _scatter_reduce(apply_inplace, "scatter_add_", x, dim, index, src, "sum", True)


@method
def scatter_reduce(
    x: Tensor, dim: int, index, src: Tensor, reduce: str, *, include_self: bool = True
) -> Tensor:
    """x with src's elements reduced into the positions index names along `dim` by sum,
    prod, mean, amax or amin, with x's own element or without (include_self=False)."""
    return _scatter_reduce(apply, "scatter_reduce", x, dim, index, src, reduce, include_self)


@method
def scatter_reduce_(
    x: Tensor, dim: int, index, src: Tensor, reduce: str, *, include_self: bool = True
) -> Tensor:
    return _scatter_reduce(
        apply_inplace, "scatter_reduce_", x, dim, index, src, reduce, include_self
    )


@method
def take_along_dim(x: Tensor, indices, dim: int | None = None) -> Tensor:
    """x's elements at `indices` along `dim`, x and indices broadcast outside it
    (negatives from the end); with dim None, of the flattened x, as torch.take_along_dim."""
    idx = index_array(indices, "take_along_dim", "indices")
    if dim is None:
        x, idx, d = x.reshape(-1), idx.reshape(-1), 0
    else:
        d = _dim(dim, x.ndim, "take_along_dim")
        if idx.ndim != x.ndim:
            raise ValueError(
                f"take_along_dim: indices of shape {idx.shape} must have as many "
                f"dims as the tensor of shape {x.shape}"
            )
        try:
            xp.broadcast_shapes(*(s[:d] + s[d + 1 :] for s in (x.shape, idx.shape)))
        except ValueError:
            raise ValueError(
                f"take_along_dim: indices of shape {idx.shape} and the tensor's "
                f"shape {x.shape} do not broadcast outside dim {d}"
            ) from None
    check_bounds(idx, x.shape, d, "take_along_dim", negative=True)
    return apply(GetItem, x, index=_coords(idx, d, x.shape))


# ------------------------------------------------------------------------ the index_* ops
def _along(x: Tensor, dim: int, index, op: str, negative: bool = False) -> tuple:
    """(dim, the numpy index x[:, ..., index]) for an index_* op: a 1-D index (a 0-d one
    is one entry), entries in range along `dim`."""
    idx = index_array(index, op)
    if idx.ndim > 1:
        raise ValueError(f"{op}: index must be 1-D, got shape {idx.shape}")
    d = _dim(dim, x.ndim, op)
    if x.ndim == 0:
        raise ValueError(f"{op}: the tensor is 0-d; index x.reshape(1)")
    check_bounds(idx, x.shape, d, op, negative)
    return d, (slice(None),) * d + (idx.reshape(-1),)


def _index_source(x: Tensor, d: int, coords: tuple, source, op: str) -> None:
    """The source must have x's shape but along `dim`, where it has one entry per index."""
    shape = x.shape[:d] + (len(coords[d]),) + x.shape[d + 1 :]
    if not isinstance(source, Tensor) or source.shape != shape:
        raise ValueError(
            f"{op}: the source must be a tensor of shape {shape} (the tensor's "
            f"{x.shape} with one entry per index along dim {d}), got "
            f"{getattr(source, 'shape', source)!r}"
        )
    _same_dtype(x, source, op)


@method
def index_select(x: Tensor, dim: int, index) -> Tensor:
    """The slices of x at `index` (1-D) along `dim`, in that order, repeats included."""
    return apply(GetItem, x, index=_along(x, dim, index, "index_select")[1])


def _index_add(run, op: str, x: Tensor, dim: int, index, source, alpha):
    d, coords = _along(x, dim, index, op)
    _index_source(x, d, coords, source, op)
    return run(
        ScatterReduce,
        x,
        source if alpha == 1 else source * alpha,
        coords=coords,
        reduce="sum",
        include_self=True,
    )


@method
def index_add(x: Tensor, dim: int, index, source: Tensor, *, alpha=1) -> Tensor:
    """x with alpha * source's slices added at `index` along `dim` (repeats accumulate)."""
    return _index_add(apply, "index_add", x, dim, index, source, alpha)


@method
def index_add_(x: Tensor, dim: int, index, source: Tensor, *, alpha=1) -> Tensor:
    return _index_add(apply_inplace, "index_add_", x, dim, index, source, alpha)


def _index_copy(run, op: str, x: Tensor, dim: int, index, source):
    d, coords = _along(x, dim, index, op)
    _index_source(x, d, coords, source, op)
    return run(SetItem, x, source, index=coords)


@method
def index_copy(x: Tensor, dim: int, index, source: Tensor) -> Tensor:
    """x with source's slices written at `index` along `dim`."""
    return _index_copy(apply, "index_copy", x, dim, index, source)


@method
def index_copy_(x: Tensor, dim: int, index, source: Tensor) -> Tensor:
    return _index_copy(apply_inplace, "index_copy_", x, dim, index, source)


def _index_fill(run, op: str, x: Tensor, dim: int, index, value):
    if isinstance(value, Tensor) and value.ndim:
        raise ValueError(
            f"{op}: value must be a number or a 0-d tensor, got a tensor of shape {value.shape}"
        )
    d, coords = _along(x, dim, index, op, negative=True)
    # each position once, so that a tensor value's gradient counts it once
    coords = coords[:d] + (xp.unique(coords[d] % x.shape[d]),)
    return run(SetItem, x, value, index=coords)


@method
def index_fill(x: Tensor, dim: int, index, value) -> Tensor:
    """x with `value` (a number or a 0-d tensor) at `index` along `dim`."""
    return _index_fill(apply, "index_fill", x, dim, index, value)


@method
def index_fill_(x: Tensor, dim: int, index, value) -> Tensor:
    return _index_fill(apply_inplace, "index_fill_", x, dim, index, value)
