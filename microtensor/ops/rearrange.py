"""Rearranging ops, as PyTorch has them: the views that move, cut or regroup dims
(narrow, movedim, swapaxes, unflatten, unbind, t, view_as, expand_as), recorded through
the same machinery as permute and reshape so that in-place changes through them reach
the base with correct gradients; and the copies that reorder or repeat elements (flip,
roll, repeat, tile, repeat_interleave) and stack tensors (hstack, vstack, ...)."""

from __future__ import annotations

import builtins
import math

from ..autograd import apply, apply_view, link_view
from ..backend import xp
from ..tensor import Tensor
from .base import Op, _dim, _dims, _t, method
from .indexing import GetItem
from .shape import Permute, Reshape, _shape_arg, broadcast_to, cat, reshape, transpose

__all__ = [
    "narrow",
    "movedim",
    "moveaxis",
    "swapaxes",
    "swapdims",
    "unflatten",
    "unbind",
    "t",
    "view_as",
    "reshape_as",
    "expand_as",
    "flip",
    "fliplr",
    "flipud",
    "roll",
    "repeat",
    "tile",
    "repeat_interleave",
    "hstack",
    "vstack",
    "dstack",
    "column_stack",
]


# ---------------------------------------------------------------------------- views
def _along(d: int, index) -> tuple:
    """The index that applies `index` to dim d and keeps the others whole."""
    return (slice(None),) * d + (index,)


@method
def narrow(x: Tensor, dim: int, start: int, length: int) -> Tensor:
    """x's elements start .. start + length - 1 along `dim`, as a view (a negative start
    counts from the end, as in PyTorch)."""
    if x.ndim == 0:
        raise ValueError("narrow: a 0-d tensor has no dim to narrow")
    d = _dim(dim, x.ndim, "narrow")
    n = x.shape[d]
    start, length = int(start), int(length)
    if not -n <= start <= n:
        raise IndexError(
            f"narrow: start {start} is out of range for dim {d} of size {n} (shape {x.shape})"
        )
    if start < 0:
        start += n
    if length < 0 or start + length > n:
        raise ValueError(
            f"narrow: start {start} + length {length} exceeds the size {n} of "
            f"dim {d} (shape {x.shape})"
        )
    return apply_view(GetItem, x, index=_along(d, slice(start, start + length)))


@method
def movedim(x: Tensor, source, destination) -> Tensor:
    """A view with the dims in `source` moved to the places in `destination` (ints or
    sequences of them) and the others in their order, as numpy's moveaxis."""
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(src) != len(dst):
        raise ValueError(f"movedim: source {src} and destination {dst} have different lengths")
    moved = [[_dim(d, x.ndim, "movedim") for d in dims] for dims in (src, dst)]
    for name, given, dims in zip(("source", "destination"), (src, dst), moved):
        if len(set(dims)) != len(dims):
            raise ValueError(f"movedim: {name} {given} names a dimension twice")
    if x.ndim == 0:
        return apply_view(Permute, x, dims=())
    order = [None] * x.ndim
    for s, d in zip(*moved):
        order[d] = s
    rest = iter(d for d in range(x.ndim) if d not in order)
    return apply_view(Permute, x, dims=tuple(next(rest) if d is None else d for d in order))


moveaxis = method("moveaxis")(movedim)
swapaxes = swapdims = method("swapaxes", "swapdims")(transpose)


