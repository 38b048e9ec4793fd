"""Shape ops: reshape and its relatives, permute, broadcasting, cat, split, pad. Those
whose output can share the input's memory record it as a view (autograd.views)."""

from __future__ import annotations

import builtins
import math

from .. import backend
from ..autograd import apply, apply_view, link_view
from ..backend import xp
from ..tensor import Tensor
from .base import Op, _dim, _dims, _t, method
from .indexing import GetItem

__all__ = [
    "reshape",
    "flatten",
    "squeeze",
    "unsqueeze",
    "permute",
    "transpose",
    "broadcast_to",
    "expand",
    "sum_to",
    "cat",
    "split",
    "chunk",
    "pad",
]


def _shape_arg(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


class Reshape(Op):
    b_name = "reshape"

    def forward(a, shape):
        return a.reshape(shape)

    def vjp(B, g, out, args, needs, shape):
        return (B.reshape(g, shape=args[0].shape),)


@method("reshape", "view")
def reshape(x: Tensor, *shape) -> Tensor:
    shape = _shape_arg(shape)
    known = math.prod(s for s in shape if s != -1)
    if (
        shape.count(-1) > 1
        or (-1 in shape and (known == 0 or x._data.size % known))
        or (-1 not in shape and known != x._data.size)
    ):
        raise ValueError(
            f"reshape: cannot reshape a tensor of shape {x.shape} "
            f"({x._data.size} elements) into shape {shape}"
        )
    return apply_view(Reshape, x, shape=shape)


@method
def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    if x.ndim == 0:
        return reshape(x, 1)
    s, e = _dim(start_dim, x.ndim, "flatten"), _dim(end_dim, x.ndim, "flatten")
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = x.shape[:s] + (math.prod(x.shape[s : e + 1]),) + x.shape[e + 1 :]
    return apply_view(Reshape, x, shape=shape)


@method
def squeeze(x: Tensor, dim=None) -> Tensor:
    """Drop size-1 dims (all of them, or those in `dim` that have size 1, as in PyTorch)."""
    dims = range(x.ndim) if dim is None else (_dims(dim, x.ndim, "squeeze") or ())
    drop = {d for d in dims if x.shape[d] == 1}
    return apply_view(Reshape, x, shape=tuple(n for i, n in enumerate(x.shape) if i not in drop))


@method
def unsqueeze(x: Tensor, dim: int) -> Tensor:
    d = _dim(dim, x.ndim + 1, "unsqueeze")
    return apply_view(Reshape, x, shape=x.shape[:d] + (1,) + x.shape[d:])


class Permute(Op):
    b_name = "permute"

    def forward(a, dims):
        return a.transpose(dims)

    def vjp(B, g, out, args, needs, dims):
        return (B.permute(g, dims=tuple(int(d) for d in xp.argsort(dims))),)


@method
def permute(x: Tensor, *dims) -> Tensor:
    dims = _shape_arg(dims)
    norm = tuple(_dim(d, x.ndim, "permute") for d in dims)
    if sorted(norm) != list(range(x.ndim)):
        raise ValueError(
            f"permute: dims {dims} are not a permutation of the {x.ndim} "
            f"dimensions of a tensor of shape {x.shape}"
        )
    return apply_view(Permute, x, dims=norm)


@method
def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    dims = list(range(x.ndim))
    a, b = _dim(dim0, x.ndim, "transpose"), _dim(dim1, x.ndim, "transpose")
    if dims:  # a 0-d tensor's only "dim" is itself: nothing to swap
        dims[a], dims[b] = dims[b], dims[a]
    return apply_view(Permute, x, dims=tuple(dims))


class BroadcastTo(Op):
    name = "broadcast_to"

    def forward(a, shape):
        return xp.broadcast_to(a, shape)

    def vjp(B, g, out, args, needs, shape):
        return (B.sum_to(g, args[0].shape),)


@method
def broadcast_to(x: Tensor, shape) -> Tensor:
    shape = tuple(shape)
    try:
        xp.broadcast_shapes(x.shape, shape)
        ok = len(shape) >= x.ndim and builtins.all(
            n == m or n == 1 for n, m in zip(x.shape[::-1], shape[::-1])
        )
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"broadcast_to: a tensor of shape {x.shape} cannot be broadcast to shape {shape}"
        )
    return apply_view(BroadcastTo, x, shape=shape)


