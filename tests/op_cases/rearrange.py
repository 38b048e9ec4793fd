"""The op-case rows of the rearranging ops (microtensor/ops/rearrange.py): views that
move or regroup dims, copies that reorder or repeat elements, and stacking."""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np

import microtensor as mt
from microtensor import ops

from .columns import (
    MAX_SIDE,
    OpCase,
    Sample,
    a_dim,
    any_shape,
    draw_tensors,
    ex,
    np_dims,
    same_shape,
    signed,
)


# ------------------------------------------------------------- references in numpy
def narrow_ref(a, dim, start, length):
    start = start + a.shape[dim] if start < 0 else start
    return np.take(a, np.arange(start, start + length), axis=dim)


def flip_ref(a, dims):
    out = a.copy()
    for d in np_dims(dims, a.ndim) or ():
        out = np.flip(out, d)
    return out, out


def roll_ref(a, shifts, dims):
    if dims is None:
        return np.roll(a.reshape(-1), shifts[0]).reshape(a.shape)
    return np.roll(a, shifts, dims)


def unflatten_ref(a, dim, sizes):
    d = dim % a.ndim
    known = np.prod([s for s in sizes if s != -1], dtype=int)
    sizes = tuple(a.shape[d] // known if s == -1 else s for s in sizes)
    return a.reshape(a.shape[:d] + sizes + a.shape[d + 1 :])


def repeat_interleave_ref(a, repeats, dim):
    return np.repeat(
        a, repeats.numpy(force=True) if isinstance(repeats, mt.Tensor) else repeats, axis=dim
    )


# ------------------------------------------------------------------------ attributes
@st.composite
def narrow_span(draw, shapes):
    dim = draw(a_dim(len(shapes[0])))
    n = shapes[0][dim]
    start = draw(st.integers(0, n))
    length = draw(st.integers(0, n - start))
    return {
        "dim": dim,
        "start": start - n if start < n and draw(st.booleans()) else start,
        "length": length,
    }


@st.composite
def moved_dims(draw, shapes):
    """One dim as an int, or several as tuples: source and destination."""
    ndim = len(shapes[0])
    k = draw(st.integers(1, ndim))
    src = draw(st.permutations(range(ndim)))[:k]
    dst = draw(st.permutations(range(ndim)))[:k]
    src, dst = [signed(draw, d, ndim) for d in src], [signed(draw, d, ndim) for d in dst]
    if k == 1 and draw(st.booleans()):
        return {"source": src[0], "destination": dst[0]}
    return {"source": tuple(src), "destination": tuple(dst)}


@st.composite
def unflatten_sizes(draw, shapes):
    """A dim and sizes that multiply up to it, 1s included, one of them perhaps -1."""
    dim = draw(a_dim(len(shapes[0])))
    n = shapes[0][dim]
    sizes = [n] + [1] * draw(st.integers(0, 2))
    sizes = draw(st.permutations(sizes))
    if draw(st.booleans()):
        sizes[draw(st.integers(0, len(sizes) - 1))] = -1
    return {"dim": dim, "sizes": tuple(sizes)}


@st.composite
def flip_dims(draw, shapes):
    ndim = len(shapes[0])
    dims = draw(st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim)) if ndim else []
    return {"dims": tuple(signed(draw, d, ndim) for d in dims)}


@st.composite
def roll_shifts(draw, shapes):
    """Shifts (negative and larger than a dim included) along dims, or over all."""
    ndim = len(shapes[0])
    shift = st.integers(-4, 4)
    if ndim == 0 or draw(st.booleans()):
        return {"shifts": (draw(shift),), "dims": None}
    dims = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return {
        "shifts": tuple(draw(shift) for _ in dims),
        "dims": tuple(signed(draw, d, ndim) for d in dims),
    }