@method
def unflatten(x: Tensor, dim: int, sizes) -> Tensor:
    """A view with dim `dim` split into dims of `sizes` (one of them may be -1)."""
    if x.ndim == 0:
        raise ValueError("unflatten: a 0-d tensor has no dim to unflatten")
    d = _dim(dim, x.ndim, "unflatten")
    sizes = tuple(int(s) for s in sizes)
    n = x.shape[d]
    known = math.prod(s for s in sizes if s != -1)
    if (
        not sizes
        or sizes.count(-1) > 1
        or (-1 in sizes and (known == 0 or n % known))
        or (-1 not in sizes and known != n)
    ):
        raise ValueError(
            f"unflatten: sizes {sizes} do not multiply up to the size {n} of "
            f"dim {d} (shape {x.shape})"
        )
    sizes = tuple(n // known if s == -1 else s for s in sizes)
    return apply_view(Reshape, x, shape=x.shape[:d] + sizes + x.shape[d + 1 :])


class Unbind(Op):
    """The slices of x along `dim`, each a view; the VJP stacks their gradients (zeros
    for slices not used)."""

    multi = True

    def forward(a, dim):
        return tuple(xp.moveaxis(a, dim, 0))

    def vjp(B, g, out, args, needs, dim):
        a = args[0]
        zeros = a.shape[:dim] + a.shape[dim + 1 :]
        return (
            B.cat(
                [B.unsqueeze(B.zeros(zeros, a.dtype) if gi is None else gi, dim) for gi in g], dim
            ),
        )


@method
def unbind(x: Tensor, dim: int = 0) -> tuple:
    """The slices of x along `dim` (each one dim less), as views of x."""
    if x.ndim == 0:
        raise ValueError("unbind: a 0-d tensor has no dim to unbind")
    d = _dim(dim, x.ndim, "unbind")
    pieces = apply(Unbind, x, dim=d)
    for i, piece in enumerate(pieces):
        link_view(x, piece, ((GetItem, {"index": _along(d, i)}),))
    return pieces


@method
def t(x: Tensor) -> Tensor:
    """The transpose of a matrix, as a view; a 0-d or 1-d tensor as it is (a view)."""
    if x.ndim > 2:
        raise ValueError(
            f"t: expects a tensor of at most 2 dimensions, got shape {x.shape}; "
            f"use transpose(dim0, dim1), permute or mT"
        )
    return apply_view(Permute, x, dims=tuple(range(x.ndim))[::-1])


@method
def view_as(x: Tensor, other: Tensor) -> Tensor:
    """x.view(other.shape)."""
    return reshape(x, other.shape)


@method
def reshape_as(x: Tensor, other: Tensor) -> Tensor:
    """x.reshape(other.shape)."""
    return reshape(x, other.shape)


@method
def expand_as(x: Tensor, other: Tensor) -> Tensor:
    """x.expand(other.shape): a broadcast view."""
    return broadcast_to(x, other.shape)


# --------------------------------------------------------------------------- copies
class Flip(Op):
    """x with the order of its elements along `dims` reversed (a copy, as in PyTorch)."""

    b_name = "flip"

    def forward(a, dims):
        return xp.flip(a, dims).copy()

    def vjp(B, g, out, args, needs, dims):
        return (B.flip(g, dims=dims),)


@method
def flip(x: Tensor, *dims) -> Tensor:
    """x reversed along each of `dims` (`x.flip(0, 1)` or `mt.flip(x, (0, 1))`)."""
    dims = _shape_arg(dims) if dims and not isinstance(dims[0], int) else dims
    return apply(Flip, x, dims=_dims(tuple(dims), x.ndim, "flip") or ())


@method
def fliplr(x: Tensor) -> Tensor:
    """x reversed along dim 1 (left to right); x needs 2 dims or more."""
    if x.ndim < 2:
        raise ValueError(f"fliplr: needs a tensor of at least 2 dimensions, got shape {x.shape}")
    return apply(Flip, x, dims=(1,))


@method
def flipud(x: Tensor) -> Tensor:
    """x reversed along dim 0 (up to down); x needs 1 dim or more."""
    if x.ndim < 1:
        raise ValueError("flipud: needs a tensor of at least 1 dimension, got a 0-d one")
    return apply(Flip, x, dims=(0,))


class Roll(Op):
    """x shifted circularly by `shifts` along `dims` (None: flattened, then restored)."""

    b_name = "roll"

    def forward(a, shifts, dims):
        return xp.roll(a, shifts[0] if dims is None else shifts, dims)

    def vjp(B, g, out, args, needs, shifts, dims):
        return (B.roll(g, shifts=tuple(-s for s in shifts), dims=dims),)


@method
def roll(x: Tensor, shifts, dims=None) -> Tensor:
    """Elements shifted by `shifts` along `dims` (ints or sequences of equal length),
    those that fall off the end coming back at the start; without dims, over the
    flattened tensor."""
    shifts = (int(shifts),) if xp.ndim(shifts) == 0 else tuple(int(s) for s in shifts)
    if dims is not None:
        dims = (dims,) if xp.ndim(dims) == 0 else tuple(dims)
        dims = tuple(_dim(int(d), x.ndim, "roll") for d in dims)
    if len(shifts) != (1 if dims is None else len(dims)):
        raise ValueError(
            f"roll: shifts {shifts} and dims {dims} must have the same length "
            f"(without dims, one shift)"
        )
    return apply(Roll, x, shifts=shifts, dims=dims if x.ndim else None)


class Repeat(Op):
    """x tiled `sizes[i]` times along dim i (leading sizes make new dims); the VJP sums
    the tiles."""

    def forward(a, sizes):
        return xp.tile(a, sizes)

    def vjp(B, g, out, args, needs, sizes):
        shape = args[0].shape
        full = (1,) * (len(sizes) - len(shape)) + shape
        tiles = B.reshape(g, shape=builtins.sum(zip(sizes, full), ()))
        summed = B.sum(tiles, dim=tuple(range(0, 2 * len(sizes), 2)), keepdim=False)
        return (B.reshape(summed, shape=shape),)


@method
def repeat(x: Tensor, *sizes) -> Tensor:
    """x repeated `sizes[i]` times along dim i, as torch.Tensor.repeat (numpy's tile):
    as many sizes as x has dims, or more for new leading dims."""
    sizes = _shape_arg(sizes)
    if len(sizes) < x.ndim or builtins.any(s < 0 for s in sizes):
        raise ValueError(
            f"repeat: sizes {sizes} must be non-negative and at least as many "
            f"as the {x.ndim} dims of shape {x.shape}"
        )
    return apply(Repeat, x, sizes=sizes)


@method
def tile(x: Tensor, *dims) -> Tensor:
    """repeat, where fewer sizes than dims repeat the last dims (leading sizes are 1)."""
    dims = _shape_arg(dims)
    return repeat(x, (1,) * (x.ndim - len(dims)) + dims)


@method
def repeat_interleave(
    x: Tensor, repeats=None, dim: int | None = None, *, output_size: int | None = None
) -> Tensor:
    """Each element repeated `repeats` times (an int, or one count per element along
    `dim`) next to itself; without dim, over the flattened tensor.
    `repeat_interleave(counts)` alone gives the indices 0, 1, ... each repeated its count."""
    if repeats is None:
        counts = _counts(x, None)
        return Tensor(xp.repeat(xp.arange(len(counts)), counts))
    if dim is None or x.ndim == 0:
        x = reshape(x, -1)
    d = _dim(0 if dim is None else dim, x.ndim, "repeat_interleave")
    index = xp.repeat(xp.arange(x.shape[d]), _counts(repeats, x.shape[d]))
    if output_size is not None and output_size != len(index):
        raise ValueError(
            f"repeat_interleave: output_size is {output_size}, but the repeats "
            f"give {len(index)} elements"
        )
    return apply(GetItem, x, index=_along(d, index))


def _counts(repeats, n: int | None):
    """repeat_interleave's repeats, checked: an int or a 0-d or 1-D integer tensor of 1
    or n counts (n None: the 1-D counts of repeat_interleave(counts))."""
    counts = repeats._data if isinstance(repeats, Tensor) else xp.asarray(repeats)
    if counts.dtype.kind not in "iu" or counts.ndim != 1 and (n is None or counts.ndim):
        raise TypeError(
            f"repeat_interleave: repeats must be an integer tensor of "
            f"{'1' if n is None else 'at most 1'} dimension, got shape "
            f"{counts.shape} and dtype {counts.dtype}"
        )
    if (counts < 0).any():
        raise ValueError(f"repeat_interleave: repeats must be non-negative, got {counts}")
    if n is not None and counts.ndim == 1 and len(counts) not in (1, n):
        raise ValueError(
            f"repeat_interleave: {len(counts)} repeats for the {n} elements along the dim"
        )
    return counts


# ------------------------------------------------------------------------- stacking
def _at_least(tensors, ndim: int, op: str) -> list:
    """The tensors with size-1 dims added up to `ndim` dims, as numpy's atleast_{1,2,3}d:
    () is (1,), (1, 1) or (1, 1, 1); (n,) is (1, n) or (1, n, 1); (m, n) is (m, n, 1)."""
    tensors = [_t(x) for x in tensors]
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty list of tensors")
    grown = []
    for x in tensors:
        shape = x.shape
        if len(shape) < ndim:
            shape = (
                (1,) * (ndim - len(shape)) + shape
                if ndim < 3 or not shape
                else (1,) + shape + (1,)
                if len(shape) == 1
                else shape + (1,)
            )
        grown.append(x if shape == x.shape else reshape(x, shape))
    return grown


def hstack(tensors) -> Tensor:
    """Tensors joined along dim 1, or dim 0 where they are 1-D (0-d ones become 1-D)."""
    tensors = _at_least(tensors, 1, "hstack")
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    """Tensors joined along dim 0, 1-D ones as rows (0-d ones as 1 x 1)."""
    return cat(_at_least(tensors, 2, "vstack"), 0)


def dstack(tensors) -> Tensor:
    """Tensors joined along dim 2, as numpy's dstack ((n,) is (1, n, 1), (m, n) is
    (m, n, 1))."""
    return cat(_at_least(tensors, 3, "dstack"), 2)


def column_stack(tensors) -> Tensor:
    """Tensors joined along dim 1, 1-D (and 0-d) ones as columns."""
    tensors = [_t(x) for x in tensors]
    return hstack([reshape(x, -1, 1) if x.ndim < 2 else x for x in tensors])