@method
def expand(x: Tensor, *sizes) -> Tensor:
    """broadcast_to, where -1 keeps a dim's size (torch.Tensor.expand)."""
    sizes = _shape_arg(sizes)
    lead = len(sizes) - x.ndim
    shape = tuple(x.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes))
    return broadcast_to(x, shape)


class SumTo(Op):
    name = "sum_to"

    def forward(a, shape):
        return backend.sum_to(a, shape)

    def vjp(B, g, out, args, needs, shape):
        return (B.broadcast_to(g, args[0].shape),)


def sum_to(x: Tensor, shape) -> Tensor:
    """Sum `x` down to `shape`: the transpose of broadcast_to."""
    return apply(SumTo, x, shape=tuple(shape))


class Cat(Op):
    def forward(*arrays, dim):
        return xp.concatenate(arrays, axis=dim)

    def vjp(B, g, out, args, needs, dim):
        sizes = tuple(a.shape[dim] for a in args)
        return B.split(g, sizes=sizes, dim=dim)


def cat(tensors, dim: int = 0) -> Tensor:
    tensors = [_t(t) for t in tensors]
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    ref = tensors[0]
    d = _dim(dim, ref.ndim, "cat")
    for i, t in enumerate(tensors):
        if (
            t.ndim != ref.ndim
            or t.shape[:d] + t.shape[d + 1 :] != ref.shape[:d] + ref.shape[d + 1 :]
        ):
            raise ValueError(
                f"cat: tensor {i} has shape {t.shape}, which does not match "
                f"tensor 0's shape {ref.shape} outside dim {d}"
            )
    return apply(Cat, *tensors, dim=d)


class Split(Op):
    """One input, one output per section; the VJP concatenates (zeros for unused parts)."""

    b_name = "split"

    multi = True  # one output per section

    def forward(a, sizes, dim):
        return xp.split(a, xp.cumsum(sizes)[:-1], axis=dim)

    def vjp(B, g, out, args, needs, sizes, dim):
        a = args[0]
        parts = []
        for gi, n in zip(g, sizes):
            if gi is None:
                shape = list(a.shape)
                shape[dim] = n
                gi = B.zeros(tuple(shape), a.dtype)
            parts.append(gi)
        return (B.cat(parts, dim),)


@method
def split(x: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Pieces of `x` along `dim`: of size `split_size_or_sections` each (the last may be
    smaller) or of the listed sizes, as torch.split."""
    d = _dim(dim, x.ndim, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0:
            raise ValueError(f"split: split_size must be positive, got {step}")
        sizes = tuple(builtins.min(step, n - i) for i in range(0, n, step)) or (0,)
    else:
        sizes = tuple(int(s) for s in split_size_or_sections)
        if builtins.sum(sizes) != n:
            raise ValueError(
                f"split: sections {sizes} sum to {builtins.sum(sizes)}, but dim "
                f"{d} of shape {x.shape} has size {n}"
            )
    pieces = apply(Split, x, sizes=sizes, dim=d)
    start = 0
    for piece, n in zip(pieces, sizes):  # each piece a view: the slice it is of x
        index = (slice(None),) * d + (slice(start, start + n),)
        link_view(x, piece, ((GetItem, {"index": index}),))
        start += n
    return pieces


@method
def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple:
    """`chunks` pieces of (nearly) equal size along `dim`, as torch.chunk."""
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    n = x.shape[_dim(dim, x.ndim, "chunk")]
    return split(x, builtins.max(1, -(-n // chunks)), dim)


class Pad(Op):
    """Constant padding; `widths` is numpy's ((before, after), ...) for every dim."""

    def forward(a, widths, value):
        return xp.pad(a, widths, constant_values=value)

    def vjp(B, g, out, args, needs, widths, value):
        return (
            B.getitem(g, index=tuple(slice(lo, n - hi) for (lo, hi), n in zip(widths, g.shape))),
        )


def pad(x: Tensor, pad: tuple, value: float = 0.0) -> Tensor:
    """Constant padding; `pad` lists (before, after) pairs from the last dim backwards,
    as torch.nn.functional.pad."""
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(
            f"pad: padding {tuple(pad)} must have an even length of at most "
            f"2 * {x.ndim} for a tensor of shape {x.shape}"
        )
    if builtins.any(p < 0 for p in pad):
        raise ValueError(f"pad: negative padding {tuple(pad)} is not supported")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    return apply(Pad, x, widths=tuple(widths), value=value)
