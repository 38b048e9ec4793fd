"""Indexing with PyTorch's rules: x[index], its scatter-add transpose, setitem, and the
CopySlices op that an in-place change through a view records on the base; nonzero, the
mask ops and take; and the checks of index arguments that the scatter family shares."""

from __future__ import annotations

import builtins
import math

from .. import backend
from ..autograd import apply, apply_inplace
from ..backend import TwoStepIndex, index_add, ndarray, xp
from ..tensor import Tensor
from .base import Op, _nondiff, method

__all__ = ["nonzero", "argwhere", "masked_fill", "masked_select", "take"]


class GetItem(Op):
    """x[index] with PyTorch's rules (see normalize_index); the VJP scatter-adds, so
    repeated indices accumulate."""

    b_name = "getitem"

    def forward(a, index):
        try:
            out = a[index] if type(index) is not TwoStepIndex else backend.getitem(a, index)
        except IndexError as e:
            raise IndexError(f"getitem: {e} (indexing a tensor of shape {a.shape})") from None
        if type(out) is not ndarray:  # numpy gives an element as a scalar, a copy; PyTorch
            out = a[(index if type(index) is tuple else (index,)) + (Ellipsis,)]  # a 0-d view
        return out

    def vjp(B, g, out, args, needs, index):
        a = args[0]
        return (B.index_add(g, shape=a.shape, index=index, dtype=a.dtype),)


class IndexAdd(Op):
    """zeros(shape) with `values` added at `index`: GetItem's transpose."""

    b_name = "index_add"

    name = "index_add"

    def forward(values, shape, index, dtype):
        return index_add(shape, index, values, dtype)

    def vjp(B, g, out, args, needs, shape, index, dtype):
        return (B.getitem(g, index=index),)


class SetItem(Op):
    """A copy of x with x[index] = value: the out-of-place form of `x[index] = value`."""

    def forward(a, value, index):
        out = a.copy()
        try:
            backend.setitem(out, index, value)
        except IndexError as e:
            raise IndexError(f"setitem: {e} (indexing a tensor of shape {a.shape})") from None
        return out

    def vjp(B, g, out, args, needs, index):
        a = args[0]
        keep = xp.ones(a.shape, dtype=bool)
        backend.setitem(keep, index, False)
        return (g * keep if needs[0] else None), (B.getitem(g, index=index) if needs[1] else None)


class CopySlices(Op):
    """`base` with the elements of one of its views replaced by `value`: what an in-place
    op on a view does to the base (PyTorch's CopySlices). The engine records it without
    running forward; `index` holds the view's flat positions in the base, so a chain of
    views of any kind is one gather in the VJP."""

    b_name = "copy_slices"

    name = "copy_slices"

    def forward(base, value, index):
        out = xp.array(base, order="C")
        out.reshape(-1)[index] = value
        return out

    def vjp(B, g, out, args, needs, index):
        return (
            B.copy_slices(g, 0, index=index) if needs[0] else None,
            B.take(g, index) if needs[1] else None,
        )


_BASIC = frozenset((int, slice, type(None), type(Ellipsis)))


def normalize_index(index):
    """`index` as numpy reads it to select what PyTorch selects.

    Ints, slices, None and Ellipsis alone mean the same to both and pass untouched (the
    hot path). Otherwise, as in PyTorch: tensors, lists and tuples inside the index are
    index arrays (`[]` an empty one), a 0-d integer tensor is an int, a uint8 array a
    mask, a bool a new dim indexed by [0] (True) or [] (False), and ints select before
    the arrays index (backend.TwoStepIndex), so x[0, :, [0, 1]] keeps the slice's dim
    first, where numpy would move the arrays' dim first."""
    kind = type(index)
    if kind is int or kind is slice:
        return index
    if kind is tuple:
        for part in index:
            if type(part) not in _BASIC:
                return _torch_index(index)
        return index
    return _torch_index(index)


def _torch_index(index):
    """normalize_index for an index with arrays, tensors, lists, bools or numpy scalars."""
    if (
        type(index) is list
        and len(index) < 32
        and builtins.any(
            isinstance(p, (list, tuple, slice, Tensor, ndarray)) or p is None or p is Ellipsis
            for p in index
        )
    ):
        raise IndexError(
            "getitem: a list holding lists, tensors, slices, None or ... is ambiguous: "
            "PyTorch 2.13 reads it as a tuple of indices (deprecated), numpy as one index "
            "array; write x[tuple(index)] or x[mt.tensor(index)]"
        )
    single = type(index) is not tuple
    parts = [_index_part(p) for p in ((index,) if single else index)]
    advanced = [i for i, p in enumerate(parts) if type(p) is bool or isinstance(p, ndarray)]
    if advanced:
        has_int = builtins.any(type(p) is int for p in parts)
        # numpy, unlike PyTorch, parts arrays that an Ellipsis of no dims lies between
        split = builtins.any(p is Ellipsis for p in parts[advanced[0] : advanced[-1]])
        if has_int or split:
            return TwoStepIndex(parts)
    return parts[0] if single else tuple(parts)