@st.composite
def repeat_sizes(draw, shapes, fewer: bool = False):
    """Repeats for every dim and up to two new leading ones (with `fewer`, tile's: any
    number of them)."""
    ndim = len(shapes[0])
    n = draw(st.integers(0 if fewer else ndim, ndim + 2))
    return {"sizes": tuple(draw(st.lists(st.integers(1, 2), min_size=n, max_size=n)))}


@st.composite
def interleave_repeats(draw, shapes):
    """An int, or counts (0 included) per element along a dim, as a Tensor; over the
    flattened tensor without a dim."""
    shape = shapes[0]
    dim = None if not shape or draw(st.booleans()) else draw(a_dim(len(shape)))
    if draw(st.booleans()):
        return {"repeats": draw(st.integers(0, 2)), "dim": dim}
    n = int(np.prod(shape)) if dim is None else shape[dim]
    counts = draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))
    return {"repeats": mt.tensor(counts), "dim": dim}


@st.composite
def same_sized_other(draw, shapes):
    """A tensor of as many elements in another shape (view_as's), and one that x
    broadcasts to (expand_as's)."""
    shape = shapes[0]
    sides = draw(st.permutations(list(shape) + [1] * draw(st.integers(0, 1))))
    lead = tuple(draw(st.lists(st.integers(1, MAX_SIDE), max_size=1)))
    wide = lead + tuple(draw(st.integers(1, MAX_SIDE)) if n == 1 else n for n in shape)
    return {"other": mt.zeros(*sides), "wider": mt.zeros(*wide)}


@st.composite
def stackable(draw, along) -> Sample:
    """2 or 3 tensors of one ndim that agree but along dim `along(ndim)` (None: all of
    one shape), the dim a stacking function joins them on."""
    base = list(draw(any_shape()))
    d = along(len(base))
    shapes = []
    for _ in range(draw(st.integers(2, 3))):
        if d is not None:
            base[d] = draw(st.integers(1, MAX_SIDE))
        shapes.append(tuple(base))
    return Sample(draw_tensors(draw, shapes))


def stacking_row(name, fn, along, example):
    return OpCase(
        name,
        None,
        lambda *parts: fn(list(parts)),
        lambda *arrays: getattr(np, name)(arrays),
        samples=stackable(along),
        examples=(ex(shapes=example),),
    )


