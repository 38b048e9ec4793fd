"""The op-case rows of the triangle and diagonal ops (microtensor/ops/triangular.py)."""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np

import microtensor as mt
from microtensor import ops

from .columns import MAX_SIDE, OpCase, Sample, any_shape, draw_tensors, ex, signed
from .scatter import INPLACE, call


def diag_embed_ref(v, offset, dim1, dim2):
    """Element i of v's last dim at [i + max(-offset, 0), i + max(offset, 0)] of dims
    dim1, dim2 (numpy's and PyTorch's diagonal convention), v's other dims in order."""
    ndim = v.ndim + 1
    d1, d2 = dim1 % ndim, dim2 % ndim
    side = v.shape[-1] + abs(offset)
    shape, rest = [], iter(v.shape[:-1])
    for d in range(ndim):
        shape.append(side if d in (d1, d2) else next(rest))
    out = np.zeros(shape)
    for pos in np.ndindex(v.shape):
        batch, i = iter(pos[:-1]), pos[-1]
        at = [
            i + max(-offset, 0) if d == d1 else i + max(offset, 0) if d == d2 else next(batch)
            for d in range(ndim)
        ]
        out[tuple(at)] = v[pos]
    return out


def diag_ref(a, diagonal):
    return np.diag(a, diagonal)


def scale_diagonal(x, v, offset):
    """x * 1 with its diagonal `offset` multiplied by v in place, through the view."""
    y = x * 1
    y.diagonal(offset).mul_(v)
    return y


def scale_diagonal_ref(a, v, offset):
    out = a.copy()
    i = np.arange(np.diagonal(a, offset).shape[-1])
    at = (i - min(offset, 0), i + max(offset, 0))
    out[at] = out[at] * v
    return out


@st.composite
def two_dims_of(draw, ndim: int) -> tuple:
    d1, d2 = draw(st.permutations(range(ndim)))[:2]
    return signed(draw, d1, ndim), signed(draw, d2, ndim)


@st.composite
def matrix_samples(draw, name: str, ndim: int | None = None, **choices) -> Sample:
    """Matrices (batched, unless ndim=2) and the attribute `name`, an offset of -3 to 3."""
    shape = draw(any_shape(min_dims=2, max_dims=ndim or 3))
    attrs = {name: draw(st.integers(-MAX_SIDE, MAX_SIDE))}
    return Sample(
        draw_tensors(draw, (shape,)),
        {**attrs, **{k: draw(st.sampled_from(v)) for k, v in choices.items()}},
    )


@st.composite
def diagonal_samples(draw) -> Sample:
    shape = draw(any_shape(min_dims=2))
    dim1, dim2 = draw(two_dims_of(len(shape)))
    return Sample(
        draw_tensors(draw, (shape,)),
        {"offset": draw(st.integers(-2, 2)), "dim1": dim1, "dim2": dim2},
    )


@st.composite
def diag_embed_samples(draw) -> Sample:
    shape = draw(any_shape(min_dims=1, max_dims=2))
    dim1, dim2 = draw(two_dims_of(len(shape) + 1))
    return Sample(
        draw_tensors(draw, (shape,)),
        {"offset": draw(st.integers(-2, 2)), "dim1": dim1, "dim2": dim2},
    )


@st.composite
def scaled_diagonals(draw) -> Sample:
    """A matrix, an offset with a diagonal of one element at least, and factors."""
    n, m = draw(st.integers(1, MAX_SIDE)), draw(st.integers(1, MAX_SIDE))
    offset = draw(st.integers(1 - n, m - 1))
    length = min(n + min(offset, 0), m - max(offset, 0))
    return Sample(
        draw_tensors(draw, ((n, m), draw(st.sampled_from([(), (length,)])))), {"offset": offset}
    )


@st.composite
def vectors_and_offsets(draw) -> Sample:
    n = draw(st.integers(1, MAX_SIDE))
    return Sample(draw_tensors(draw, ((n,),)), {"diagonal": draw(st.integers(-2, 2))})


ROWS = [
    OpCase(
        "tril",
        ops.Tril,
        call("tril"),
        lambda a, diagonal, inplace: np.tril(a, diagonal),
        samples=matrix_samples("diagonal", inplace=INPLACE),
        examples=(
            ex(shapes=((3, 3),), diagonal=0, inplace=False),
            ex("in-place", shapes=((2, 2, 3),), diagonal=1, inplace=True),
        ),
    ),
    OpCase(
        "triu",
        ops.Triu,
        call("triu"),
        lambda a, diagonal, inplace: np.triu(a, diagonal),
        samples=matrix_samples("diagonal", inplace=INPLACE),
        examples=(
            ex(shapes=((3, 3),), diagonal=0, inplace=False),
            ex("in-place", shapes=((2, 3),), diagonal=-1, inplace=True),
        ),
    ),
    OpCase(
        "diagonal",
        ops.Diagonal,
        lambda x, offset, dim1, dim2: x.diagonal(offset, dim1, dim2),
        lambda a, offset, dim1, dim2: np.diagonal(a, offset, dim1, dim2),
        samples=diagonal_samples(),
        examples=(ex(shapes=((2, 3, 3),), offset=1, dim1=-1, dim2=1),),
    ),
    OpCase(
        "diagonal-written-in-place",
        ops.CopySlices,
        scale_diagonal,
        scale_diagonal_ref,
        broadcasts=True,
        samples=scaled_diagonals(),
        examples=(ex(shapes=((3, 3), ()), offset=1),),
    ),
    OpCase(
        "diag_embed",
        ops.DiagEmbed,
        lambda x, offset, dim1, dim2: x.diag_embed(offset, dim1, dim2),
        diag_embed_ref,
        samples=diag_embed_samples(),
        examples=(ex(shapes=((2, 3),), offset=-1, dim1=0, dim2=2),),
    ),
    OpCase(
        "diag-of-a-vector",
        ops.DiagEmbed,
        lambda x, diagonal: x.diag(diagonal),
        diag_ref,
        samples=vectors_and_offsets(),
        examples=(ex(shapes=((3,),), diagonal=1),),
    ),
    OpCase(
        "diag-of-a-matrix",
        ops.Diagonal,
        lambda x, diagonal: mt.diag(x, diagonal),
        diag_ref,
        samples=matrix_samples("diagonal", ndim=2),
        examples=(ex(shapes=((3, 2),), diagonal=-1),),
    ),
    OpCase(
        "trace",
        ops.Diagonal,
        lambda x: x.trace(),
        np.trace,
        shapes=any_shape(2, 2).map(lambda s: (s,)),
    ),
]