def _index_part(p):
    """One part of an index as an int, bool, slice, None, Ellipsis or index array."""
    if isinstance(p, Tensor):
        p = p._data
    elif isinstance(p, (list, tuple)):
        p = xp.asarray(p)
        if p.size == 0:
            p = p.astype(xp.intp)  # [] selects nothing, as in PyTorch
    if isinstance(p, (ndarray, xp.generic)):
        kind = p.dtype.kind
        if kind == "b":
            return bool(p) if p.ndim == 0 else p
        if kind not in "iu":
            raise IndexError(
                f"getitem: tensors used as indices must be integer or bool, got dtype {p.dtype}"
            )
        if p.ndim == 0:
            return int(p)
        return p.astype(bool) if p.dtype == xp.uint8 else p  # PyTorch: a uint8 mask
    return p


# ------------------------------------------------------- index arguments, and their errors
def index_array(index, op: str, name: str = "index") -> ndarray:
    """The integer array of an index argument (a tensor, array or list): a float or bool
    one is an error, as in PyTorch."""
    data = index._data if isinstance(index, Tensor) else xp.asarray(index)
    if data.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: {name} must be a tensor of integers (int64, as PyTorch's "
            f"indices), got dtype {data.dtype}"
        )
    return data


def check_bounds(
    index: ndarray, shape: tuple, dim: int | None, op: str, negative: bool = False
) -> None:
    """Every entry of `index` names an element along `dim` of `shape` (of the flattened
    tensor for dim None): an IndexError naming the op, the dim, the entry and the size if
    not. Negative entries count from the end only where the op allows it."""
    if not index.size:
        return
    size = math.prod(shape) if dim is None else shape[dim]
    lo, hi = int(index.min()), int(index.max())
    bad = hi if hi >= size else lo if lo < (-size if negative else 0) else None
    if bad is not None:
        where = "of the flattened tensor" if dim is None else f"along dim {dim}"
        allowed = f"{-size} to {size - 1}" if negative else f"0 to {size - 1}"
        raise IndexError(
            f"{op}: index {bad} is out of range {where}, of size {size}, in a "
            f"tensor of shape {shape} (expected {allowed})"
        )


def bool_mask(mask, op: str) -> ndarray:
    data = mask._data if isinstance(mask, Tensor) else xp.asarray(mask)
    if data.dtype != bool:
        raise TypeError(f"{op}: mask must be a bool tensor, got dtype {data.dtype}")
    return data


# -------------------------------------------------------------- nonzero, masks and take
Nonzero = _nondiff("nonzero", xp.argwhere)


@method
def nonzero(x: Tensor, *, as_tuple: bool = False):
    """The indices of x's nonzero elements, as torch.nonzero: an int64 tensor of shape
    (count, x.ndim), or with as_tuple one 1-D tensor per dim (a 0-d x as a 1-D one)."""
    if not as_tuple:
        return apply(Nonzero, x)
    found = apply(Nonzero, x if x.ndim else x.reshape(1))
    return tuple(found[:, d] for d in range(found.shape[1]))


@method
def argwhere(x: Tensor) -> Tensor:
    """torch.argwhere: nonzero(x), the (count, x.ndim) form."""
    return apply(Nonzero, x)


class MaskedFill(Op):
    """x with `value` where `mask` holds (the two broadcast), in x's dtype; a tensor
    value's gradient is the sum of g over the mask."""

    name = "masked_fill"

    def forward(a, value, mask):
        return xp.where(mask, value, a).astype(a.dtype, copy=False)

    def vjp(B, g, out, args, needs, mask):
        return (
            B.where(mask, 0, g) if needs[0] else None,
            B.where(mask, g, 0) if needs[1] else None,
        )


def _fill_args(x: Tensor, mask, value, op: str) -> tuple:
    mask = bool_mask(mask, op)
    if isinstance(value, Tensor):
        if value.ndim:
            raise ValueError(
                f"{op}: value must be a number or a 0-d tensor, got a tensor of shape {value.shape}"
            )
        value = value if value.dtype == x.dtype else value.to(x.dtype)
    try:
        xp.broadcast_shapes(x.shape, mask.shape)
    except ValueError:
        raise ValueError(
            f"{op}: mask of shape {mask.shape} does not broadcast with the tensor's shape {x.shape}"
        ) from None
    return mask, value


@method
def masked_fill(x: Tensor, mask, value) -> Tensor:
    """x with `value` where the bool `mask` holds; mask and x broadcast together."""
    mask, value = _fill_args(x, mask, value, "masked_fill")
    return apply(MaskedFill, x, value, mask=mask)


@method
def masked_fill_(x: Tensor, mask, value) -> Tensor:
    mask, value = _fill_args(x, mask, value, "masked_fill_")
    return apply_inplace(MaskedFill, x, value, mask=mask)


@method
def masked_select(x: Tensor, mask) -> Tensor:
    """The elements of x (broadcast with the bool mask) where the mask holds, as 1-D."""
    mask = bool_mask(mask, "masked_select")
    try:
        shape = xp.broadcast_shapes(x.shape, mask.shape)
    except ValueError:
        raise ValueError(
            f"masked_select: mask of shape {mask.shape} does not broadcast "
            f"with the tensor's shape {x.shape}"
        ) from None
    if x.shape != shape:
        x = x.broadcast_to(shape)
    return apply(GetItem, x, index=xp.broadcast_to(mask, shape))


@method
def take(x: Tensor, index) -> Tensor:
    """x's elements at `index` of the flattened x (negatives from the end), in index's
    shape, as torch.take."""
    idx = index_array(index, "take")
    check_bounds(idx, x.shape, None, "take", negative=True)
    return apply(GetItem, x.reshape(-1), index=idx)