ROWS = [
    # views
    OpCase(
        "narrow",
        None,
        lambda x, dim, start, length: x.narrow(dim, start, length),
        narrow_ref,
        shapes=same_shape(min_dims=1),
        attrs=narrow_span,
        examples=(ex(dim=1, start=-2, length=2),),
    ),
    OpCase(
        "movedim-moveaxis",
        None,
        lambda x, source, destination: (
            x.movedim(source, destination),
            mt.moveaxis(x, source, destination),
        ),
        lambda a, source, destination: (np.moveaxis(a, source, destination),) * 2,
        shapes=same_shape(min_dims=1),
        attrs=moved_dims,
        examples=(ex(shapes=((2, 3, 2),), source=(0, 1), destination=(2, 0)),),
    ),
    OpCase(
        "swapaxes-swapdims",
        None,
        lambda x, dim0, dim1: (x.swapaxes(dim0, dim1), mt.swapdims(x, dim0, dim1)),
        lambda a, dim0, dim1: (np.swapaxes(a, dim0, dim1),) * 2,
        shapes=same_shape(min_dims=1),
        attrs=lambda shapes: st.fixed_dictionaries(
            {"dim0": a_dim(len(shapes[0])), "dim1": a_dim(len(shapes[0]))}
        ),
        examples=(ex(dim0=0, dim1=-1),),
    ),
    OpCase(
        "unflatten",
        None,
        lambda x, dim, sizes: x.unflatten(dim, sizes),
        unflatten_ref,
        shapes=same_shape(min_dims=1),
        attrs=unflatten_sizes,
        examples=(ex(shapes=((2, 6),), dim=1, sizes=(3, -1)),),
    ),
    OpCase(
        "unbind",
        ops.Unbind,
        lambda x, dim: x.unbind(dim),
        lambda a, dim: tuple(np.moveaxis(a, dim, 0)),
        shapes=same_shape(min_dims=1),
        attrs=lambda shapes: st.fixed_dictionaries({"dim": a_dim(len(shapes[0]))}),
        examples=(ex(dim=-1),),
    ),
    OpCase(
        "unbind-one-piece-used",
        ops.Unbind,
        lambda x, dim, piece: mt.unbind(x, dim)[piece] * 2.0,
        lambda a, dim, piece: np.moveaxis(a, dim, 0)[piece] * 2.0,
        shapes=same_shape(min_dims=1),
        attrs=lambda shapes: st.fixed_dictionaries(
            {"dim": st.just(0), "piece": st.integers(0, shapes[0][0] - 1)}
        ),
        examples=(ex(dim=0, piece=1),),
    ),
    OpCase(
        "t",
        None,
        lambda x: (x.t(), mt.t(x)),
        lambda a: (a.T, a.T),
        shapes=any_shape(max_dims=2).map(lambda s: (s,)),
    ),
    OpCase(
        "view_as-reshape_as-expand_as",
        None,
        lambda x, other, wider: (x.view_as(other), x.reshape_as(other), x.expand_as(wider)),
        lambda a, other, wider: (a.reshape(other.shape),) * 2 + (np.broadcast_to(a, wider.shape),),
        attrs=same_sized_other,
        examples=(ex(shapes=((2, 1),), other=mt.zeros(1, 2), wider=mt.zeros(3, 2, 4)),),
    ),
    # copies
    OpCase(
        "flip",
        ops.Flip,
        lambda x, dims: (x.flip(*dims), mt.flip(x, dims)),
        flip_ref,
        attrs=flip_dims,
        examples=(ex(dims=(0, -1)),),
    ),
    OpCase(
        "fliplr-flipud",
        ops.Flip,
        lambda x: (x.fliplr(), mt.flipud(x)),
        lambda a: (a[:, ::-1], a[::-1]),
        shapes=same_shape(min_dims=2),
    ),
    OpCase(
        "roll",
        ops.Roll,
        lambda x, shifts, dims: x.roll(shifts, dims),
        roll_ref,
        attrs=roll_shifts,
        examples=(ex(shifts=(1, -4), dims=(1, 0)), ex("flattened", shifts=(2,), dims=None)),
    ),
    OpCase(
        "repeat",
        ops.Repeat,
        lambda x, sizes: x.repeat(*sizes),
        lambda a, sizes: np.tile(a, sizes),
        attrs=repeat_sizes,
        examples=(ex(sizes=(2, 1, 2)),),
    ),
    OpCase(
        "tile",
        None,
        lambda x, sizes: x.tile(sizes),
        lambda a, sizes: np.tile(a, sizes),
        attrs=lambda shapes: repeat_sizes(shapes, fewer=True),
        examples=(ex(shapes=((2, 2, 1),), sizes=(2, 3)),),
    ),
    OpCase(
        "repeat_interleave",
        None,
        lambda x, repeats, dim: x.repeat_interleave(repeats, dim),
        repeat_interleave_ref,
        attrs=interleave_repeats,
        examples=(ex(repeats=mt.tensor([2, 0, 1]), dim=1), ex("int", repeats=2, dim=None)),
    ),
    # stacking: each joins along a dim of its own
    stacking_row("hstack", mt.hstack, lambda n: {0: None, 1: 0}.get(n, 1), ((2, 1), (2, 3))),
    stacking_row("vstack", mt.vstack, lambda n: 0 if n >= 2 else None, ((3,), (3,))),
    stacking_row("dstack", mt.dstack, lambda n: 2 if n >= 3 else None, ((2, 3), (2, 3))),
    stacking_row("column_stack", mt.column_stack, lambda n: 1 if n >= 2 else None, ((3,), (3,))),
]
